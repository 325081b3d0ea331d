/** One cache interface over Upstash Redis and process memory. Values are JSON. */
export interface Cache {
  readonly kind: "memory" | "upstash";
  get<T>(key: string): Promise<T | null>;
  set(key: string, value: unknown, ttlSeconds: number): Promise<void>;
  del(...keys: string[]): Promise<void>;
  /**
   * Atomically increments an integer counter (created at 0) and returns the new value; used as
   * generation counters for invalidation. Through createCache() a failed increment returns -1
   * (see resilient.ts): a negative generation means "unknown, do not cache under it".
   */
  incr(key: string): Promise<number>;
  /** Reads several values in one round trip (counters or JSON); missing → null. */
  mget<T>(...keys: string[]): Promise<(T | null)[]>;
}

export interface RateLimitResult {
  success: boolean;
  limit: number;
  remaining: number;
  /** Epoch ms when the current window ends. */
  reset: number;
}

export interface RateLimiter {
  /**
   * Counts `cost` operations (default 1) for `identifier`. As @upstash/ratelimit does, a caller
   * already at the limit is refused without counting; one that goes over with this cost is
   * refused too, and what it asked for still counts.
   */
  limit(identifier: string, cost?: number): Promise<RateLimitResult>;
}
