/**
 * Cache and rate limits: Upstash Redis when configured, process memory otherwise. Either way
 * Redis is optional at run time: outages degrade to uncached / allowed, never to errors.
 */
import { log as appLog } from "../log.ts";
import { MemoryCache } from "./memory.ts";
import { failOpen, MemoryRateLimiter, upstashRateLimiter } from "./ratelimit.ts";
import { ResilientCache } from "./resilient.ts";
import type { Cache, RateLimiter } from "./types.ts";
import { createUpstashRedis, UpstashCache } from "./upstash.ts";

export type { Cache, RateLimiter, RateLimitResult } from "./types.ts";

export interface CacheOptions {
  upstashUrl?: string;
  upstashToken?: string;
  /** Prepended to every Redis key; default "cm:". */
  keyPrefix?: string;
}

const warn = (msg: string) => appLog.warn(msg);

export function createCache(opts: CacheOptions, log: (msg: string) => void = warn): Cache {
  const inner = opts.upstashUrl && opts.upstashToken
    ? new UpstashCache(
      createUpstashRedis({ url: opts.upstashUrl, token: opts.upstashToken }),
      opts.keyPrefix ?? "cm:",
    )
    : new MemoryCache();
  return new ResilientCache(inner, { log });
}

export function createRateLimiter(
  opts: CacheOptions & { requests: number; windowSeconds: number },
  log: (msg: string) => void = warn,
): RateLimiter {
  const window = { requests: opts.requests, windowSeconds: opts.windowSeconds };
  if (!opts.upstashUrl || !opts.upstashToken) return new MemoryRateLimiter(window);
  const redis = createUpstashRedis({ url: opts.upstashUrl, token: opts.upstashToken });
  const prefix = `${opts.keyPrefix ?? "cm:"}ratelimit`;
  return failOpen(upstashRateLimiter(redis, { ...window, prefix }), { ...window, log });
}
