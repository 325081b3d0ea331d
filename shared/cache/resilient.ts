import type { Cache } from "./types.ts";

export interface GuardOptions {
  log?: (msg: string) => void;
  /** After a failure the backend is skipped this long, then the next call probes it. */
  retryAfterMs?: number;
  now?: () => number;
}

/**
 * Health of one optional backend: logs once when an outage starts and once when it ends, and
 * after a failure skips the backend for a while, since against an unreachable host every call
 * would otherwise spend a full timeout before falling back.
 */
export class OutageGuard {
  #down = false;
  #skipUntil = 0;
  readonly #log: (msg: string) => void;
  readonly #retryAfterMs: number;
  readonly #now: () => number;

  constructor(readonly what: string, readonly fallback: string, opts: GuardOptions = {}) {
    this.#log = opts.log ?? console.warn;
    this.#retryAfterMs = opts.retryAfterMs ?? 2_000;
    this.#now = opts.now ?? Date.now;
  }

  /** True while calls should not even be tried. */
  get skipping(): boolean {
    return this.#down && this.#now() < this.#skipUntil;
  }

  ok(): void {
    if (!this.#down) return;
    this.#down = false;
    this.#log(`${this.what} available again`);
  }

  fail(err: unknown): void {
    this.#skipUntil = this.#now() + this.#retryAfterMs;
    if (this.#down) return;
    this.#down = true;
    this.#log(`${this.what} unavailable: ${describe(err)}; ${this.fallback}`);
  }
}

/** "fetch failed" alone hides why: add the cause (e.g. connection refused). */
function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? err.cause.message : "";
  return cause && !err.message.includes(cause) ? `${err.message}: ${cause}` : err.message;
}

/**
 * Makes any Cache optional: on an error `get`/`mget` miss, `set` does nothing, `incr`
 * returns -1, and nothing throws.
 *
 * Why invalidations are kept and replayed: callers cache results under a generation counter
 * (`incr` on writes) and delete entries (`del`). While Redis is unreachable nothing is served
 * from it, so nothing stale is served either; the danger is afterwards. If Redis kept its data
 * (a network blip rather than a wipe), entries cached before the outage still sit under the
 * old generation, and the bump that should have retired them was lost. So failed `incr` and
 * `del` keys are remembered and replayed before any other call once Redis answers again; a
 * reader therefore never sees a generation older than a write this process made. The -1 from a
 * failed `incr` tells callers the generation is unknown: cache nothing under it. Remembered
 * keys are bounded (oldest dropped first); cache TTLs bound staleness past that, and across
 * processes, anyway.
 */
export class ResilientCache implements Cache {
  readonly #inner: Cache;
  readonly #guard: OutageGuard;
  readonly #bumps = new Set<string>();
  readonly #dels = new Set<string>();
  readonly #maxPending: number;
  #replaying: Promise<void> | null = null;

  constructor(inner: Cache, opts: GuardOptions & { maxPending?: number } = {}) {
    this.#inner = inner;
    this.#guard = new OutageGuard("cache", "continuing uncached", opts);
    this.#maxPending = opts.maxPending ?? 10_000;
  }

  get kind(): Cache["kind"] {
    return this.#inner.kind;
  }

  get<T>(key: string): Promise<T | null> {
    return this.#call(() => this.#inner.get<T>(key), null);
  }

  mget<T>(...keys: string[]): Promise<(T | null)[]> {
    return this.#call(() => this.#inner.mget<T>(...keys), keys.map(() => null));
  }

  set(key: string, value: unknown, ttlSeconds: number): Promise<void> {
    return this.#call(() => this.#inner.set(key, value, ttlSeconds), undefined);
  }

  del(...keys: string[]): Promise<void> {
    return this.#call(() => this.#inner.del(...keys), undefined, () => {
      for (const k of keys) remember(this.#dels, k, this.#maxPending);
    });
  }

  incr(key: string): Promise<number> {
    return this.#call(() => this.#inner.incr(key), -1, (err) => {
      // A key that holds no integer fails the same way every time: replaying it would only
      // keep the cache "down".
      if (!isNotAnInteger(err)) remember(this.#bumps, key, this.#maxPending);
    });
  }

  async #call<T>(op: () => Promise<T>, fallback: T, onFail?: (err: unknown) => void) {
    try {
      if (this.#guard.skipping) throw skipped;
      await this.#replay();
      const result = await op();
      this.#guard.ok();
      return result;
    } catch (err) {
      onFail?.(err);
      if (err !== skipped) this.#guard.fail(err);
      return fallback;
    }
  }

  /**
   * Applies invalidations that failed earlier, once, however many calls wait on it; throws
   * (keeping them) while Redis still fails.
   */
  #replay(): Promise<void> {
    if (this.#bumps.size === 0 && this.#dels.size === 0) return this.#replaying ?? done;
    this.#replaying ??= this.#replayPending().finally(() => (this.#replaying = null));
    return this.#replaying;
  }

  async #replayPending(): Promise<void> {
    const bumps = [...this.#bumps];
    const dels = [...this.#dels];
    this.#bumps.clear();
    this.#dels.clear();
    try {
      await Promise.all([
        ...bumps.map((k) => this.#inner.incr(k)),
        dels.length ? this.#inner.del(...dels) : undefined,
      ]);
    } catch (err) {
      // Bumping twice is harmless (any new generation retires the old entries), so on a
      // partial failure keep them all.
      for (const k of bumps) remember(this.#bumps, k, this.#maxPending);
      for (const k of dels) remember(this.#dels, k, this.#maxPending);
      throw err;
    }
  }
}

const done = Promise.resolve();
const skipped = new Error("skipped during an outage");

function isNotAnInteger(err: unknown): boolean {
  return err instanceof Error && /not an integer|WRONGTYPE/.test(err.message);
}

function remember(set: Set<string>, key: string, max: number): void {
  set.delete(key);
  set.add(key);
  if (set.size > max) set.delete(set.values().next().value!);
}
