import type { Queryable } from "../db/types.ts";
import { log } from "../log.ts";

export interface AccessTrackerOptions {
  /** How long ids are collected before one UPDATE writes them all. */
  flushAfterMs?: number;
  /** Pending ids kept at most; beyond that a flush starts at once. */
  maxPending?: number;
}

/** Supabase Edge Runtime keeps the isolate alive for promises handed to waitUntil. */
const waitUntil = (promise: Promise<unknown>) =>
  (globalThis as { EdgeRuntime?: { waitUntil?(p: Promise<unknown>): void } }).EdgeRuntime
    ?.waitUntil?.(promise);

/**
 * Records that search returned memories (last_accessed_at, access_count) off the request path:
 * ids are collected in memory and written by one privileged UPDATE per interval, after the
 * responses went out. Reads therefore take no row locks and write no WAL, and a burst of
 * searches costs one statement. Best effort by design: rows locked by a writer at that moment
 * are skipped, and a failed flush is logged and dropped (these are statistics, not data).
 */
export class AccessTracker {
  readonly #db: Queryable;
  readonly #flushAfterMs: number;
  readonly #maxPending: number;
  #pending = new Map<string, number>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #wake: (() => void) | undefined;
  #flushing: Promise<void> = Promise.resolve();

  constructor(db: Queryable, opts: AccessTrackerOptions = {}) {
    this.#db = db;
    this.#flushAfterMs = opts.flushAfterMs ?? 1_000;
    this.#maxPending = opts.maxPending ?? 5_000;
  }

  record(ids: readonly string[]): void {
    for (const id of ids) this.#pending.set(id, (this.#pending.get(id) ?? 0) + 1);
    if (this.#pending.size >= this.#maxPending) this.#fire();
    else this.#schedule();
  }

  /** Writes everything recorded so far (also waits for a flush already under way). */
  flush(): Promise<void> {
    const batch = this.#pending;
    this.#pending = new Map();
    this.#flushing = this.#flushing.then(() => this.#write(batch));
    return this.#flushing;
  }

  /** Flushes and stops the timer (call before closing the database). */
  async close(): Promise<void> {
    this.#fire();
    await this.#flushing;
  }

  #schedule(): void {
    if (this.#timer !== undefined || this.#pending.size === 0) return;
    const done = new Promise<void>((resolve) => (this.#wake = resolve));
    this.#timer = setTimeout(() => this.#fire(), this.#flushAfterMs);
    waitUntil(done);
  }

  #fire(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const wake = this.#wake;
    this.#wake = undefined;
    const flushed = this.flush();
    if (wake) flushed.finally(wake);
  }

  async #write(batch: Map<string, number>): Promise<void> {
    if (batch.size === 0) return;
    // Sorted and locked in that order, so concurrent flushers (several isolates) cannot
    // deadlock; SKIP LOCKED never waits behind a user's write.
    const ids = [...batch.keys()].sort();
    try {
      await this.#db.query(
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
        [ids, ids.map((id) => batch.get(id)!)],
      );
    } catch (err) {
      log.warn("search: recording memory access failed", err);
    }
  }
}
