import { type Cache, createCache, createRateLimiter, type RateLimiter } from "../cache/index.ts";
import type { Config } from "../config.ts";

const upstash = (config: Config) => ({
  upstashUrl: config.UPSTASH_REDIS_REST_URL,
  upstashToken: config.UPSTASH_REDIS_REST_TOKEN,
});

/** Upstash Redis when UPSTASH_REDIS_REST_URL/TOKEN are set, else process memory. */
export function createConfiguredCache(config: Config): Cache {
  return createCache(upstash(config));
}

/** RATE_LIMIT_REQUESTS=0 turns rate limiting off. */
export function createLimiter(config: Config): RateLimiter {
  const windowSeconds = config.RATE_LIMIT_WINDOW_SECONDS;
  if (config.RATE_LIMIT_REQUESTS === 0) {
    return {
      limit: () =>
        Promise.resolve({
          success: true,
          limit: 0,
          remaining: 0,
          reset: Date.now() + windowSeconds * 1000,
        }),
    };
  }
  return createRateLimiter({
    ...upstash(config),
    requests: config.RATE_LIMIT_REQUESTS,
    windowSeconds,
  });
}
