import { log } from "./log.ts";

export interface BatcherOptions<T> {
  /** Writes one batch; a rejection is logged and the batch dropped (best effort by design). */
  write(batch: T[]): Promise<void>;
  /** How long items are collected before one write takes them all. */
  flushAfterMs?: number;
  /** Items kept at most; reaching it starts a write at once. */
  maxPending?: number;
  /** Names the batcher in the log line of a failed write. */
  label?: string;
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
 */
export class Batcher<T> {
  readonly #opts: Required<BatcherOptions<T>>;
  #pending: T[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #wake: (() => void) | undefined;
  #writing: Promise<void> = Promise.resolve();

  constructor(opts: BatcherOptions<T>) {
    this.#opts = { flushAfterMs: 1_000, maxPending: 500, label: "batch", ...opts };
  }

  get pending(): number {
    return this.#pending.length;
  }

  add(item: T): void {
    this.#pending.push(item);
    if (this.#pending.length >= this.#opts.maxPending) this.#fire();
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
    this.#timer = setTimeout(() => this.#fire(), this.#opts.flushAfterMs);
    waitUntil(done);
  }

  #fire(): void {
    clearTimeout(this.#timer);
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
    } catch (err) {
      log.warn(`${this.#opts.label}: write of ${batch.length} items failed; dropped`, err);
    }
  }
}
