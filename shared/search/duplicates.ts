import type { Cache } from "../cache/types.ts";
import type { Queryable } from "../db/types.ts";
import { embeddingText } from "../embed/worker.ts";
import type { EmbeddingProvider } from "../embeddings/types.ts";
import { log } from "../log.ts";
import type { DuplicateDetector, NearDuplicate, PreparedCheck } from "../memory/duplicates.ts";
import { REAL_TIMERS, type Timers } from "../periodic.ts";
import { embedQuery } from "./query_embedding.ts";
import { searchRpc } from "./rpc.ts";

/**
 * Cosine similarity from which a memory counts as a near-duplicate of a new one, per embedding
 * model. Calibrated on eval/duplicates/pairs.jsonl (docs/eval.md, "Near-duplicates at save
 * time": `deno task eval --duplicates`): the threshold with the best F1 (ties: the higher one).
 * A model without a calibrated threshold gets no check (the save says it was skipped), as with
 * the relevance floor: cosines spread too differently between models for one number.
 */
export const DUPLICATE_THRESHOLDS: Readonly<Record<string, number>> = {
  "minilm-l6-v2-q4": 0.80,
  "hash-v2": 0.50,
};

/** Near-duplicates reported per save, closest first. */
export const MAX_NEAR_DUPLICATES = 3;

/** How long a save waits for the new text's embedding before it skips the check. */
export const DUPLICATE_CHECK_TIMEOUT_MS = 3_000;

export interface DuplicateFinderOptions {
  timeoutMs?: number;
  timers?: Timers;
  /** Per model; DUPLICATE_THRESHOLDS by default. */
  thresholds?: Readonly<Record<string, number>>;
}

/**
 * The near-duplicate check of a save: the new memory's text (title + content, as the embed
 * worker embeds it) through the query-embedding path of search (cached by text), then the
 * search RPC's semantic side over the same project, floored at the model's threshold. The
 * stored memories are compared by their own vectors, so rows still pending embedding are not
 * found (exact duplicates are, by content hash, elsewhere).
 */
export class DuplicateFinder implements DuplicateDetector {
  readonly #timeoutMs: number;
  readonly #timers: Timers;
  readonly #thresholds: Readonly<Record<string, number>>;

  constructor(
    readonly cache: Cache,
    readonly embedder: EmbeddingProvider,
    opts: DuplicateFinderOptions = {},
  ) {
    this.#timeoutMs = opts.timeoutMs ?? DUPLICATE_CHECK_TIMEOUT_MS;
    this.#timers = opts.timers ?? REAL_TIMERS;
    this.#thresholds = opts.thresholds ?? DUPLICATE_THRESHOLDS;
  }

  async prepare(memory: { title?: string | null; content: string }): Promise<PreparedCheck> {
    const { model } = this.embedder;
    const threshold = this.#thresholds[model];
    if (threshold === undefined) {
      return {
        check: {
          status: "skipped",
          reason: `no calibrated near-duplicate threshold for the embedding model '${model}'`,
        },
        vector: null,
      };
    }
    const text = embeddingText({ title: memory.title ?? null, content: memory.content });
    let timer: unknown;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = this.#timers.setTimeout(() => resolve("timeout"), this.#timeoutMs);
    });
    try {
      const vector = await Promise.race([embedQuery(this.cache, this.embedder, text), timeout]);
      if (vector === "timeout") {
        return {
          check: {
            status: "skipped",
            reason: `the embedding took longer than ${this.#timeoutMs} ms`,
          },
          vector: null,
        };
      }
      return { check: { status: "checked", model, threshold }, vector };
    } catch (err) {
      log.warn("save: embedding for the near-duplicate check failed; saving without it", err);
      return {
        check: { status: "skipped", reason: "the embedding provider failed" },
        vector: null,
      };
    } finally {
      this.#timers.clearTimeout(timer);
    }
  }

  async find(
    tx: Queryable,
    projectId: string,
    prepared: PreparedCheck,
    excludeId?: string,
  ): Promise<NearDuplicate[]> {
    if (prepared.check.status !== "checked" || !prepared.vector) return [];
    const { model, threshold } = prepared.check;
    const hits = await searchRpc(tx, {
      query_text: "",
      query_embedding: prepared.vector,
      mode: "semantic",
      match_count: MAX_NEAR_DUPLICATES + 1,
      project_ids: [projectId],
      embedding_model: model,
      min_similarity: threshold,
    });
    return hits
      .filter((h) => h.id !== excludeId && (h.semantic_score ?? 0) >= threshold)
      .slice(0, MAX_NEAR_DUPLICATES)
      .map((h) => ({
        id: h.id,
        project: h.project,
        kind: h.kind,
        title: h.title,
        similarity: Math.round(h.semantic_score! * 10_000) / 10_000,
        updated_at: h.updated_at,
      }));
  }
}
