/**
 * Property/fuzz tests of the MCP endpoint's input handling, with the SDK's real client and with
 * raw JSON-RPC posts: every tools/call gets a result (success, or isError with a useful message),
 * a broken protocol message gets a JSON-RPC error, nothing is ever an HTTP 5xx or a hang, and
 * what a tool accepted reads back exactly as sent through get_memory and REST alike.
 */
import assert from "node:assert/strict";
// @ts-types="@modelcontextprotocol/sdk/client/streamableHttp"
import { StreamableHTTPError } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Memory } from "../shared/memory/types.ts";
import { testEachBackend } from "./helpers/db.ts";
import {
  callTool,
  MCP,
  type McpClient,
  MEMORIES,
  type Reply,
  reply,
  type ToolResult,
  withMcp,
} from "./helpers/foundation.ts";
import {
  anyFieldValue,
  anyJson,
  assertRoundTrip,
  deepJsonText,
  edgeNumber,
  fc,
  fuzzRuns,
  invalidUtf8Body,
  JSON_TYPES,
  malformedJson,
  type MemoryBody,
  mutatedMemory,
  NON_JSON_TYPES,
  poisonedMemory,
  REQUEST_TIMEOUT_MS,
  searchBody,
  show,
  storableText,
  tooLarge,
  validMemory,
} from "./helpers/fuzz.ts";
import { type TestStack, type TestUser, withStack } from "./helpers/stack.ts";

/** A stack per backend (rate limiting off: hundreds of calls) and an MCP client on it. */
const fuzzTest = (
  name: string,
  fn: (stack: TestStack, user: TestUser, client: McpClient) => Promise<void>,
) =>
  testEachBackend(name, (backend) =>
    withStack(backend, async (stack) => {
      const user = await stack.newUser();
      await withMcp(stack, user, (client) => fn(stack, user, client));
    }, { RATE_LIMIT_REQUESTS: "0" }));

type Outcome = { result: ToolResult & { text: string } } | { httpStatus: number };

/** A tools/call's result, or the HTTP status when the endpoint refused the request itself. */
async function tryTool(client: McpClient, name: string, args: MemoryBody): Promise<Outcome> {
  try {
    return { result: await callTool(client, name, args) };
  } catch (err) {
    if (err instanceof StreamableHTTPError && typeof err.code === "number") {
      return { httpStatus: err.code };
    }
    throw err;
  }
}

/** A result or a clear isError; only an oversized request may be refused over HTTP (413). */
function assertAnswered(outcome: Outcome, name: string, args: unknown): void {
  const what = `${name} ${show(args)}`;
  if ("httpStatus" in outcome) {
    assert.equal(outcome.httpStatus, 413, `${what}: HTTP ${outcome.httpStatus}`);
    return;
  }
  const { result } = outcome;
  if (!result.isError) return;
  assert.ok(result.text.trim().length > 5, `${what}: unclear error ${show(result)}`);
  assert.doesNotMatch(result.text, /Internal error/i, `${what}: a hidden 500: ${result.text}`);
}

/** The memory a tool returned in its structured content. */
const memoryOf = (result: ToolResult) =>
  (result.structuredContent as { memory: Memory } | undefined)?.memory;

async function getViaMcp(client: McpClient, id: string): Promise<Memory> {
  const got = await callTool(client, "get_memory", { id });
  assert.notEqual(got.isError, true, got.text);
  return memoryOf(got)!;
}

async function getViaRest(stack: TestStack, user: TestUser, id: string): Promise<Memory> {
  const r = await reply(await stack.api(user, `${MEMORIES}/${id}`));
  assert.equal(r.status, 200, show(r.body));
  return (r.body as { memory: Memory }).memory;
}

/** A saved memory for the tools that take an id. */
async function saveTarget(client: McpClient): Promise<Memory> {
  const saved = await callTool(client, "save_memory", {
    content: `target ${crypto.randomUUID()}`,
    title: "target",
  });
  assert.notEqual(saved.isError, true, saved.text);
  return memoryOf(saved)!;
}

