/**
 * shared/cache: the same contract for the memory and Upstash caches (Upstash through the REST
 * stand-in over the real Redis on 127.0.0.1:6379), the outage behaviour of the resilient
 * wrapper, and the rate limiters. Redis keys live under random prefixes and are deleted.
 */
import assert from "node:assert/strict";
import { Redis } from "@upstash/redis";
import { startUpstashServer, type UpstashServer } from "../scripts/dev/upstash_server.ts";
import { createCache, createRateLimiter, type RateLimiter } from "../shared/cache/index.ts";
import { MemoryCache } from "../shared/cache/memory.ts";
import { MemoryRateLimiter } from "../shared/cache/ratelimit.ts";
import { ResilientCache } from "../shared/cache/resilient.ts";
import type { Cache } from "../shared/cache/types.ts";
import { createUpstashRedis, UpstashCache } from "../shared/cache/upstash.ts";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Runs fn with a stand-in and a random key prefix; deletes the prefix's keys afterwards. */
async function withUpstash(fn: (server: UpstashServer, prefix: string) => Promise<void>) {
  const server = await startUpstashServer({ token: `tok-${crypto.randomUUID()}` });
  const prefix = `test:cache:${crypto.randomUUID()}:`;
  try {
    await fn(server, prefix);
  } finally {
    const admin = new Redis({ url: server.url, token: server.token, enableTelemetry: false });
    const keys = await admin.keys(`${prefix}*`);
    if (keys.length) await admin.del(...keys);
    await server.close();
  }
}

/** A loopback port with nothing listening on it. */
function deadPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

interface Backend {
  kind: "memory" | "upstash";
  /** Calls fn with a factory for caches under distinct prefixes, and a TTL-expiry helper. */
  run(fn: (make: (prefix: string) => Cache, expire: () => Promise<void>) => Promise<void>): Promise<
    void
  >;
}

const backends: Backend[] = [
  {
    kind: "memory",
    run(fn) {
      // Memory caches are separate per instance; a shared fake clock makes TTLs instant.
      let now = 1_700_000_000_000;
      return fn(
        () => new MemoryCache({ now: () => now }),
        () => {
          now += 1_001;
          return Promise.resolve();
        },
      );
    },
  },
  {
    kind: "upstash",
    run: (fn) =>
      withUpstash((server, prefix) =>
        fn(
          (p) => new UpstashCache(createUpstashRedis(server), `${prefix}${p}:`),
          () => sleep(1_100),
        )
      ),
  },
];

