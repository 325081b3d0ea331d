import { Batcher } from "../batcher.ts";
import type { Queryable } from "../db/types.ts";

export interface AccessTrackerOptions {
  /** How long ids are collected before one UPDATE writes them all. */
  flushAfterMs?: number;
  /** Recorded ids (repeats included) kept at most; reaching it starts a flush at once. */
  maxPending?: number;
}

/**
 * Records that search returned memories (last_accessed_at, access_count) off the request path:
 * ids are collected in memory and added by one privileged upsert per interval, after the
 * responses went out, to private.memory_access, a narrow table that
 * private.fold_memory_access() moves into memories every 10 minutes (pg_cron; the embedded
 * stack's timer). Reads therefore take no row locks, a burst of searches costs one cheap
 * statement, and a memory's wide row (13 indexes, HNSW included) is rewritten at most once per
 * fold however often it is returned. Best effort by design: a failed flush is logged and dropped
 * (these are statistics, not data).
 */
export class AccessTracker {
  readonly #batcher: Batcher<string>;

  constructor(db: Queryable, opts: AccessTrackerOptions = {}) {
    this.#batcher = new Batcher<string>({
      flushAfterMs: opts.flushAfterMs ?? 1_000,
      maxPending: opts.maxPending ?? 5_000,
      label: "search: recording memory access",
      write: (ids) => writeAccess(db, ids),
    });
  }

  record(ids: readonly string[]): void {
    for (const id of ids) this.#batcher.add(id);
  }

  /** Writes everything recorded so far (also waits for a flush already under way). */
  flush(): Promise<void> {
    return this.#batcher.flush();
  }

  /** Flushes and stops the timer (call before closing the database). */
  close(): Promise<void> {
    return this.#batcher.close();
  }
}

async function writeAccess(db: Queryable, recorded: string[]): Promise<void> {
  const hits = new Map<string, number>();
  for (const id of recorded) hits.set(id, (hits.get(id) ?? 0) + 1);
  // Sorted, so that concurrent flushers (several isolates) take the keys in the same order and
  // cannot deadlock.
  const ids = [...hits.keys()].sort();
  await db.query(
    `insert into private.memory_access as a (memory_id, last_accessed_at, hits)
     select u.id, now(), u.n from unnest($1::uuid[], $2::int[]) as u(id, n)
     on conflict (memory_id) do update
     set last_accessed_at = excluded.last_accessed_at,
         hits = least(a.hits::bigint + excluded.hits, 2147483647)::int`,
    [ids, ids.map((id) => hits.get(id)!)],
  );
}

/** Moves the collected access statistics into memories (what pg_cron runs every 10 minutes). */
export async function foldAccess(db: Queryable): Promise<number> {
  const [{ folded }] = await db.query<{ folded: number }>(
    "select private.fold_memory_access() as folded",
  );
  return folded;
}
