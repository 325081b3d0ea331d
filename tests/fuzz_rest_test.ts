/**
 * Property/fuzz tests of the REST API's input handling: exotic and hostile text, NUL and lone
 * surrogates, sizes around the limits, wrong types, deep JSON, huge numbers, unknown keys,
 * invalid UTF-8, wrong content types and malformed JSON. Every answer is a 2xx or a 4xx JSON
 * error with a message (never a 5xx or a hang), and whatever was accepted reads back exactly as
 * sent. Hand-written cases live in foundation_input_test.ts and security_input_test.ts.
 */
import assert from "node:assert/strict";
import type { Memory } from "../shared/memory/types.ts";
import { testEachBackend } from "./helpers/db.ts";
import { MEMORIES, type Reply, reply } from "./helpers/foundation.ts";
import {
  assertClearError,
  assertRoundTrip,
  deepJsonText,
  edgeNumber,
  fc,
  fuzzRuns,
  HOSTILE,
  invalidUtf8Body,
  JSON_TYPES,
  malformedJson,
  mutatedMemory,
  NON_JSON_TYPES,
  poisonedMemory,
  REQUEST_TIMEOUT_MS,
  searchBody,
  show,
  storable,
  storableText,
  tooLarge,
  unstorableText,
  validMemory,
} from "./helpers/fuzz.ts";
import { type TestStack, type TestUser, withStack } from "./helpers/stack.ts";

/** A stack per backend with rate limiting off: these tests send hundreds of requests. */
const fuzzTest = (name: string, fn: (stack: TestStack, user: TestUser) => Promise<void>) =>
  testEachBackend(
    name,
    (backend) =>
      withStack(backend, async (stack) => fn(stack, await stack.newUser()), {
        RATE_LIMIT_REQUESTS: "0",
      }),
  );

interface ApiRequest {
  method: string;
  path: string;
  json?: unknown;
  body?: Uint8Array<ArrayBuffer> | string;
  type?: string;
}

