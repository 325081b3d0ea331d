/**
 * Calibration of the near-duplicate threshold of save (`deno task eval --duplicates`): every
 * hand-labelled pair of eval/duplicates/pairs.jsonl goes into a fresh PGlite through the real
 * path — memory `a` saved by MemoryService in a project of its own and embedded by the embed
 * worker, then memory `b` checked by the DuplicateFinder that save uses (query embedding of
 * b's text, search RPC's semantic side over a's project, no threshold) — and each threshold is
 * scored by precision and recall over the labels. The default per model is the threshold with
 * the best F1 (ties: the higher, i.e. fewer false alarms).
 */
import { ensureUser } from "../../shared/auth/api_keys.ts";
import { asUser } from "../../shared/db/as_user.ts";
import { migrate } from "../../shared/db/migrate.ts";
import { embedMemories } from "../../shared/embed/worker.ts";
import type { EmbeddingProvider } from "../../shared/embeddings/types.ts";
import { MemoryService } from "../../shared/memory/service.ts";
import { MemoryCache } from "../../shared/cache/memory.ts";
import { DuplicateFinder } from "../../shared/search/duplicates.ts";
import { openPglite } from "../local/pglite.ts";

export interface DuplicatePair {
  id: string;
  type: string;
  duplicate: boolean;
  a: { title?: string; content: string };
  b: { title?: string; content: string };
}

export interface ThresholdScore {
  threshold: number;
  precision: number;
  recall: number;
  f1: number;
  /** Pairs flagged (similarity ≥ threshold): true and false positives. */
  tp: number;
  fp: number;
}

export interface DuplicateCalibration {
  provider: string;
  model: string;
  pairs: { id: string; type: string; duplicate: boolean; similarity: number }[];
  sweep: ThresholdScore[];
  best: ThresholdScore;
  /** Held-out check: the threshold chosen on the odd-numbered pairs, scored on the even ones. */
  split: { chosen: number; held_out: ThresholdScore };
}

export async function loadPairs(path: string): Promise<DuplicatePair[]> {
  const text = await Deno.readTextFile(path);
  return text.split("\n").filter((l) => l.trim()).map((l, i) => {
    const p = JSON.parse(l) as DuplicatePair;
    if (typeof p.duplicate !== "boolean" || !p.a?.content || !p.b?.content) {
      throw new Error(`${path}: line ${i + 1} needs duplicate (boolean), a.content, b.content`);
    }
    return p;
  });
}

/** Precision, recall and F1 at every threshold from 0.30 to 0.99 in steps of 0.01. */
export function sweepThresholds(
  scored: { duplicate: boolean; similarity: number }[],
): ThresholdScore[] {
  const positives = scored.filter((s) => s.duplicate).length;
  const out: ThresholdScore[] = [];
  for (let t = 30; t <= 99; t++) {
    const threshold = t / 100;
    const flagged = scored.filter((s) => s.similarity >= threshold);
    const tp = flagged.filter((s) => s.duplicate).length;
    const fp = flagged.length - tp;
    const precision = flagged.length ? tp / flagged.length : 1;
    const recall = positives ? tp / positives : 0;
    const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
    out.push({ threshold, precision, recall, f1, tp, fp });
  }
  return out;
}

/** Best F1; among equals the highest threshold (fewest false alarms). */
export const bestThreshold = (sweep: ThresholdScore[]): ThresholdScore =>
  sweep.reduce((best, s) => (s.f1 >= best.f1 ? s : best));

/** Similarity of every pair as save's check measures it, under `provider`. */
export async function calibrateDuplicates(
  provider: EmbeddingProvider,
  pairs: DuplicatePair[],
): Promise<DuplicateCalibration> {
  const db = await openPglite();
  try {
    await migrate(db);
    const userId = await ensureUser(db, `dup-eval-${crypto.randomUUID()}@eval.local`);
    const service = new MemoryService(db);
    const finder = new DuplicateFinder(new MemoryCache(), provider, {
      thresholds: { [provider.model]: 0 },
    });
    const scored = [];
    for (const pair of pairs) {
      const { memory } = await service.save(userId, { ...pair.a, project: `pair-${pair.id}` });
      await embedMemories(db, provider, [memory.id]);
      const prepared = await finder.prepare(pair.b);
      const [near] = await asUser(db, userId, (tx) => finder.find(tx, memory.project_id, prepared));
      // Not found even at 0: a cosine below 0 (hash vectors of texts without a word in common).
      scored.push({
        id: pair.id,
        type: pair.type,
        duplicate: pair.duplicate,
        similarity: near?.similarity ?? 0,
      });
    }
    const sweep = sweepThresholds(scored);
    const chosen = bestThreshold(sweepThresholds(scored.filter((_, i) => i % 2 === 0))).threshold;
    const heldOut = sweepThresholds(scored.filter((_, i) => i % 2 === 1))
      .find((s) => s.threshold === chosen)!;
    return {
      provider: provider.name,
      model: provider.model,
      pairs: scored,
      sweep,
      best: bestThreshold(sweep),
      split: { chosen, held_out: heldOut },
    };
  } finally {
    await db.close();
  }
}

/** The sweep as a table, every 0.05 and the best threshold. */
export function duplicatesTable(c: DuplicateCalibration): string {
  const pct = (v: number) => `${(v * 100).toFixed(0)}%`.padStart(5);
  const rows = c.sweep.filter((s) =>
    Math.round(s.threshold * 100) % 5 === 0 || s.threshold === c.best.threshold
  );
  const byType = new Map<string, number[]>();
  for (const p of c.pairs) byType.set(p.type, [...(byType.get(p.type) ?? []), p.similarity]);
  const ranges = [...byType].map(([type, sims]) =>
    `${type}: ${Math.min(...sims).toFixed(3)}–${Math.max(...sims).toFixed(3)}`
  );
  return [
    `${c.provider} (${c.model}): similarity per pair type ${ranges.join(", ")}`,
    "threshold  precision  recall     F1  flagged (tp+fp)",
    ...rows.map((s) =>
      `${s.threshold.toFixed(2).padStart(9)}  ${pct(s.precision).padStart(9)}  ${
        pct(s.recall).padStart(6)
      }  ${s.f1.toFixed(3).padStart(5)}  ${s.tp}+${s.fp}${
        s.threshold === c.best.threshold ? "   <- best F1" : ""
      }`
    ),
    `held out: chosen on the odd pairs ${c.split.chosen.toFixed(2)}, on the even pairs precision ${
      pct(c.split.held_out.precision).trim()
    }, recall ${pct(c.split.held_out.recall).trim()}, F1 ${c.split.held_out.f1.toFixed(3)}`,
  ].join("\n");
}
