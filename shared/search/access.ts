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
 * ids are collected in memory and written by one privileged UPDATE per interval, after the
 * responses went out. Reads therefore take no row locks and write no WAL, and a burst of
 * searches costs one statement. Best effort by design: rows locked by a writer at that moment
 * are skipped, and a failed flush is logged and dropped (these are statistics, not data).
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
  // Sorted and locked in that order, so concurrent flushers (several isolates) cannot
  // deadlock; SKIP LOCKED never waits behind a user's write.
  const ids = [...hits.keys()].sort();
  await db.query(
    `with hits as (
       select u.id, u.n from unnest($1::uuid[], $2::int[]) as u(id, n)
     ), locked as (
       select m.id from public.memories m
       where m.id = any ($1::uuid[]) order by m.id for update skip locked
     )
     update public.memories m
     set last_accessed_at = now(), access_count = m.access_count + hits.n
     from hits join locked using (id)
     where m.id = hits.id`,
    [ids, ids.map((id) => hits.get(id)!)],
  );
}
