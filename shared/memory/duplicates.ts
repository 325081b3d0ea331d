import type { Queryable } from "../db/types.ts";
import type { MemoryKind } from "./limits.ts";

/** An existing memory of the same project that a new one is very close to in meaning. */
export interface NearDuplicate {
  id: string;
  project: string;
  kind: MemoryKind;
  title: string | null;
  /** Cosine similarity of the two texts under the deployment's embedding model (0..1). */
  similarity: number;
  updated_at: string;
}

/** Whether the near-duplicate check ran for a save, and under which threshold. */
export type DuplicateCheck =
  | { status: "checked"; model: string; threshold: number }
  | { status: "skipped"; reason: string };

/** A new memory's text, embedded (or not) before the save's transaction starts. */
export interface PreparedCheck {
  check: DuplicateCheck;
  vector: number[] | null;
}

/**
 * Finds near-duplicates at save time (implemented in shared/search/duplicates.ts, over the
 * search RPC). `prepare` embeds outside any transaction, bounded in time; `find` runs as the
 * user inside the save's transaction.
 */
export interface DuplicateDetector {
  prepare(memory: { title?: string | null; content: string }): Promise<PreparedCheck>;
  find(
    tx: Queryable,
    projectId: string,
    prepared: PreparedCheck,
    excludeId?: string,
  ): Promise<NearDuplicate[]>;
}

/** A detector that never runs (no embedder wired): every save says the check was skipped. */
export const NO_DUPLICATE_CHECK: DuplicateDetector = {
  prepare: () =>
    Promise.resolve({
      check: { status: "skipped", reason: "no duplicate check configured" },
      vector: null,
    }),
  find: () => Promise.resolve([]),
};
