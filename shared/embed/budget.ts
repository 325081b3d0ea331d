import type { Queryable } from "../db/types.ts";
import type { EmbeddingProvider } from "../embeddings/types.ts";
import { embedMemories, type EmbedOutcome } from "./worker.ts";

/**
 * Time `embed` may spend on one request with the `supabase` provider. gte-small runs inside the
 * function's own isolate, so its work counts against Edge Runtime's 2 s of CPU per request; the
 * rest of the 2 s is left for parsing, the driver and the response. Other providers wait on the
 * network, which costs no CPU time.
 */
export const SUPABASE_EMBED_BUDGET_MS = 1_200;

/** Rows in the first slice, before the cost per row is known. */
const PROBE_ROWS = 4;
/** Rows in a slice at most: the worker stores vectors 32 rows at a time. */
const MAX_SLICE_ROWS = 32;

export interface BudgetOptions {
  budgetMs: number;
  /** Milliseconds; tests pass a clock the provider advances. */
  now?: () => number;
}

/** An outcome with the ids left for the sweep. */
export type BudgetedOutcome = EmbedOutcome & {
  /** Not reached within the budget: still pending, no attempt counted; the sweep re-sends them. */
  deferred: string[];
};

/**
 * Embeds `ids` slice by slice while the budget lasts. The first slice is a small probe; each
 * later one holds as many rows as the remaining time allows at the cost per row measured so far,
 * so a request stops before it overruns instead of after. Rows not reached are left as they
 * are (pending) and reported as `deferred`: the sweep picks them up, as it does for any row a
 * webhook did not settle.
 */
export async function embedWithinBudget(
  db: Queryable,
  embedder: EmbeddingProvider,
  ids: string[],
  opts: BudgetOptions,
): Promise<BudgetedOutcome> {
  const now = opts.now ?? (() => performance.now());
  const started = now();
  const total: BudgetedOutcome = {
    model: embedder.model,
    embedded: [],
    skipped: [],
    missing: [],
    failed: [],
    deferred: [],
  };
  let done = 0;
  while (done < ids.length) {
    const spent = now() - started;
    const rows = done === 0
      ? PROBE_ROWS
      : Math.min(MAX_SLICE_ROWS, Math.floor((opts.budgetMs - spent) / (spent / done)));
    if (rows < 1) break;
    const slice = ids.slice(done, done + rows);
    const outcome = await embedMemories(db, embedder, slice);
    for (const key of ["embedded", "skipped", "missing", "failed"] as const) {
      total[key].push(...outcome[key]);
    }
    done += slice.length;
    if (outcome.error !== undefined) {
      // The provider is failing: leave the rest to the sweep's backoff, like the failed rows.
      total.error = outcome.error;
      break;
    }
  }
  total.deferred = ids.slice(done);
  return total;
}
