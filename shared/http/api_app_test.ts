import assert from "node:assert/strict";
import { HTTPException } from "hono/http-exception";
import { z } from "zod";
import type { Principal } from "../auth/authenticate.ts";
import { MemoryRateLimiter } from "../cache/ratelimit.ts";
import { unauthorized } from "../errors.ts";
import { createApiApp } from "./api_app.ts";
import { MAX_BODY_BYTES } from "./body_limit.ts";
import { userOf, valid } from "./validate.ts";

const KEYS: Record<string, Principal> = {
  "Bearer rw": { userId: "u-rw", scopes: ["read", "write"], via: "api_key", keyId: "k1" },
  "Bearer rw2": { userId: "u-rw", scopes: ["read", "write"], via: "api_key", keyId: "k2" },
  "Bearer ro": { userId: "u-ro", scopes: ["read"], via: "api_key", keyId: "k3" },
};

/** An app from the factory with a few routes that throw what hono and handlers throw. */
function testApp(requests = 100) {
  const app = createApiApp({
    auth: {
      authenticate: (req) => {
        const principal = KEYS[req.headers.get("authorization") ?? ""];
        return principal ? Promise.resolve(principal) : Promise.reject(unauthorized("no key"));
      },
    },
    rateLimiter: new MemoryRateLimiter({ requests, windowSeconds: 60 }),
  }, { basePath: "/api", writes: (c) => c.req.method !== "GET" });
  app.get("/me", (c) => c.json({ user: userOf(c) }));
  app.post(
    "/echo",
    valid("json", z.strictObject({ n: z.number() })),
    (c) => c.json(c.req.valid("json")),
  );
  app.get("/hono/:status", (c) => {
    throw new HTTPException(Number(c.req.param("status")) as 405, { message: "from hono" });
  });
  app.get("/crash", () => {
    throw new Error("secret internals");
  });
  return app;
}

async function send(app: ReturnType<typeof testApp>, path: string, init: RequestInit = {}) {
  const res = await app.fetch(
    new Request(`http://localhost/api${path}`, {
      ...init,
      headers: { authorization: "Bearer rw", ...init.headers },
    }),
  );
  return { status: res.status, headers: res.headers, body: await res.json() };
}

Deno.test("api app: hono's own 4xx keep their status, in our error shape", async () => {
  const app = testApp();
  for (
    const [status, code] of [[404, "not_found"], [405, "method_not_allowed"], [
      413,
      "payload_too_large",
    ], [418, "bad_request"]] as const
  ) {
    const r = await send(app, `/hono/${status}`);
    assert.equal(r.status, status);
    assert.deepEqual(r.body, { error: { code, message: "from hono" } });
  }
  const malformed = await send(app, "/echo", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "{",
  });
  assert.equal(malformed.status, 400);
  assert.equal(malformed.body.error.code, "bad_request");
  // A hono 5xx, like any other fault, hides its message.
  for (const path of ["/hono/503", "/crash"]) {
    const r = await send(app, path);
    assert.equal(r.status, 500);
    assert.deepEqual(r.body.error.code, "internal");
    assert.doesNotMatch(JSON.stringify(r.body), /from hono|secret internals/);
  }
});

Deno.test("api app: unknown routes are a JSON 404; bodies over the limit a 413", async () => {
  const app = testApp();
  const unknown = await send(app, "/nowhere");
  assert.equal(unknown.status, 404);
  assert.deepEqual(unknown.body, {
    error: { code: "not_found", message: "No route GET /api/nowhere" },
  });
  const big = await send(app, "/echo", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ n: 1, pad: "x".repeat(MAX_BODY_BYTES) }),
  });
  assert.equal(big.status, 413);
  assert.equal(big.body.error.code, "payload_too_large");
});

Deno.test("api app: authenticates, rate-limits and checks the write scope before routes", async () => {
  const app = testApp(2);
  const anonymous = await app.fetch(new Request("http://localhost/api/me"));
  assert.equal(anonymous.status, 401);
  await anonymous.body?.cancel();
  assert.deepEqual((await send(app, "/me")).body, { user: "u-rw" });
  const readOnly = await send(app, "/echo", {
    method: "POST",
    headers: { authorization: "Bearer ro", "content-type": "application/json" },
    body: JSON.stringify({ n: 1 }),
  });
  assert.equal(readOnly.status, 403);
  assert.match(readOnly.body.error.message, /read-only/);
  // Another key of the same user draws on the same budget: more keys buy no more requests.
  const other = await send(app, "/me", { headers: { authorization: "Bearer rw2" } });
  assert.deepEqual(other.body, { user: "u-rw" });
  const limited = await send(app, "/me"); // u-rw's third request, over the limit of 2
  assert.equal(limited.status, 429);
  assert.equal(limited.body.error.code, "rate_limited");
  assert.ok(limited.headers.get("retry-after"));
});