for (const backend of backends) {
  Deno.test(`cache (${backend.kind}): get, set, del, incr, mget keep JSON exact`, () =>
    backend.run(async (make) => {
      const cache = make("a");
      assert.equal(cache.kind, backend.kind);
      assert.equal(await cache.get("missing"), null);

      const obj = { a: [1, "two", null], nested: { ok: true, n: 1.5 }, text: "ünïcode ✓" };
      await cache.set("obj", obj, 60);
      await cache.set("str", "hello", 60);
      await cache.set("numeric-string", "123", 60);
      await cache.set("bool-string", "true", 60);
      await cache.set("num", 42, 60);
      await cache.set("arr", [], 60);
      assert.deepEqual(await cache.get("obj"), obj);
      assert.equal(await cache.get("str"), "hello");
      assert.equal(await cache.get("numeric-string"), "123", "a string stays a string");
      assert.equal(await cache.get("bool-string"), "true");
      assert.equal(await cache.get("num"), 42);
      assert.deepEqual(await cache.get("arr"), []);

      assert.equal(await cache.incr("gen"), 1);
      assert.equal(await cache.incr("gen"), 2);
      assert.equal(await cache.incr("num"), 43, "INCR works on an integer JSON value");
      assert.deepEqual(await cache.mget("gen", "obj", "nope", "str", "num"), [
        2,
        obj,
        null,
        "hello",
        43,
      ]);
      assert.deepEqual(await cache.mget(), []);

      await cache.set("str", { replaced: true }, 60);
      assert.deepEqual(await cache.get("str"), { replaced: true });
      await cache.del("obj", "gen", "never-set");
      await cache.del();
      assert.deepEqual(await cache.mget("obj", "gen", "str"), [null, null, { replaced: true }]);
      assert.equal(await cache.incr("gen"), 1, "a deleted counter restarts at 0");
    }));

  Deno.test(`cache (${backend.kind}): TTL expiry`, () =>
    backend.run(async (make, expire) => {
      const cache = make("ttl");
      await cache.set("short", "v", 1);
      await cache.set("long", "v", 60);
      assert.equal(await cache.get("short"), "v");
      await expire();
      assert.deepEqual(await cache.mget("short", "long"), [null, "v"]);
      assert.equal(await cache.get("short"), null);
    }));

  Deno.test(`cache (${backend.kind}): key prefixes isolate caches`, () =>
    backend.run(async (make) => {
      const a = make("one");
      const b = make("two");
      await a.set("k", "from a", 60);
      await a.incr("n");
      assert.equal(await b.get("k"), null);
      assert.deepEqual(await b.mget("k", "n"), [null, null]);
      await b.set("k", "from b", 60);
      await b.del("n");
      assert.equal(await a.get("k"), "from a");
      assert.equal(await a.get("n"), 1);
    }));
}

Deno.test("cache (upstash): keys are stored under the prefix", () =>
  withUpstash(async (server, prefix) => {
    const cache = createCache({
      upstashUrl: server.url,
      upstashToken: server.token,
      keyPrefix: prefix,
    });
    assert.equal(cache.kind, "upstash");
    await cache.set("k", { v: 1 }, 60);
    const admin = new Redis({ url: server.url, token: server.token, enableTelemetry: false });
    assert.deepEqual(await admin.keys(`${prefix}*`), [`${prefix}k`]);
    assert.equal(await admin.pttl(`${prefix}k`) > 59_000, true);
  }));

Deno.test("cache (memory): bounded, least recently used values go first", async () => {
  const cache = new MemoryCache({ maxEntries: 3 });
  for (const k of ["a", "b", "c"]) await cache.set(k, k, 60);
  assert.equal(await cache.get("a"), "a"); // a is now the most recently used
  await cache.set("d", "d", 60);
  assert.deepEqual(await cache.mget("a", "b", "c", "d"), ["a", null, "c", "d"]);
  assert.equal(createCache({}).kind, "memory");
});

Deno.test("cache (memory): value churn never evicts a generation counter", async () => {
  const cache = new MemoryCache({ maxEntries: 2 });
  assert.equal(await cache.incr("gen"), 1);
  await cache.set("results:1", ["old"], 60);
  for (let i = 0; i < 10; i++) await cache.set(`other${i}`, i, 60);
  assert.equal(await cache.get("gen"), 1);
  // Counters overflowing drops every value with them, so no entry outlives its generation.
  await cache.set("results:1", ["cached"], 60);
  await cache.incr("g2");
  await cache.incr("g3");
  assert.deepEqual(await cache.mget("gen", "g2", "g3", "results:1"), [null, 1, 1, null]);
});

Deno.test("resilient cache: Redis unreachable → misses and no-ops, logged once, fast", async () => {
  const logs: string[] = [];
  const cache = createCache(
    { upstashUrl: `http://127.0.0.1:${deadPort()}`, upstashToken: "x", keyPrefix: "test:" },
    (m) => logs.push(m),
  );
  const started = performance.now();
  assert.equal(await cache.get("k"), null);
  await cache.set("k", { v: 1 }, 60);
  await cache.del("k");
  assert.equal(await cache.incr("gen"), -1);
  assert.deepEqual(await cache.mget("a", "b"), [null, null]);
  await Promise.all(Array.from({ length: 10 }, () => cache.get("k")));
  assert.ok(performance.now() - started < 3_000, "an outage must not stall callers");
  assert.equal(logs.length, 1, logs.join("\n"));
  assert.match(logs[0], /^cache unavailable: .+; continuing uncached$/);
});