/** Sends one request; a hang past REQUEST_TIMEOUT_MS fails the property. */
async function send(stack: TestStack, user: TestUser, r: ApiRequest): Promise<Reply> {
  const headers: Record<string, string> = r.type === undefined ? {} : { "content-type": r.type };
  const res = await stack.api(user, r.path, {
    method: r.method,
    json: r.json,
    body: r.body,
    headers,
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  return await reply(res);
}

/** Never a 5xx; always JSON; an error says what is wrong. */
function assertAnswered(r: Reply, req: ApiRequest): void {
  const what = `${req.method} ${req.path.slice(0, 200)} ${show(req.json ?? req.body)}`;
  assert.ok(r.status < 500, `${what}: ${r.status} ${show(r.body)}`);
  assert.match(r.headers.get("content-type") ?? "", /application\/json/, what);
  if (r.status >= 400) assertClearError(r.status, r.body, what);
}

const memoryPath = (id: string) => `${MEMORIES}/${id}`;

async function getMemory(stack: TestStack, user: TestUser, id: string): Promise<Memory> {
  const r = await send(stack, user, { method: "GET", path: memoryPath(id) });
  assert.equal(r.status, 200, show(r.body));
  return (r.body as { memory: Memory }).memory;
}

async function deleteMemory(stack: TestStack, user: TestUser, id: string): Promise<void> {
  const r = await send(stack, user, { method: "DELETE", path: memoryPath(id) });
  assert.equal(r.status, 200, show(r.body));
}

/** A valid memory to PATCH, or to see unchanged after a refused write. */
async function saveTarget(stack: TestStack, user: TestUser): Promise<Memory> {
  const r = await send(stack, user, {
    method: "POST",
    path: MEMORIES,
    json: { content: `target ${crypto.randomUUID()}`, title: "target" },
  });
  assert.equal(r.status, 201, show(r.body));
  return (r.body as { memory: Memory }).memory;
}

fuzzTest(
  "fuzz/rest: accepted memories round-trip byte for byte (POST, GET, list, PATCH)",
  async (stack, user) => {
    await fc.assert(
      fc.asyncProperty(validMemory, validMemory, async (body, patch) => {
        const created = await send(stack, user, { method: "POST", path: MEMORIES, json: body });
        assert.equal(created.status, 201, `${show(created.body)} for ${show(body)}`);
        const { id } = (created.body as { memory: Memory }).memory;
        try {
          assertRoundTrip((created.body as { memory: Memory }).memory, body, "POST");
          assertRoundTrip(await getMemory(stack, user, id), body, "GET");
          const list = await send(stack, user, { method: "GET", path: `${MEMORIES}?limit=100` });
          const listed = (list.body as { memories: Memory[] }).memories.find((m) => m.id === id);
          assert.ok(listed, `memory ${id} is not listed`);
          assertRoundTrip(listed, body, "list");

          const patched = await send(stack, user, {
            method: "PATCH",
            path: memoryPath(id),
            json: patch,
          });
          assert.equal(patched.status, 200, `${show(patched.body)} for ${show(patch)}`);
          assertRoundTrip(await getMemory(stack, user, id), { ...body, ...patch }, "PATCH+GET");
        } finally {
          await deleteMemory(stack, user, id);
        }
      }),
      fuzzRuns(25),
    );
  },
);

fuzzTest(
  "fuzz/rest: NUL and lone surrogates are refused with a 400 naming the field",
  async (stack, user) => {
    const target = await saveTarget(stack, user);
    await fc.assert(
      fc.asyncProperty(poisonedMemory, async ({ body, field }) => {
        for (
          const req of [
            { method: "POST", path: MEMORIES, json: body },
            { method: "PATCH", path: memoryPath(target.id), json: body },
          ]
        ) {
          const r = await send(stack, user, req);
          assert.equal(r.status, 400, `${req.method} ${field}: ${show(r.body)} for ${show(body)}`);
          assertClearError(r.status, r.body, field);
          assert.match((r.body as { error: { message: string } }).error.message, RegExp(field));
        }
      }),
      fuzzRuns(40),
    );
    const after = await getMemory(stack, user, target.id);
    assert.equal(after.version, 1, "no refused PATCH changed the memory");
    const [{ n }] = await stack.db.query<{ n: number }>(
      "select count(*)::int as n from memories where user_id = $1",
      [user.userId],
    );
    assert.equal(n, 1, "no refused POST stored anything");
  },
);

fuzzTest(
  "fuzz/rest: any memory body gets a 2xx or a clear 4xx, and what is accepted round-trips",
  async (stack, user) => {
    const target = await saveTarget(stack, user);
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(mutatedMemory, fc.boolean(), async (body, post) => {
        const req = post
          ? { method: "POST", path: MEMORIES, json: body }
          : { method: "PATCH", path: memoryPath(target.id), json: body };
        const r = await send(stack, user, req);
        assertAnswered(r, req);
        if (r.status >= 300) return;
        accepted++;
        const { memory, duplicate } = r.body as { memory: Memory; duplicate?: boolean };
        if (duplicate) return; // content already saved (maybe PATCHed into the target): kept as is
        assertRoundTrip(memory, body, req.method);
        assertRoundTrip(await getMemory(stack, user, memory.id), body, `${req.method}+GET`);
        if (post) await deleteMemory(stack, user, memory.id);
      }),
      fuzzRuns(80),
    );
    assert.ok(accepted > 0, "the fuzzer never produced an acceptable body");
  },
);

/** Query parameters of GET /memories, plus unknown ones. */
const LIST_PARAMS = ["project", "kind", "tags", "since", "until", "limit", "cursor", "bogus"];

const weirdValue = fc.oneof(
  storableText(),
  unstorableText,
  fc.constantFrom(...HOSTILE),
  edgeNumber.map(String),
  fc.constantFrom(
    "",
    "0",
    "-1",
    "1e400",
    "0x10",
    " 5 ",
    "2024-02-30T00:00:00Z",
    "0000-01-01T00:00:00Z",
  ),
);

/** Raw query strings, percent-escapes broken or decoding to invalid UTF-8 or NUL included. */
const rawQuery = fc.constantFrom(
  "limit=%",
  "limit=%ZZ",
  "project=%00",
  "project=%ED%A0%80",
  "tags=%FF%FE",
  "tags=,,,",
  "tags=a&tags=b&tags=",
  "cursor=%F0%9F%98",
  "limit=1&limit=2",
  "&&&==&",
  "kind[]=note",
  `tags=${"a,".repeat(5000)}`,
);

const listQuery = fc.oneof(
  fc.dictionary(fc.constantFrom(...LIST_PARAMS), weirdValue, { maxKeys: 3 })
    .map((q) => new URLSearchParams(q as Record<string, string>).toString()),
  rawQuery,
);

/** Path segments where a memory id belongs. */
const weirdId = fc.oneof(
  storableText().map((s) => encodeURIComponent(s.toWellFormed())),
  fc.constantFrom(
    "%",
    "%00",
    "%ED%A0%80",
    "..",
    "%2e%2e%2fkeys",
    "a%2Fb",
    "null",
    "00000000-0000-0000-0000-000000000000",
    "ffffffff-ffff-ffff-ffff-ffffffffffff",
    "123e4567-e89b-12d3-a456-42661417400",
    "{123e4567-e89b-12d3-a456-426614174000}",
    "123E4567-E89B-12D3-A456-426614174000",
    "x".repeat(5000),
  ),
);

const readRequest: fc.Arbitrary<ApiRequest> = fc.oneof(
  searchBody.map((json) => ({ method: "POST", path: `${MEMORIES}/search`, json })),
  listQuery.map((q) => ({ method: "GET", path: `${MEMORIES}?${q}` })),
  fc.tuple(fc.constantFrom("GET", "PATCH", "DELETE"), weirdId).map(([method, id]) => ({
    method,
    path: memoryPath(id),
    json: method === "PATCH" ? { title: "renamed" } : undefined,
  })),
);

fuzzTest(
  "fuzz/rest: search, list and weird ids get a 2xx or a clear 4xx",
  async (stack, user) => {
    const target = await saveTarget(stack, user);
    await fc.assert(
      fc.asyncProperty(readRequest, async (req) => {
        const r = await send(stack, user, req);
        assertAnswered(r, req);
        // An unstorable query is refused up front: it is recorded for analytics after the search.
        const query = (req.json as { query?: unknown } | undefined)?.query;
        if (typeof query === "string" && !storable(query)) {
          assert.equal(r.status, tooLarge(JSON.stringify(req.json)) ? 413 : 400, show(r.body));
        }
      }),
      fuzzRuns(100),
    );
    assert.equal((await getMemory(stack, user, target.id)).title, "target");
  },
);

/** Endpoints that take a JSON body. */
const JSON_ENDPOINTS = [
  { method: "POST", path: MEMORIES },
  { method: "PATCH", path: memoryPath("{id}") },
  { method: "POST", path: `${MEMORIES}/search` },
  { method: "POST", path: `${MEMORIES}/projects` },
];

/** A well-formed save body sent with a content type that is not JSON. */
const wrongTypeRequest = fc.record({
  endpoint: fc.constantFrom(...JSON_ENDPOINTS),
  type: fc.constantFrom(...NON_JSON_TYPES),
  body: validMemory.map((b) => JSON.stringify(b)),
});

/** Raw JSON bodies: malformed, deep (as a whole or in a field), with huge numbers. */
const rawJsonRequest = fc.record({
  endpoint: fc.constantFrom(...JSON_ENDPOINTS),
  type: fc.constantFrom(...JSON_TYPES),
  body: fc.oneof(
    malformedJson,
    deepJsonText,
    fc.tuple(fc.constantFrom("metadata", "content", "tags", "title", "bogus"), deepJsonText)
      .map(([field, deep]) => `{"content":"deep ü","${field}":{"ü":${deep}}}`),
  ),
});

fuzzTest("fuzz/rest: a body that is not declared as JSON is a 415", async (stack, user) => {
  const target = await saveTarget(stack, user);
  await fc.assert(
    fc.asyncProperty(wrongTypeRequest, async ({ endpoint, type, body }) => {
      const req = { ...endpoint, path: endpoint.path.replace("{id}", target.id), body, type };
      const r = await send(stack, user, req);
      assertAnswered(r, req);
      assert.equal(r.status, 415, `${type}: ${show(r.body)}`);
      assert.match(show(r.body), /application\/json/);
    }),
    fuzzRuns(30),
  );
  assert.equal((await getMemory(stack, user, target.id)).version, 1);
});

fuzzTest(
  "fuzz/rest: malformed, deep or odd JSON bodies get a 2xx or a clear 4xx",
  async (stack, user) => {
    const target = await saveTarget(stack, user);
    await fc.assert(
      fc.asyncProperty(rawJsonRequest, async ({ endpoint, type, body }) => {
        const req = { ...endpoint, path: endpoint.path.replace("{id}", target.id), body, type };
        const r = await send(stack, user, req);
        assertAnswered(r, req);
        if (r.status < 300 && req.method === "POST" && req.path === MEMORIES) {
          await deleteMemory(stack, user, (r.body as { memory: Memory }).memory.id);
        }
      }),
      fuzzRuns(60),
    );
  },
);

fuzzTest(
  "fuzz/rest: invalid UTF-8 in a JSON body is a 400, never stored as U+FFFD",
  async (stack, user) => {
    const target = await saveTarget(stack, user);
    const requests = fc.oneof(
      invalidUtf8Body("content").map((body) => ({ method: "POST", path: MEMORIES, body })),
      invalidUtf8Body("title", { content: "ok" }).map((body) => ({
        method: "POST",
        path: MEMORIES,
        body,
      })),
      invalidUtf8Body("content").map((body) => ({
        method: "PATCH",
        path: memoryPath(target.id),
        body,
      })),
      invalidUtf8Body("query").map((body) => ({
        method: "POST",
        path: `${MEMORIES}/search`,
        body,
      })),
    );
    await fc.assert(
      fc.asyncProperty(requests, async (req) => {
        const r = await send(stack, user, { ...req, type: "application/json" });
        assertAnswered(r, req);
        assert.equal(r.status, 400, show(r.body));
        assert.match(show(r.body), /UTF-8/);
      }),
      fuzzRuns(30),
    );
    assert.equal((await getMemory(stack, user, target.id)).version, 1);
  },
);

fuzzTest(
  "fuzz/rest: an empty or blank title is a 400; an omitted one is fine",
  async (stack, user) => {
    const blank = fc.string({
      unit: fc.constantFrom(" ", "\t", "\n", "\r", "\u00a0", "\u2028", "\u3000", "\ufeff"),
      maxLength: 6,
    });
    const target = await saveTarget(stack, user);
    await fc.assert(
      fc.asyncProperty(blank, async (title) => {
        for (
          const req of [
            { method: "POST", path: MEMORIES, json: { content: "has a blank title", title } },
            { method: "PATCH", path: memoryPath(target.id), json: { title } },
          ]
        ) {
          const r = await send(stack, user, req);
          assert.equal(r.status, 400, `${req.method} title ${show(title)}: ${show(r.body)}`);
          assert.match(show(r.body), /title/);
        }
      }),
      fuzzRuns(20),
    );
    const untitled = await send(stack, user, {
      method: "POST",
      path: MEMORIES,
      json: { content: "no title at all" },
    });
    assert.equal(untitled.status, 201, show(untitled.body));
    assert.equal((untitled.body as { memory: Memory }).memory.title, null);
    assert.equal((await getMemory(stack, user, target.id)).title, "target");
  },
);
