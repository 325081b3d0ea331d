/**
 * The Upstash REST stand-in (scripts/dev/upstash_server.ts) over the real Redis on
 * 127.0.0.1:6379, driven by the real @upstash/redis client and by raw fetch for the wire format.
 * Every key lives under a random prefix and is deleted afterwards (the Redis is shared).
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import { Redis } from "@upstash/redis";
import { startUpstashServer, type UpstashServer } from "../scripts/dev/upstash_server.ts";

interface Ctx {
  server: UpstashServer;
  redis: Redis;
  /** Random key prefix for this test. */
  p: string;
  /** Raw request; always consumes the body. */
  call(path: string, body?: unknown, init?: { token?: string | null; base64?: boolean }): Promise<{
    status: number;
    json: unknown;
  }>;
}

async function withStandIn(fn: (ctx: Ctx) => Promise<void>) {
  const server = await startUpstashServer({ token: `tok-${crypto.randomUUID()}` });
  const p = `test:standin:${crypto.randomUUID()}:`;
  const redis = new Redis({ url: server.url, token: server.token, enableTelemetry: false });
  const call: Ctx["call"] = async (path, body, init = {}) => {
    const headers: Record<string, string> = { "content-type": "application/json" };
    const token = init.token === undefined ? server.token : init.token;
    if (token !== null) headers.authorization = `Bearer ${token}`;
    if (init.base64) headers["upstash-encoding"] = "base64";
    const res = await fetch(server.url + path, {
      method: body === undefined ? "GET" : "POST",
      headers,
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    return { status: res.status, json: await res.json() };
  };
  try {
    await fn({ server, redis, p, call });
  } finally {
    const keys = await redis.keys(`${p}*`);
    if (keys.length) await redis.del(...keys);
    await server.close();
  }
}

const b64 = (s: string) => Buffer.from(s).toString("base64");

Deno.test("stand-in: @upstash/redis round-trips strings, objects, numbers; incr and mget", () =>
  withStandIn(async ({ redis, p }) => {
    assert.equal(await redis.set(`${p}s`, "héllo wörld ✓"), "OK");
    assert.equal(await redis.get(`${p}s`), "héllo wörld ✓");
    const obj = { a: [1, "two", null], nested: { ok: true }, text: "ünïcode" };
    await redis.set(`${p}o`, obj);
    assert.deepEqual(await redis.get(`${p}o`), obj);
    await redis.set(`${p}n`, 42);
    assert.equal(await redis.get(`${p}n`), 42);
    assert.equal(await redis.incr(`${p}n`), 43);
    assert.equal(await redis.incr(`${p}fresh`), 1);
    assert.deepEqual(await redis.mget(`${p}o`, `${p}n`, `${p}missing`), [obj, 43, null]);
    assert.equal(await redis.get(`${p}missing`), null);
    assert.equal(await redis.del(`${p}s`, `${p}missing`), 1);
    assert.equal(await redis.ping(), "PONG");
    // Many concurrent commands (the client auto-pipelines them into /pipeline requests).
    const counts = await Promise.all(Array.from({ length: 25 }, () => redis.incr(`${p}c`)));
    assert.deepEqual(counts.toSorted((a, b) => a - b), Array.from({ length: 25 }, (_, i) => i + 1));
  }));

Deno.test("stand-in: pipeline and multi-exec through the client", () =>
  withStandIn(async ({ redis, p }) => {
    const pipe = redis.pipeline();
    pipe.set(`${p}a`, "x").incr(`${p}i`).incr(`${p}i`).get(`${p}a`);
    assert.deepEqual(await pipe.exec(), ["OK", 1, 2, "x"]);

    const tx = redis.multi();
    tx.set(`${p}t`, 10).incr(`${p}t`).get(`${p}t`).hset(`${p}h`, { f: "v" }).hgetall(`${p}h`);
    assert.deepEqual(await tx.exec(), ["OK", 11, 11, 1, { f: "v" }]);

    // A runtime error inside the transaction is reported for that command only.
    const bad = redis.multi();
    bad.set(`${p}str`, "text").incr(`${p}str`);
    await assert.rejects(bad.exec(), /Command 2 \[ incr \] failed: ERR value is not an integer/);
    assert.equal(await redis.get(`${p}str`), "text");
  }));

Deno.test("stand-in: EX expiry", () =>
  withStandIn(async ({ redis, p, call }) => {
    await redis.set(`${p}e`, "soon gone", { ex: 1 });
    assert.equal(await redis.ttl(`${p}e`), 1);
    assert.deepEqual(await call("/", ["SET", `${p}e2`, "v", "EX", 1]), {
      status: 200,
      json: { result: "OK" },
    });
    assert.equal(await redis.get(`${p}e`), "soon gone");
    await new Promise((r) => setTimeout(r, 1_100));
    assert.deepEqual(await redis.mget(`${p}e`, `${p}e2`), [null, null]);
  }));

Deno.test("stand-in: Upstash-Encoding base64 on and off", () =>
  withStandIn(async ({ p, call }) => {
    const value = "héllo wörld ✓";
    assert.deepEqual(await call("/", ["SET", `${p}k`, value]), {
      status: 200,
      json: { result: "OK" },
    });
    // "OK" stays verbatim even when base64 is asked for: the client special-cases it.
    assert.deepEqual(await call("/", ["SET", `${p}k`, value], { base64: true }), {
      status: 200,
      json: { result: "OK" },
    });
    assert.deepEqual((await call("/", ["GET", `${p}k`])).json, { result: value });
    assert.deepEqual((await call("/", ["GET", `${p}k`], { base64: true })).json, {
      result: b64(value),
    });
    // Nested strings are encoded; numbers and nulls are not.
    await call("/", ["SET", `${p}n`, 7]);
    assert.deepEqual(
      (await call("/", ["MGET", `${p}k`, `${p}n`, `${p}x`], { base64: true })).json,
      {
        result: [b64(value), b64("7"), null],
      },
    );
    assert.deepEqual((await call("/", ["INCR", `${p}n`], { base64: true })).json, { result: 8 });
    assert.deepEqual((await call("/", ["PING"], { base64: true })).json, { result: b64("PONG") });
    // Binary (not UTF-8) bytes survive base64 exactly.
    const binary = await call("/", ["EVAL", "return string.char(255, 0, 1)", 0], { base64: true });
    assert.deepEqual(binary.json, { result: "/wAB" });
    const piped = await call(
      "/pipeline",
      [["GET", `${p}k`], ["LRANGE", `${p}none`, 0, -1], ["GET", `${p}x`]],
      { base64: true },
    );
    assert.deepEqual(piped, {
      status: 200,
      json: [{ result: b64(value) }, { result: [] }, { result: null }],
    });
  }));

Deno.test("stand-in: a wrong or missing token is 401 on every path", () =>
  withStandIn(async ({ p, call }) => {
    for (const token of [null, "wrong", ""]) {
      for (
        const [path, body] of [
          ["/", ["GET", `${p}k`]],
          ["/pipeline", [["GET", `${p}k`]]],
          ["/multi-exec", [["SET", `${p}k`, "v"]]],
          [`/get/${p}k`, undefined],
        ] as const
      ) {
        const res = await call(path, body, { token });
        assert.equal(res.status, 401, `${path} with token ${token}`);
        assert.deepEqual(res.json, { error: "Unauthorized" });
      }
    }
    assert.deepEqual((await call("/", ["GET", `${p}k`])).json, { result: null }, "nothing was set");
  }));

Deno.test("stand-in: bad commands answer error JSON, not a crash", () =>
  withStandIn(async ({ redis, p, call }) => {
    const unknown = await call("/", ["NOSUCHCOMMAND", "x"]);
    assert.equal(unknown.status, 400);
    assert.match((unknown.json as { error: string }).error, /^ERR unknown command/);
    for (const body of ["not json", "[]", '{"a":1}', '["GET", {"k":1}]']) {
      const res = await call("/", body);
      assert.equal(res.status, 400, body);
      assert.match((res.json as { error: string }).error, /^ERR /, body);
    }
    const blocking = await call("/", ["BLPOP", `${p}l`, 0]);
    assert.equal(blocking.status, 400);
    assert.match((blocking.json as { error: string }).error, /not available/);
    await assert.rejects(redis.exec(["GET", `${p}a`, "extra"]), /ERR wrong number of arguments/);

    // Pipelines report each command's outcome and keep going.
    assert.deepEqual(
      await call("/pipeline", [["SET", `${p}s`, "text"], ["INCR", `${p}s`], ["GET", `${p}s`]]),
      {
        status: 200,
        json: [
          { result: "OK" },
          { error: "ERR value is not an integer or out of range" },
          { result: "text" },
        ],
      },
    );
    // A queueing error discards the whole transaction.
    const discarded = await call("/multi-exec", [["SET", `${p}m`, "v"], ["NOSUCHCOMMAND"]]);
    assert.equal(discarded.status, 400);
    assert.match((discarded.json as { error: string }).error, /ERR unknown command/);
    assert.deepEqual((await call("/", ["EXISTS", `${p}m`])).json, { result: 0 });
    assert.equal((await call("/pipeline", [])).status, 400);

    assert.equal(await redis.ping(), "PONG", "still serving");
  }));

Deno.test("stand-in: path-style commands", () =>
  withStandIn(async ({ server, p, call }) => {
    assert.deepEqual(await call(`/set/${encodeURIComponent(`${p}k`)}/some%20value`), {
      status: 200,
      json: { result: "OK" },
    });
    assert.deepEqual((await call(`/get/${encodeURIComponent(`${p}k`)}`)).json, {
      result: "some value",
    });
    // A POST body is the last argument before the query parameters.
    await call(`/set/${encodeURIComponent(`${p}j`)}?EX=100`, '{"json":"body"}');
    assert.deepEqual((await call("/", ["GET", `${p}j`])).json, { result: '{"json":"body"}' });
    assert.deepEqual((await call("/", ["TTL", `${p}j`])).json, { result: 100 });
    // The token may also come as ?_token=.
    const res = await fetch(
      `${server.url}/get/${encodeURIComponent(`${p}k`)}?_token=${server.token}`,
    );
    assert.deepEqual(await res.json(), { result: "some value" });
  }));

Deno.test("stand-in: Upstash script flags are stripped and EVALSHA of the original text works", () =>
  withStandIn(async ({ redis, p, call }) => {
    const script = "#!lua flags=allow-key-locking\nreturn {ARGV[1], redis.call('INCR', KEYS[1])}";
    const sha = createHash("sha1").update(script).digest("hex");
    assert.deepEqual((await call("/", ["EVAL", script, 1, `${p}c`, "a"])).json, {
      result: ["a", 1],
    });
    assert.deepEqual((await call("/", ["EVALSHA", sha, 1, `${p}c`, "b"])).json, {
      result: ["b", 2],
    });
    assert.equal(await redis.scriptLoad(script), sha);
    assert.deepEqual(await redis.evalsha(sha, [`${p}c`], ["c"]), ["c", 3]);
  }));
