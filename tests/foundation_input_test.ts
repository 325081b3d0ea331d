/**
 * Bad input never crashes anything: REST answers 4xx JSON naming the problem, MCP answers an
 * isError result (or a JSON-RPC error for a broken envelope), and bad credentials get a 401 with
 * a WWW-Authenticate challenge on both functions. Nothing invalid is ever stored.
 */
import assert from "node:assert/strict";
import { createApiKey } from "../shared/auth/api_keys.ts";
import { MAX_CONTENT_BYTES } from "../shared/memory/limits.ts";
import type { Memory } from "../shared/memory/types.ts";
import {
  assertError,
  assertToolError,
  call,
  callTool,
  callToolOk,
  MCP,
  MEMORIES,
  type Reply,
  reply,
  saveMemory,
  stackTest,
  withMcp,
} from "./helpers/foundation.ts";
import { INITIALIZE } from "./helpers/auth.ts";
import type { TestStack, TestUser } from "./helpers/stack.ts";

const utf8 = (s: string) => new TextEncoder().encode(s).length;

/** Content just over the byte limit although shorter than 32768 UTF-16 code units. */
const TOO_LONG = {
  ascii: "a".repeat(MAX_CONTENT_BYTES + 1),
  twoByte: "é".repeat(MAX_CONTENT_BYTES / 2 + 1),
  fourByte: "😀".repeat(MAX_CONTENT_BYTES / 4 + 1),
};
/** Content of exactly MAX_CONTENT_BYTES bytes. */
const AT_LIMIT = {
  ascii: "b".repeat(MAX_CONTENT_BYTES),
  twoByte: "ü".repeat(MAX_CONTENT_BYTES / 2),
  fourByte: "🦕".repeat(MAX_CONTENT_BYTES / 4),
};

/** Invalid save bodies, each with what the error message must mention. */
const BAD_SAVES: [string, Record<string, unknown>, RegExp][] = [
  ["ascii content over the limit", { content: TOO_LONG.ascii }, /32768 bytes/],
  ["2-byte content over the limit", { content: TOO_LONG.twoByte }, /32768 bytes/],
  ["4-byte content over the limit", { content: TOO_LONG.fourByte }, /32768 bytes/],
  ["empty content", { content: "" }, /content must not be empty/],
  ["whitespace-only content", { content: " \n\t  " }, /content must not be empty/],
  ["missing content", { title: "no body" }, /content/],
  ["NUL in content", { content: "before\u0000after" }, /NUL/],
  ["NUL in title", { content: "x", title: "a\u0000b" }, /NUL/],
  ["NUL in a tag", { content: "x", tags: ["a\u0000"] }, /tags/],
  ["NUL in metadata", { content: "x", metadata: { note: "a\u0000b" } }, /metadata|NUL/],
  ["NUL in a metadata key", { content: "x", metadata: { "k\u0000": 1 } }, /metadata|NUL/],
  ["tag with a space", { content: "x", tags: ["two words"] }, /tags/],
  ["tag too long", { content: "x", tags: ["t".repeat(51)] }, /tags/],
  ["empty tag", { content: "x", tags: [""] }, /tags/],
  ["33 tags", { content: "x", tags: Array.from({ length: 33 }, (_, i) => `t${i}`) }, /tags/],
  ["unknown field", { content: "x", colour: "red" }, /colour/],
  ["content of the wrong type", { content: 42 }, /content/],
  ["tags as a string", { content: "x", tags: "a,b" }, /tags/],
  ["importance as a word", { content: "x", importance: "high" }, /importance/],
  ["importance out of range", { content: "x", importance: 2 }, /importance/],
  ["unknown kind", { content: "x", kind: "essay" }, /kind/],
  ["metadata as an array", { content: "x", metadata: [1, 2] }, /metadata/],
  ["expires_at not a date", { content: "x", expires_at: "tomorrow" }, /expires_at/],
];

