import { Redis } from "@upstash/redis";
import type { Cache } from "./types.ts";

export interface UpstashOptions {
  url: string;
  token: string;
  /** Budget for one request, retries included. */
  timeoutMs?: number;
}

/**
 * An @upstash/redis client that fails fast: its defaults retry a network error 5 times with
 * exponential backoff (~4 s in all) and never time out. Here one quick retry covers a dropped
 * keep-alive connection, and the signal bounds the whole request. The signal must be given as
 * a factory: a plain AbortSignal, once aborted, makes the client *return* the abort reason as
 * if it were the command's result instead of throwing.
 */
export function createUpstashRedis(opts: UpstashOptions): Redis {
  const timeoutMs = opts.timeoutMs ?? 1_000;
  return new Redis({
    url: opts.url,
    token: opts.token,
    // We store JSON text ourselves: the client's own deserializer would turn a stored string
    // like "123" or "true" into a number or boolean.
    automaticDeserialization: false,
    retry: { retries: 1, backoff: () => 50 },
    signal: () => AbortSignal.timeout(timeoutMs),
    enableTelemetry: false,
  });
}

/** Cache over Upstash Redis (REST). Every key is prefixed, so deployments can share a DB. */
export class UpstashCache implements Cache {
  readonly kind = "upstash" as const;
  readonly #redis: Redis;
  readonly #prefix: string;

  constructor(redis: Redis, keyPrefix: string) {
    this.#redis = redis;
    this.#prefix = keyPrefix;
  }

  async get<T>(key: string): Promise<T | null> {
    return parse<T>(await this.#redis.get<string>(this.#prefix + key));
  }

  async mget<T>(...keys: string[]): Promise<(T | null)[]> {
    if (keys.length === 0) return [];
    const raw = await this.#redis.mget<(string | null)[]>(...keys.map((k) => this.#prefix + k));
    return raw.map((v) => parse<T>(v));
  }

  async set(key: string, value: unknown, ttlSeconds: number): Promise<void> {
    const json = JSON.stringify(value);
    if (json === undefined) throw new TypeError("value is not JSON");
    // PX keeps sub-second TTLs; Redis rejects an expiry of 0.
    await this.#redis.set(this.#prefix + key, json, {
      px: Math.max(1, Math.round(ttlSeconds * 1000)),
    });
  }

  async del(...keys: string[]): Promise<void> {
    if (keys.length) await this.#redis.del(...keys.map((k) => this.#prefix + k));
  }

  incr(key: string): Promise<number> {
    return this.#redis.incr(this.#prefix + key);
  }
}

/** Counters come back as numbers or digit strings; values as our JSON text. */
function parse<T>(raw: unknown): T | null {
  if (raw === null || raw === undefined) return null;
  if (typeof raw !== "string") return raw as T;
  try {
    return JSON.parse(raw) as T;
  } catch {
    return null; // not written by this module: treat as a miss
  }
}
