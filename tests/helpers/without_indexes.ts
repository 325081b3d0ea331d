import type { Database, Queryable } from "../../shared/db/types.ts";

const ROLLBACK = Symbol("rollback");

/**
 * Runs fn in a transaction in which the named indexes of public.memories do not exist (dropped,
 * then rolled back with everything fn did): a query's results without those access paths, when
 * settings cannot force them off (a function's own `set enable_… = off` wins over the caller's).
 */
export async function withoutIndexes<T>(
  db: Database,
  indexes: string[],
  fn: (tx: Queryable) => Promise<T>,
): Promise<T> {
  let result: T | undefined;
  await db.transaction(async (tx) => {
    for (const name of indexes) await tx.query(`drop index if exists public.${name}`);
    result = await fn(tx);
    throw ROLLBACK;
  }).catch((err) => {
    if (err !== ROLLBACK) throw err;
  });
  return result as T;
}

/** The lexeme indexes, without which the keyword side must read the heap. */
export const LEXEME_INDEXES = ["memories_fts_idx", "memories_project_fts_idx"];
