/**
 * The MCP endpoint's guards (security review, findings 3 and 4): rate limits count operations,
 * every tool call however the calls are framed, and batches are bounded; browser pages from an
 * origin that is not allowed are refused (DNS rebinding), agents without an Origin are not.
 */
import assert from "node:assert/strict";
import { ConfigError, loadConfig } from "../shared/config.ts";
import { MAX_BATCH_MESSAGES } from "../shared/http/mcp_handler.ts";
import { testEachBackend } from "./helpers/db.ts";
import { INITIALIZE } from "./helpers/auth.ts";
import { MCP, reply } from "./helpers/foundation.ts";
import { type TestStack, type TestUser, withStack } from "./helpers/stack.ts";

const call = (id: number, name: string, args: Record<string, unknown> = {}) => ({
  jsonrpc: "2.0",
  id,
  method: "tools/call",
  params: { name, arguments: args },
});

/** A raw POST to the MCP endpoint; the body as JSON (an object or a batch). */
async function post(
  stack: TestStack,
  user: TestUser,
  body: unknown,
  headers: Record<string, string> = {},
) {
  return await reply(
    await stack.api(user, MCP, {
      method: "POST",
      headers: {
        accept: "application/json, text/event-stream",
        "content-type": "application/json",
        ...headers,
      },
      body: typeof body === "string" ? body : JSON.stringify(body),
    }),
  );
}

const saved = async (stack: TestStack, user: TestUser) =>
  (await stack.db.query<{ n: number }>(
    "select count(*)::int as n from memories where user_id = $1",
    [user.userId],
  ))[0].n;

testEachBackend(
  "mcp limits: a batch is bounded and each of its calls counts",
  (backend) =>
    withStack(backend, async (stack) => {
      const alice = await stack.newUser();
      // Too many messages in one POST: refused as a whole, nothing runs.
      const oversize = Array.from(
        { length: MAX_BATCH_MESSAGES + 1 },
        (_, i) => call(i + 1, "save_memory", { content: `batched ${i}` }),
      );
      const refused = await post(stack, alice, oversize);
      assert.equal(refused.status, 400, JSON.stringify(refused.body));
      assert.match(
        JSON.stringify(refused.body),
        new RegExp(
          `batch of ${MAX_BATCH_MESSAGES + 1} messages; send at most ${MAX_BATCH_MESSAGES}`,
        ),
      );
      assert.equal(await saved(stack, alice), 0);

      // Within the bound a batch runs, and uses up 4 of the 5 operations at once.
      const batch = [1, 2, 3, 4].map((i) => call(i, "save_memory", { content: `batch ${i}` }));
      const ran = await post(stack, alice, batch);
      assert.equal(ran.status, 200, JSON.stringify(ran.body));
      assert.equal((ran.body as unknown as unknown[]).length, 4);
      assert.equal(await saved(stack, alice), 4);
      // So a batch of two is over the limit: HTTP 429, and neither call runs.
      const over = await post(stack, alice, [call(5, "list_projects"), call(6, "list_projects")]);
      assert.equal(over.status, 429, JSON.stringify(over.body));
      assert.ok(Number(over.headers.get("retry-after")) >= 1);
      // And a single call now gets the model-readable refusal.
      const single = await post(stack, alice, call(7, "save_memory", { content: "one more" }));
      assert.equal(single.status, 200);
      assert.match(JSON.stringify(single.body), /Too many requests/);
      assert.equal(await saved(stack, alice), 4);
    }, { RATE_LIMIT_REQUESTS: "5", RATE_LIMIT_WINDOW_SECONDS: "3600" }),
);

testEachBackend("mcp origin: pages of other sites are refused, agents and local pages served", (
  backend,
) =>
  withStack(backend, async (stack) => {
    const alice = await stack.newUser();
    const initialize = (origin?: string) =>
      post(stack, alice, INITIALIZE, origin === undefined ? {} : { origin });

    for (const origin of [undefined, stack.url, "http://localhost:3000", "http://[::1]:8080"]) {
      const r = await initialize(origin);
      assert.equal(r.status, 200, `${origin}: ${JSON.stringify(r.body)}`);
    }
    for (const origin of ["http://evil.example.com", "https://example.org:54321", "null"]) {
      const r = await initialize(origin);
      assert.equal(r.status, 403, `${origin}: ${JSON.stringify(r.body)}`);
      assert.match(JSON.stringify(r.body), /may not call this endpoint.*ALLOWED_ORIGINS/);
    }
    // Refused before anything else: a rebinding page has no key either, and learns nothing.
    const anonymous = await reply(
      await fetch(`${stack.url}${MCP}`, {
        method: "POST",
        headers: { origin: "http://evil.example.com", "content-type": "application/json" },
        body: INITIALIZE,
      }),
    );
    assert.equal(anonymous.status, 403);
  }));

testEachBackend(
  "mcp origin: configured origins and PUBLIC_URL's are allowed",
  (backend) =>
    withStack(backend, async (stack) => {
      const alice = await stack.newUser();
      for (
        const [origin, status] of [
          ["https://dash.example.com", 200],
          ["https://memory.example.net", 200],
          ["https://dash.example.com:8443", 403],
          ["http://dash.example.com", 403],
        ] as const
      ) {
        const r = await post(stack, alice, INITIALIZE, { origin });
        assert.equal(r.status, status, `${origin}: ${JSON.stringify(r.body)}`);
      }
    }, {
      ALLOWED_ORIGINS: "https://dash.example.com, https://other.example.com/",
      PUBLIC_URL: "https://memory.example.net/functions/v1",
    }),
);

Deno.test("mcp origin: ALLOWED_ORIGINS takes origins only, and says which entry is wrong", () => {
  const allowed = (v: string) => loadConfig({ ALLOWED_ORIGINS: v }).ALLOWED_ORIGINS;
  assert.deepEqual(allowed(" https://a.example.com/ ,http://b.example.com:8080"), [
    "https://a.example.com",
    "http://b.example.com:8080",
  ]);
  assert.deepEqual(allowed(""), []);
  assert.deepEqual(allowed("*"), ["*"]);
  for (const bad of ["https://a.example.com/dashboard", "a.example.com", "https://a.com,nope"]) {
    assert.throws(() => allowed(bad), (err: Error) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /ALLOWED_ORIGINS\.\d: each entry must be an origin/);
      return true;
    });
  }
});