/** Raw fetch with an arbitrary body and headers; the body is always consumed. */
async function raw(
  stack: TestStack,
  user: TestUser | null,
  path: string,
  init: { method?: string; body?: BodyInit; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const res = await stack.api(user, path, {
    method: init.method ?? "POST",
    body: init.body,
    headers: init.headers,
  });
  return await reply(res);
}

/** A JSON-RPC POST to the mcp function as a client would send it. */
const mcpPost = (stack: TestStack, user: TestUser | null, body: string, contentType?: string) =>
  raw(stack, user, MCP, {
    body,
    headers: {
      "content-type": contentType ?? "application/json",
      accept: "application/json, text/event-stream",
    },
  });

async function countMemories(stack: TestStack, user: TestUser): Promise<number> {
  const [{ n }] = await stack.db.query<{ n: number }>(
    "select count(*)::int as n from memories where user_id = $1",
    [user.userId],
  );
  return n;
}

// ---------------------------------------------------------------------------------------------
// REST

stackTest("input/rest: invalid memory bodies are 400 with the field named", async (stack) => {
  const alice = await stack.newUser();
  for (const [label, body, pattern] of BAD_SAVES) {
    assertError(await call(stack, alice, "POST", MEMORIES, body), 400, pattern, label);
  }
  assert.equal(await countMemories(stack, alice), 0, "nothing invalid was stored");

  // The same rules apply to updates, plus the update-only ones.
  const saved = await saveMemory(stack, alice, { content: "valid" });
  const path = `${MEMORIES}/${saved.id}`;
  for (const [label, body, pattern] of BAD_SAVES.filter(([, b]) => "content" in b)) {
    assertError(await call(stack, alice, "PATCH", path, body), 400, pattern, label);
  }
  assertError(await call(stack, alice, "PATCH", path, { bogus: 1 }), 400, /bogus/);
  assertError(await call(stack, alice, "PATCH", path, { expected_version: 0 }), 400);
  assertError(await call(stack, alice, "PATCH", path, { expected_version: "1" }), 400);
  assertError(await call(stack, alice, "PATCH", path, { title: 5 }), 400, /title/);
  const after = await call<{ memory: Memory }>(stack, alice, "GET", path);
  assert.equal(after.body.memory.version, 1, "no failed update changed the memory");
  assert.equal(after.body.memory.content, "valid");

  assertError(
    await call(stack, alice, "POST", `${MEMORIES}/projects`, { name: "x", extra: true }),
    400,
    /extra/,
  );
  assertError(await call(stack, alice, "POST", `${MEMORIES}/projects`, { name: " " }), 400);
  assertError(
    await call(stack, alice, "POST", `${MEMORIES}/projects`, { name: "x", slug: "Bad Slug" }),
    400,
    /slug/,
  );
});

stackTest("input/rest: content exactly at the byte limit is accepted", async (stack) => {
  const alice = await stack.newUser();
  for (const [label, content] of Object.entries(AT_LIMIT)) {
    assert.equal(utf8(content), MAX_CONTENT_BYTES, label);
    const saved = await saveMemory(stack, alice, { content });
    assert.equal(saved.content, content, label);
  }
  const sizes = await stack.db.query<{ bytes: number }>(
    "select octet_length(content) as bytes from memories where user_id = $1",
    [alice.userId],
  );
  assert.deepEqual(sizes.map((r) => Number(r.bytes)), [32768, 32768, 32768]);
  // An update to exactly the limit is fine too; one byte more is not.
  const saved = await saveMemory(stack, alice, { content: "grows" });
  const path = `${MEMORIES}/${saved.id}`;
  const grown = await call(stack, alice, "PATCH", path, { content: `${AT_LIMIT.ascii.slice(1)}!` });
  assert.equal(grown.status, 200, JSON.stringify(grown.body).slice(0, 300));
  assertError(await call(stack, alice, "PATCH", path, { content: `${AT_LIMIT.ascii}!` }), 400);
});

stackTest("input/rest: broken requests are 4xx JSON, never 500", async (stack) => {
  const alice = await stack.newUser();
  const is4xx = (r: Reply, label: string) => {
    assert.ok(r.status >= 400 && r.status < 500, `${label}: ${r.status} ${JSON.stringify(r.body)}`);
    assertError(r, r.status);
  };
  const json = { "content-type": "application/json" };

  is4xx(await raw(stack, alice, MEMORIES, { body: "{not json", headers: json }), "malformed");
  assertError(await raw(stack, alice, MEMORIES, { body: "{not json", headers: json }), 400);
  is4xx(await raw(stack, alice, MEMORIES, { body: "", headers: json }), "empty body");
  is4xx(await raw(stack, alice, MEMORIES, { body: "[]", headers: json }), "array body");
  is4xx(await raw(stack, alice, MEMORIES, { body: "null", headers: json }), "null body");
  is4xx(
    await raw(stack, alice, MEMORIES, {
      body: JSON.stringify({ content: "typed as text" }),
      headers: { "content-type": "text/plain" },
    }),
    "text/plain",
  );
  is4xx(
    await raw(stack, alice, MEMORIES, {
      body: "content=form",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    }),
    "form",
  );
  is4xx(
    await raw(stack, alice, `${MEMORIES}/${crypto.randomUUID()}`, {
      method: "PATCH",
      body: '{"title":',
      headers: json,
    }),
    "malformed patch",
  );
  is4xx(
    await raw(stack, alice, MEMORIES, {
      body: JSON.stringify({ content: "x".repeat(2 * 1024 * 1024) }),
      headers: json,
    }),
    "2 MiB body",
  );
  assert.equal(await countMemories(stack, alice), 0);

  // Bad ids in the path.
  for (const id of ["not-a-uuid", "123", `${crypto.randomUUID()}x`, "%00", "' or 1=1 --"]) {
    const path = `${MEMORIES}/${encodeURIComponent(id)}`;
    assertError(await call(stack, alice, "GET", path), 400, /must be a UUID/);
    assertError(await call(stack, alice, "PATCH", path, { title: "x" }), 400, /must be a UUID/);
    assertError(await call(stack, alice, "DELETE", path), 400, /must be a UUID/);
  }
  assertError(await call(stack, alice, "GET", `${MEMORIES}/${crypto.randomUUID()}`), 404);

  // Unknown projects name the way out (a new name creates a project of one's own: an unknown id
  // never does).
  const unknownId = crypto.randomUUID();
  assertError(
    await call(stack, alice, "POST", MEMORIES, { content: "x", project: unknownId }),
    404,
    new RegExp(`${unknownId}.*not found.*list_projects`),
  );
  assertError(await call(stack, alice, "GET", `${MEMORIES}?project=nope`), 404, /list_projects/);
});

stackTest("input/rest: bad list parameters are 400", async (stack) => {
  const alice = await stack.newUser();
  await saveMemory(stack, alice, { content: "one" });
  const b64 = (v: unknown) => btoa(JSON.stringify(v)).replace(/=+$/, "");
  const bad: [string, RegExp][] = [
    ["limit=0", /limit/],
    ["limit=101", /limit/],
    ["limit=-1", /limit/],
    ["limit=abc", /limit/],
    ["limit=1.5", /limit/],
    ["since=yesterday", /since/],
    ["since=2024-01-01", /since/],
    ["until=2024-13-01T00:00:00Z", /until/],
    ["kind=essay", /kind/],
    ["tags=two%20words", /tags/],
    ["bogus=1", /bogus/],
    ["cursor=garbage!!", /cursor/],
    [`cursor=${b64({ t: "2024-01-01T00:00:00Z" })}`, /cursor/],
    [`cursor=${b64({ t: "not a time", id: crypto.randomUUID() })}`, /cursor/],
    [`cursor=${b64({ t: "0", id: crypto.randomUUID() })}`, /.+/],
    [`cursor=${b64({ t: "2024-01-01T00:00:00Z", id: "-".repeat(36) })}`, /.+/],
    [`cursor=${"a".repeat(201)}`, /cursor/],
  ];
  for (const [query, pattern] of bad) {
    assertError(await call(stack, alice, "GET", `${MEMORIES}?${query}`), 400, pattern, query);
  }
  for (const query of ["limit=1", "limit=100", "since=2024-01-01T00:00:00Z", "tags=a,b"]) {
    assert.equal((await call(stack, alice, "GET", `${MEMORIES}?${query}`)).status, 200, query);
  }
});

// ---------------------------------------------------------------------------------------------
// MCP

stackTest("input/mcp: invalid tool arguments are isError results", async (stack) => {
  const alice = await stack.newUser();
  await withMcp(stack, alice, async (client) => {
    for (const [label, args, pattern] of BAD_SAVES) {
      const result = await callTool(client, "save_memory", args);
      assert.equal(result.isError, true, `${label} was accepted`);
      assert.match(result.text, pattern, label);
    }
    await assertToolError(
      client,
      "save_memory",
      { content: "x", project: crypto.randomUUID() },
      /not found.*list_projects/,
    );
    for (const tool of ["get_memory", "delete_memory", "update_memory"]) {
      for (const id of ["not-a-uuid", "", 42]) {
        await assertToolError(client, tool, { id }, /UUID.*at id/);
      }
      await assertToolError(client, tool, {}, /id/);
    }
    const saved = await callToolOk(client, "save_memory", { content: "target" });
    const id = (saved.structuredContent as { memory: Memory }).memory.id;
    await assertToolError(client, "update_memory", { id }, /Nothing to update/);
    await assertToolError(client, "update_memory", { id, tags: ["a b"] }, /tags/);
    await assertToolError(client, "update_memory", { id, sneaky: true }, /sneaky/);
    await assertToolError(client, "get_memory", { id, extra: 1 }, /extra/);
    for (
      const [args, pattern] of [
        [{ limit: 0 }, /limit/],
        [{ limit: 101 }, /limit/],
        [{ since: "yesterday" }, /since/],
        [{ cursor: "garbage!!" }, /cursor/],
        [{ kind: "essay" }, /kind/],
        [{ tags: "a" }, /tags/],
        [{ whatever: 1 }, /whatever/],
      ] as const
    ) {
      await assertToolError(client, "list_memories", args, pattern);
    }
    await assertToolError(client, "no_such_tool", {}, /no_such_tool.*not found/);

    // At the limit is fine over MCP too.
    for (const content of Object.values(AT_LIMIT)) {
      await callToolOk(client, "save_memory", { content });
    }
  });
  assert.equal(await countMemories(stack, alice), 4, "only the valid saves were stored");
});

stackTest("input/mcp: a broken JSON-RPC envelope is a 4xx JSON error", async (stack) => {
  const alice = await stack.newUser();
  const cases: [string, string, string?][] = [
    ["invalid JSON", "{not json"],
    ["missing jsonrpc", JSON.stringify({ id: 1, method: "tools/list" })],
    ["wrong jsonrpc version", JSON.stringify({ jsonrpc: "1.0", id: 1, method: "tools/list" })],
    ["not an object", JSON.stringify("hello")],
    ["empty body", ""],
    ["not JSON at all", INITIALIZE, "text/plain"],
  ];
  for (const [label, body, type] of cases) {
    const r = await mcpPost(stack, alice, body, type);
    assert.ok(r.status >= 400 && r.status < 500, `${label}: ${r.status} ${JSON.stringify(r.body)}`);
    assert.match(r.headers.get("content-type") ?? "", /json/, label);
    assert.ok("error" in r.body, `${label}: ${JSON.stringify(r.body)}`);
  }
  // Stateless: no standalone SSE stream to GET and no session to DELETE.
  for (const method of ["GET", "DELETE"]) {
    const res = await stack.api(alice, MCP, {
      method,
      headers: { accept: "application/json, text/event-stream" },
      signal: AbortSignal.timeout(5000), // an accepted SSE stream would never end
    });
    const r = await reply(res);
    assert.equal(r.status, 405, `${method}: ${JSON.stringify(r.body)}`);
    assert.equal(r.headers.get("allow"), "POST");
  }
  // And a well-formed request still works afterwards.
  const ok = await mcpPost(stack, alice, INITIALIZE);
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.equal(
    (ok.body as { result?: { serverInfo?: { name?: string } } }).result?.serverInfo?.name,
    "code-memory",
  );
});

// ---------------------------------------------------------------------------------------------
// Credentials

stackTest("input/auth: missing, malformed, unknown, expired and revoked keys are 401", async (
  stack,
) => {
  const alice = await stack.newUser();
  const expired = await createApiKey(stack.db, alice.userId, {
    expiresAt: new Date(Date.now() - 60_000).toISOString(),
  });
  const revoked = await stack.newUser();
  // The key works until it is revoked.
  assert.equal((await call(stack, revoked, "GET", MEMORIES)).status, 200);
  await stack.db.query("update api_keys set revoked_at = now() where user_id = $1", [
    revoked.userId,
  ]);
  const unknownKey = `cm_${"A".repeat(43)}`;
  const credentials: [string, string | null][] = [
    ["no header", null],
    ["empty bearer", "Bearer"],
    ["basic auth", `Basic ${btoa("user:pass")}`],
    ["malformed key", "Bearer cm_short"],
    ["unknown key", `Bearer ${unknownKey}`],
    ["expired key", `Bearer ${expired.key}`],
    ["revoked key", `Bearer ${revoked.key}`],
    ["not a key", "Bearer abc.def.ghi"],
  ];
  for (const [label, authorization] of credentials) {
    const headers: Record<string, string> = authorization ? { authorization } : {};
    const rest = await raw(stack, null, MEMORIES, { method: "GET", headers });
    const mcp = await raw(stack, null, MCP, {
      body: INITIALIZE,
      headers: {
        ...headers,
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
      },
    });
    for (const [fn, r] of [["memories", rest], ["mcp", mcp]] as const) {
      assertError(r, 401, undefined, `${fn} / ${label}`);
      assert.match(
        r.headers.get("www-authenticate") ?? "",
        /^Bearer\b/,
        `${fn} / ${label}: WWW-Authenticate`,
      );
    }
  }
  // A write with a bad key is refused before anything is stored.
  assertError(
    await raw(stack, null, MEMORIES, {
      body: JSON.stringify({ content: "x" }),
      headers: { authorization: `Bearer ${revoked.key}`, "content-type": "application/json" },
    }),
    401,
  );
  assert.equal(await countMemories(stack, revoked), 0);
});

stackTest("input/auth: a read-scoped key reads but cannot write", async (stack) => {
  const writer = await stack.newUser();
  const saved = await saveMemory(stack, writer, { content: "readable", tags: ["r"] });
  // A second, read-only key for the same user.
  const { key } = await createApiKey(stack.db, writer.userId, { scopes: ["read"] });
  const reader: TestUser = { ...writer, key };
  const path = `${MEMORIES}/${saved.id}`;

  assert.equal((await call(stack, reader, "GET", MEMORIES)).status, 200);
  assert.equal((await call(stack, reader, "GET", path)).status, 200);
  assert.equal((await call(stack, reader, "GET", `${MEMORIES}/projects`)).status, 200);
  assertError(await call(stack, reader, "POST", MEMORIES, { content: "nope" }), 403, /read/);
  assertError(await call(stack, reader, "PATCH", path, { title: "nope" }), 403, /read/);
  assertError(await call(stack, reader, "DELETE", path), 403, /read/);
  assertError(await call(stack, reader, "POST", `${MEMORIES}/projects`, { name: "nope" }), 403);

  await withMcp(stack, reader, async (client) => {
    const listed = await callToolOk(client, "list_memories", { tags: ["r"] });
    assert.equal((listed.structuredContent as { memories: Memory[] }).memories.length, 1);
    await callToolOk(client, "get_memory", { id: saved.id });
    await callToolOk(client, "list_projects");
    await assertToolError(client, "save_memory", { content: "nope" }, /read/);
    await assertToolError(client, "update_memory", { id: saved.id, title: "nope" }, /read/);
    await assertToolError(client, "delete_memory", { id: saved.id }, /read/);
  });
  const after = await call<{ memory: Memory }>(stack, writer, "GET", path);
  assert.equal(after.body.memory.version, 1);
  assert.equal(await countMemories(stack, writer), 1);
});
