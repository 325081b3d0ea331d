import { Ratelimit } from "@upstash/ratelimit";
import type { Redis } from "@upstash/redis";
import { type GuardOptions, OutageGuard } from "./resilient.ts";
import type { RateLimiter, RateLimitResult } from "./types.ts";

export interface WindowOptions {
  requests: number;
  windowSeconds: number;
}

/** @upstash/ratelimit's sliding window, with keys under `prefix`. */
export function upstashRateLimiter(
  redis: Redis,
  opts: WindowOptions & { prefix: string },
): RateLimiter {
  const rl = new Ratelimit({
    redis,
    limiter: Ratelimit.slidingWindow(opts.requests, `${opts.windowSeconds} s`),
    prefix: opts.prefix,
    analytics: false,
    enableTelemetry: false,
    // Its own timeout would answer success with limit 0 and reset 0; the Redis client's
    // request timeout makes the call throw instead, and failOpen answers sensibly.
    timeout: 0,
  });
  return {
    async limit(identifier, cost = 1) {
      const { success, limit, remaining, reset } = await rl.limit(identifier, { rate: cost });
      return { success, limit, remaining, reset };
    },
  };
}

interface Counts {
  window: number;
  current: number;
  previous: number;
}

/**
 * In-process sliding window with the same approximation as @upstash/ratelimit: the previous
 * fixed window's count, weighted by how much of it still overlaps the sliding window, plus the
 * current window's count. Memory is bounded: the least recently seen identifiers go first.
 */
export class MemoryRateLimiter implements RateLimiter {
  readonly #counts = new Map<string, Counts>();
  readonly #windowMs: number;
  readonly #requests: number;
  readonly #maxIdentifiers: number;
  readonly #now: () => number;

  constructor(opts: WindowOptions & { maxIdentifiers?: number; now?: () => number }) {
    this.#requests = opts.requests;
    this.#windowMs = opts.windowSeconds * 1000;
    this.#maxIdentifiers = opts.maxIdentifiers ?? 10_000;
    this.#now = opts.now ?? Date.now;
  }

  limit(identifier: string, cost = 1): Promise<RateLimitResult> {
    const now = this.#now();
    const window = Math.floor(now / this.#windowMs);
    const old = this.#counts.get(identifier);
    const counts: Counts = old?.window === window
      ? old
      : { window, current: 0, previous: old?.window === window - 1 ? old.current : 0 };
    this.#counts.delete(identifier); // re-insert: most recently seen
    this.#counts.set(identifier, counts);
    if (this.#counts.size > this.#maxIdentifiers) {
      this.#counts.delete(this.#counts.keys().next().value!);
    }

    const overlap = 1 - (now % this.#windowMs) / this.#windowMs;
    const used = Math.floor(overlap * counts.previous) + counts.current;
    const reset = (window + 1) * this.#windowMs;
    if (used >= this.#requests) {
      return Promise.resolve({ success: false, limit: this.#requests, remaining: 0, reset });
    }
    counts.current += cost;
    const remaining = this.#requests - used - cost;
    return Promise.resolve({
      success: remaining >= 0,
      limit: this.#requests,
      remaining: Math.max(0, remaining),
      reset,
    });
  }
}

/**
 * Rate limiting must not take the service down with Redis: on an error the request is
 * allowed (logged once per outage), and during the outage Redis is not even asked.
 */
export function failOpen(
  inner: RateLimiter,
  opts: WindowOptions & GuardOptions,
): RateLimiter {
  const guard = new OutageGuard("rate limiter", "allowing requests", opts);
  const now = opts.now ?? Date.now;
  const allowed = (): RateLimitResult => ({
    success: true,
    limit: opts.requests,
    remaining: opts.requests,
    reset: now() + opts.windowSeconds * 1000,
  });
  return {
    async limit(identifier, cost) {
      if (guard.skipping) return allowed();
      try {
        const result = await inner.limit(identifier, cost);
        guard.ok();
        return result;
      } catch (err) {
        guard.fail(err);
        return allowed();
      }
    },
  };
}