Deno.test("resilient cache: a Redis that never answers costs one timeout, then is skipped", async () => {
  // Accepts connections and never replies: the worst kind of outage.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  const accepting = (async () => {
    try {
      for await (const conn of listener) conns.push(conn);
    } catch { /* listener closed */ }
  })();
  try {
    const logs: string[] = [];
    const { port } = listener.addr as Deno.NetAddr;
    const cache = createCache(
      { upstashUrl: `http://127.0.0.1:${port}`, upstashToken: "x" },
      (m) => logs.push(m),
    );
    const started = performance.now();
    // Without the request timeout the first call would hang; without skipping during the
    // outage, five calls would take five timeouts.
    for (let i = 0; i < 5; i++) assert.equal(await cache.get("k"), null);
    assert.ok(performance.now() - started < 3_000);
    assert.equal(logs.length, 1, logs.join("\n"));
    assert.match(logs[0], /^cache unavailable: .*; continuing uncached$/);
  } finally {
    listener.close();
    await accepting;
    for (const conn of conns) conn.close();
  }
});

Deno.test("resilient cache: recovery is logged once and replays lost invalidations", async () => {
  const token = `tok-${crypto.randomUUID()}`;
  const prefix = `test:cache:${crypto.randomUUID()}:`;
  let server = await startUpstashServer({ token });
  const port = Number(new URL(server.url).port);
  const logs: string[] = [];
  const cache = new ResilientCache(
    new UpstashCache(createUpstashRedis({ url: server.url, token }), prefix),
    { log: (m) => logs.push(m), retryAfterMs: 0 },
  );
  try {
    assert.equal(await cache.incr("gen"), 1);
    await cache.set("results:1", ["cached before the outage"], 60);
    await cache.set("entry", "cached before the outage", 60);

    await server.close(); // Redis keeps its data; only the path to it is gone
    assert.equal(await cache.incr("gen"), -1, "a write during the outage: generation unknown");
    await cache.del("entry");
    assert.equal(await cache.get("results:1"), null);
    assert.equal(logs.length, 1);

    server = await startUpstashServer({ token, port });
    // The bump and the delete that failed are applied before anything is read.
    assert.deepEqual(await cache.mget("gen", "entry"), [2, null]);
    assert.equal(await cache.incr("gen"), 3);
    assert.deepEqual(logs.slice(1), ["cache available again"]);
  } finally {
    const admin = new Redis({ url: server.url, token, enableTelemetry: false });
    const keys = await admin.keys(`${prefix}*`);
    if (keys.length) await admin.del(...keys);
    await server.close();
  }
});

Deno.test("rate limiter (memory): N pass, N+1 is refused until the window slides", async () => {
  let now = 1_700_000_000_000;
  const limiter = new MemoryRateLimiter({ requests: 3, windowSeconds: 10, now: () => now });
  const remaining = [];
  for (let i = 0; i < 3; i++) {
    const r = await limiter.limit("alice");
    assert.equal(r.success, true);
    assert.equal(r.limit, 3);
    remaining.push(r.remaining);
  }
  assert.deepEqual(remaining, [2, 1, 0]);
  const refused = await limiter.limit("alice");
  assert.equal(refused.success, false);
  assert.equal(refused.remaining, 0);
  assert.ok(refused.reset > now && refused.reset <= now + 10_000);
  assert.equal((await limiter.limit("bob")).success, true, "identifiers are independent");
  now += 20_000;
  assert.equal((await limiter.limit("alice")).success, true);
});