fuzzTest(
  "fuzz/mcp: saved and updated memories round-trip byte for byte (get_memory, list, REST)",
  async (stack, user, client) => {
    await fc.assert(
      fc.asyncProperty(validMemory, validMemory, async (body, patch) => {
        const saved = await callTool(client, "save_memory", body);
        assert.notEqual(saved.isError, true, `${saved.text} for ${show(body)}`);
        const memory = memoryOf(saved)!;
        try {
          assertRoundTrip(memory, body, "save_memory");
          assertRoundTrip(await getViaMcp(client, memory.id), body, "get_memory");
          assertRoundTrip(await getViaRest(stack, user, memory.id), body, "REST GET");
          const listed = await callTool(client, "list_memories", { limit: 100 });
          const found = (listed.structuredContent as { memories: Memory[] }).memories
            .find((m) => m.id === memory.id);
          assert.ok(found, `memory ${memory.id} is not listed`);
          assertRoundTrip(found, body, "list_memories");

          const updated = await callTool(client, "update_memory", { id: memory.id, ...patch });
          assert.notEqual(updated.isError, true, `${updated.text} for ${show(patch)}`);
          const merged = { ...body, ...patch };
          assertRoundTrip(await getViaMcp(client, memory.id), merged, "update+get_memory");
          assertRoundTrip(await getViaRest(stack, user, memory.id), merged, "update+REST GET");
        } finally {
          const deleted = await callTool(client, "delete_memory", { id: memory.id });
          assert.notEqual(deleted.isError, true, deleted.text);
        }
      }),
      fuzzRuns(20),
    );
  },
);

fuzzTest(
  "fuzz/mcp: NUL and lone surrogates are an isError naming the field",
  async (stack, user, client) => {
    const target = await saveTarget(client);
    await fc.assert(
      fc.asyncProperty(poisonedMemory, async ({ body, field }) => {
        for (
          const [name, args] of [
            ["save_memory", body],
            ["update_memory", { ...body, id: target.id }],
          ] as const
        ) {
          const result = await callTool(client, name, args);
          assert.equal(result.isError, true, `${name} accepted ${field}: ${show(body)}`);
          assert.match(result.text, RegExp(field), `${name}: ${result.text}`);
        }
      }),
      fuzzRuns(30),
    );
    assert.equal((await getViaRest(stack, user, target.id)).version, 1);
    const [{ n }] = await stack.db.query<{ n: number }>(
      "select count(*)::int as n from memories where user_id = $1",
      [user.userId],
    );
    assert.equal(n, 1, "no refused save stored anything");
  },
);

/** Arguments for any tool: memory bodies, searches, ids, or anything at all. */
const anyArgs = (ids: string[]) =>
  fc.oneof(
    mutatedMemory,
    searchBody,
    fc.record({ id: fc.oneof(fc.constantFrom(...ids), anyFieldValue) }),
    fc.record({ id: fc.constantFrom(...ids), patch: mutatedMemory })
      .map(({ id, patch }) => ({ ...patch, id })),
    fc.dictionary(storableText(12), anyFieldValue, { maxKeys: 4 }),
    fc.record({ project: anyFieldValue, email: anyFieldValue, role: anyFieldValue }, {
      requiredKeys: [],
    }),
  );

fuzzTest(
  "fuzz/mcp: every tool answers any arguments with a result or a clear isError",
  async (stack, user, client) => {
    const target = await saveTarget(client);
    const { tools } = await client.listTools();
    const names = [...tools.map((t) => t.name), "no_such_tool", ""];
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...names), anyArgs([target.id]), async (name, args) => {
        const outcome = await tryTool(client, name, args);
        assertAnswered(outcome, name, args);
        if (!("result" in outcome) || outcome.result.isError) return;
        accepted++;
        const memory = memoryOf(outcome.result);
        if (!memory || name === "get_memory") return;
        // save_memory (unless it found a duplicate) and update_memory: stored exactly as sent.
        if ((outcome.result.structuredContent as { duplicate?: boolean }).duplicate) return;
        assertRoundTrip(await getViaMcp(client, memory.id), args, `${name}+get_memory`);
        assertRoundTrip(await getViaRest(stack, user, memory.id), args, `${name}+REST GET`);
      }),
      fuzzRuns(100),
    );
    assert.ok(accepted > 0, "the fuzzer never produced acceptable arguments");
  },
);

fuzzTest(
  "fuzz/mcp: every tool refuses unknown argument names, naming them",
  async (_stack, _user, client) => {
    const { tools } = await client.listTools();
    const unknownKey = fc.stringMatching(/^[a-z][a-z_]{0,15}$/)
      .filter((k) => tools.every((t) => !(k in (t.inputSchema.properties ?? {}))));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...tools), unknownKey, anyJson, async (tool, key, value) => {
        // Alone or beside missing fields, an unknown key is reported by name.
        const result = await callTool(client, tool.name, { [key]: value });
        assert.equal(result.isError, true, `${tool.name} ignored unknown key ${key}`);
        assert.match(result.text, RegExp(`Unrecognized key.*${key}`), result.text);
      }),
      fuzzRuns(40),
    );
    for (const tool of tools) {
      assert.equal(tool.inputSchema.additionalProperties, false, `${tool.name} is not strict`);
    }
  },
);

