import type { Cache } from "./types.ts";

export interface MemoryCacheOptions {
  /** Most values kept; the least recently used go first. Counters have a cap of their own. */
  maxEntries?: number;
  /** Injectable clock (epoch ms) for tests. */
  now?: () => number;
}

interface Entry {
  json: string;
  expiresAt: number;
}

/**
 * Process-local cache with Redis-like semantics: values are stored as JSON text (so callers
 * get copies and the same round trip as Redis), TTLs expire lazily, and a Map's insertion
 * order serves as the LRU list (a hit re-inserts the key).
 *
 * Counters live apart from values so that LRU churn of values never evicts one: a lost
 * generation counter would restart at 0 and could revive stale entries cached under an
 * older generation with the same number. When counters themselves overflow, all values are
 * dropped with the evicted counter, which keeps that guarantee.
 */
export class MemoryCache implements Cache {
  readonly kind = "memory" as const;
  readonly #values = new Map<string, Entry>();
  readonly #counters = new Map<string, number>();
  readonly #max: number;
  readonly #now: () => number;

  constructor(opts: MemoryCacheOptions = {}) {
    this.#max = opts.maxEntries ?? 10_000;
    this.#now = opts.now ?? Date.now;
  }

  get<T>(key: string): Promise<T | null> {
    return Promise.resolve(this.#read<T>(key));
  }

  mget<T>(...keys: string[]): Promise<(T | null)[]> {
    return Promise.resolve(keys.map((k) => this.#read<T>(k)));
  }

  set(key: string, value: unknown, ttlSeconds: number): Promise<void> {
    const json = JSON.stringify(value);
    if (json === undefined) return Promise.reject(new TypeError("value is not JSON"));
    this.#counters.delete(key);
    this.#values.delete(key);
    this.#values.set(key, { json, expiresAt: this.#now() + ttlSeconds * 1000 });
    if (this.#values.size > this.#max) this.#values.delete(this.#values.keys().next().value!);
    return Promise.resolve();
  }

  del(...keys: string[]): Promise<void> {
    for (const k of keys) {
      this.#values.delete(k);
      this.#counters.delete(k);
    }
    return Promise.resolve();
  }

  incr(key: string): Promise<number> {
    let current = this.#counters.get(key) ?? 0;
    const entry = this.#live(key);
    if (entry) {
      // Like Redis INCR on a string value: allowed when it holds an integer.
      const parsed: unknown = JSON.parse(entry.json);
      if (!Number.isSafeInteger(parsed)) {
        return Promise.reject(new Error("ERR value is not an integer or out of range"));
      }
      current = parsed as number;
      this.#values.delete(key);
    }
    this.#counters.delete(key); // re-insert: most recently used
    this.#counters.set(key, current + 1);
    if (this.#counters.size > this.#max) {
      this.#counters.delete(this.#counters.keys().next().value!);
      this.#values.clear();
    }
    return Promise.resolve(current + 1);
  }

  #read<T>(key: string): T | null {
    const counter = this.#counters.get(key);
    if (counter !== undefined) return counter as T;
    const entry = this.#live(key);
    if (!entry) return null;
    this.#values.delete(key); // re-insert: most recently used
    this.#values.set(key, entry);
    return JSON.parse(entry.json) as T;
  }

  #live(key: string): Entry | undefined {
    const entry = this.#values.get(key);
    if (entry && entry.expiresAt <= this.#now()) {
      this.#values.delete(key);
      return undefined;
    }
    return entry;
  }
}