Deno.test("rate limiter (memory): createRateLimiter without Redis", async () => {
  const limiter = createRateLimiter({ requests: 2, windowSeconds: 60 });
  assert.equal((await limiter.limit("x")).success, true);
  assert.equal((await limiter.limit("x")).success, true);
  const r = await limiter.limit("x");
  assert.equal(r.success, false);
  assert.ok(r.reset > Date.now());
});

Deno.test("rate limiter (upstash): N pass, N+1 is refused, identifiers independent", () =>
  withUpstash(async (server, prefix) => {
    const windowSeconds = 3_600;
    // Stay clear of a window boundary, where the previous window's weight shifts.
    const left = windowSeconds * 1000 - (Date.now() % (windowSeconds * 1000));
    if (left < 5_000) await sleep(left + 100);
    const logs: string[] = [];
    const limiter = createRateLimiter({
      upstashUrl: server.url,
      upstashToken: server.token,
      keyPrefix: prefix,
      requests: 3,
      windowSeconds,
    }, (m) => logs.push(m));
    const passed = [];
    for (let i = 0; i < 3; i++) passed.push(await limiter.limit("alice"));
    assert.deepEqual(passed.map((r) => [r.success, r.limit, r.remaining]), [
      [true, 3, 2],
      [true, 3, 1],
      [true, 3, 0],
    ]);
    const refused = await limiter.limit("alice");
    assert.equal(refused.success, false);
    assert.equal(refused.remaining, 0);
    assert.ok(refused.reset > Date.now());
    assert.equal((await limiter.limit("bob")).success, true, "identifiers are independent");
    assert.deepEqual(logs, []);
    // The counters really are in Redis, under the prefix.
    const admin = new Redis({ url: server.url, token: server.token, enableTelemetry: false });
    const keys = await admin.keys(`${prefix}ratelimit:*`);
    assert.equal(keys.length, 2, keys.join());
  }));

/** A cost is that many operations: the same answers from both implementations. */
async function assertCosts(limiter: RateLimiter) {
  const seen = [];
  for (const cost of [4, 2, 1]) {
    const r = await limiter.limit("carol", cost);
    seen.push([cost, r.success, r.remaining]);
  }
  // 4 of 5 pass; 2 more go over (and count); then the caller is at the limit.
  assert.deepEqual(seen, [[4, true, 1], [2, false, 0], [1, false, 0]]);
  assert.equal((await limiter.limit("dave", 6)).success, false, "more than the limit at once");
  assert.equal((await limiter.limit("erin", 5)).success, true, "exactly the limit at once");
}

Deno.test("rate limiter (memory): a cost counts that many operations", () =>
  assertCosts(new MemoryRateLimiter({ requests: 5, windowSeconds: 3_600 })));

Deno.test("rate limiter (upstash): a cost counts that many operations", () =>
  withUpstash(async (server, prefix) => {
    const windowSeconds = 3_600;
    const left = windowSeconds * 1000 - (Date.now() % (windowSeconds * 1000));
    if (left < 5_000) await sleep(left + 100);
    await assertCosts(createRateLimiter({
      upstashUrl: server.url,
      upstashToken: server.token,
      keyPrefix: prefix,
      requests: 5,
      windowSeconds,
    }));
  }));

Deno.test("rate limiter (upstash): Redis unreachable → fails open, logged once", async () => {
  const logs: string[] = [];
  const limiter = createRateLimiter({
    upstashUrl: `http://127.0.0.1:${deadPort()}`,
    upstashToken: "x",
    requests: 1,
    windowSeconds: 60,
  }, (m) => logs.push(m));
  const started = performance.now();
  for (let i = 0; i < 5; i++) {
    const r = await limiter.limit("alice");
    assert.equal(r.success, true);
    assert.equal(r.limit, 1);
    assert.ok(r.reset > Date.now());
  }
  assert.ok(performance.now() - started < 3_000);
  assert.equal(logs.length, 1, logs.join("\n"));
  assert.match(logs[0], /^rate limiter unavailable: .+; allowing requests$/);
});
