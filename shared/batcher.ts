import { log } from "./log.ts";
import { Backoff, REAL_TIMERS, type Timers } from "./periodic.ts";

export interface BatcherOptions<T> {
  /** Writes one batch; a rejection is logged and the batch dropped (best effort by design). */
  write(batch: T[]): Promise<void>;
  /** How long items are collected before one write takes them all. */
  flushAfterMs?: number;
  /** Items kept at most; reaching it starts a write at once. */
  maxPending?: number;
  /** Names the batcher in the log line of a failed write. */
  label?: string;
  /**
   * Longest wait after failed writes: the wait doubles from flushAfterMs with each failure in
   * a row, up to this (default 60 s), so a lost database costs few log lines.
   */
  maxBackoffMs?: number;
  timers?: Timers;
}

/** Supabase Edge Runtime keeps the isolate alive for promises handed to waitUntil. */
export function waitUntil(promise: Promise<unknown>): void {
  (globalThis as { EdgeRuntime?: { waitUntil?(p: Promise<unknown>): void } }).EdgeRuntime
    ?.waitUntil?.(promise);
}

/**
 * Collects items on the request path and writes them later, in batches, off it: `add` is
 * synchronous and never waits for the database. A write starts `flushAfterMs` after the first
 * pending item or as soon as `maxPending` are waiting; writes run one at a time, in order.
 * After a failed write the next waits longer (exponential, capped), and meanwhile at most
 * `maxPending` items are kept: the oldest give way.
 */
export class Batcher<T> {
  readonly #opts: Required<BatcherOptions<T>>;
  readonly #backoff: Backoff;
  #pending: T[] = [];
  #timer: unknown;
  #wake: (() => void) | undefined;
  #writing: Promise<void> = Promise.resolve();

  constructor(opts: BatcherOptions<T>) {
    this.#opts = {
      flushAfterMs: 1_000,
      maxPending: 500,
      label: "batch",
      maxBackoffMs: 60_000,
      timers: REAL_TIMERS,
      ...opts,
    };
    this.#backoff = new Backoff(
      this.#opts.flushAfterMs,
      Math.max(this.#opts.flushAfterMs, this.#opts.maxBackoffMs),
    );
  }

  get pending(): number {
    return this.#pending.length;
  }

  add(item: T): void {
    const full = this.#pending.length >= this.#opts.maxPending;
    const failing = this.#backoff.failures > 0;
    if (full && failing) this.#pending.shift();
    this.#pending.push(item);
    if (this.#pending.length >= this.#opts.maxPending && !failing) this.#fire();
    else this.#schedule();
  }

  /** Writes everything added so far; resolves once it (and any earlier write) is done. */
  flush(): Promise<void> {
    const batch = this.#pending;
    this.#pending = [];
    this.#writing = this.#writing.then(() => this.#write(batch));
    return this.#writing;
  }

  /** Flushes and stops the timer (call before closing the database). */
  async close(): Promise<void> {
    this.#fire();
    await this.#writing;
  }

  #schedule(): void {
    if (this.#timer !== undefined) return;
    // On Supabase the isolate may be frozen once the response is out: keep it alive until the
    // timer's write is done.
    const done = new Promise<void>((resolve) => (this.#wake = resolve));
    this.#timer = this.#opts.timers.setTimeout(() => this.#fire(), this.#backoff.delay);
    waitUntil(done);
  }

  #fire(): void {
    this.#opts.timers.clearTimeout(this.#timer);
    this.#timer = undefined;
    const wake = this.#wake;
    this.#wake = undefined;
    const written = this.flush();
    if (wake) written.finally(wake);
  }

  async #write(batch: T[]): Promise<void> {
    if (batch.length === 0) return;
    try {
      await this.#opts.write(batch);
      this.#backoff.succeed();
    } catch (err) {
      const wait = this.#backoff.fail();
      log.warn(
        `${this.#opts.label}: write of ${batch.length} items failed (${this.#backoff.failures} in a row); dropped; next write in ${wait} ms at the earliest`,
        err,
      );
    }
  }
}