// ---------------------------------------------------------------------------------------------
// Raw JSON-RPC

/** A POST to the mcp function as a client would send it, with any body and content type. */
async function post(
  stack: TestStack,
  user: TestUser,
  body: string | Uint8Array<ArrayBuffer>,
  type: string,
): Promise<Reply> {
  const res = await stack.api(user, MCP, {
    method: "POST",
    body,
    headers: { "content-type": type, accept: "application/json, text/event-stream" },
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  return await reply(res);
}

/** Never a 5xx, nor a 500 hidden in an isError; a refusal is JSON with an error message. */
function assertRpcAnswered(r: Reply, what: string): void {
  assert.ok(r.status < 500, `${what}: ${r.status} ${show(r.body)}`);
  if (r.status === 202) return; // a notification: accepted, no body
  assert.match(r.headers.get("content-type") ?? "", /application\/json/, what);
  assert.doesNotMatch(JSON.stringify(r.body), /Internal error/i, `${what}: ${show(r.body)}`);
  if (r.status < 400) return;
  const message = (r.body as { error?: { message?: unknown } }).error?.message;
  assert.equal(typeof message, "string", `${what}: ${show(r.body)}`);
  assert.ok((message as string).length > 5, `${what}: ${show(r.body)}`);
}

const METHODS = ["tools/call", "tools/list", "initialize", "ping", "resources/list", "", "x/y"];

/** JSON-RPC envelopes with any version, id, method and params; single or batched. */
const envelope = fc.record({
  jsonrpc: fc.oneof(fc.constant("2.0"), anyJson),
  id: fc.oneof(fc.integer(), storableText(), edgeNumber, anyJson),
  method: fc.constantFrom(...METHODS),
  params: fc.oneof(
    anyFieldValue,
    fc.record({
      name: fc.constantFrom("save_memory", "search_memories", "get_memory", "nope"),
      arguments: fc.oneof(mutatedMemory, anyFieldValue),
    }),
  ),
}, { requiredKeys: ["method"] });

const rawBody = fc.oneof(
  malformedJson,
  envelope.map((e) => JSON.stringify(e)),
  fc.array(envelope, { minLength: 1, maxLength: 3 }).map((b) => JSON.stringify(b)),
  deepJsonText.map((deep) =>
    `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"save_memory","arguments":{"content":"ü","metadata":{"ü":${deep}}}}}`
  ),
  deepJsonText.map((deep) => `{"jsonrpc":"2.0","id":${deep},"method":"ping"}`),
);

fuzzTest(
  "fuzz/mcp: raw JSON-RPC posts get a JSON answer, never a 5xx; non-JSON is 415",
  async (stack, user) => {
    await fc.assert(
      fc.asyncProperty(rawBody, fc.constantFrom(...JSON_TYPES), async (body, type) => {
        assertRpcAnswered(await post(stack, user, body, type), `${type} ${show(body)}`);
      }),
      fuzzRuns(80),
    );
    await fc.assert(
      fc.asyncProperty(rawBody, fc.constantFrom(...NON_JSON_TYPES), async (body, type) => {
        const r = await post(stack, user, body, type);
        assertRpcAnswered(r, `${type} ${show(body)}`);
        assert.equal(r.status, tooLarge(body) ? 413 : 415, `${type}: ${show(r.body)}`);
      }),
      fuzzRuns(20),
    );
  },
);

fuzzTest(
  "fuzz/mcp: invalid UTF-8 in a tools/call is a JSON-RPC parse error, never stored",
  async (stack, user) => {
    const call = (field: string) =>
      invalidUtf8Body(field, { content: "valid" }).map((args) => {
        const head = '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":' +
          '{"name":"save_memory","arguments":';
        const enc = new TextEncoder();
        return Uint8Array.from([...enc.encode(head), ...args, ...enc.encode("}}")]);
      });
    await fc.assert(
      fc.asyncProperty(fc.oneof(call("content"), call("title")), async (body) => {
        const r = await post(stack, user, body, "application/json");
        assertRpcAnswered(r, show(body));
        assert.equal(r.status, 400, show(r.body));
        assert.equal((r.body as { error: { code: number } }).error.code, -32700);
        assert.match(show(r.body), /UTF-8/);
      }),
      fuzzRuns(20),
    );
    const [{ n }] = await stack.db.query<{ n: number }>(
      "select count(*)::int as n from memories where user_id = $1",
      [user.userId],
    );
    assert.equal(n, 0);
  },
);
