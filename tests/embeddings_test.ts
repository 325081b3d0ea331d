import assert from "node:assert/strict";
import {
  createEmbeddingProvider,
  EMBEDDING_DIMENSIONS,
  EmbeddingConfigError,
  EmbeddingError,
  type GteSession,
  HashEmbeddingProvider,
  normalize,
  OpenAIEmbeddingProvider,
  padToColumn,
  parseProviderName,
  SupabaseEmbeddingProvider,
} from "../shared/embeddings/index.ts";
import { tokenize } from "../shared/embeddings/hash.ts";
import { MAX_INPUT_CHARS, truncateForOpenAI } from "../shared/embeddings/openai.ts";
import { batches, batchesBy } from "../shared/embeddings/batch.ts";
import { toColumnVector } from "../shared/embeddings/pad.ts";
import { fakeVector, startFakeOpenAI } from "./helpers/fake_openai.ts";

// ---------------------------------------------------------------------------------------------
// helpers

function dot(a: number[], b: number[]): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i] * b[i];
  return sum;
}

/** Every vector is 384 numbers of unit length (so dot product = cosine). */
function assertColumnVectors(vectors: number[][], count: number): void {
  assert.equal(vectors.length, count);
  for (const vec of vectors) {
    assert.equal(vec.length, EMBEDDING_DIMENSIONS);
    assert.ok(Math.abs(Math.hypot(...vec) - 1) < 1e-6, `norm ${Math.hypot(...vec)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// pad.ts and batch.ts

Deno.test("padToColumn zero-pads, rejects wider vectors; normalize gives unit length", () => {
  const padded = padToColumn([3, 4]);
  assert.equal(padded.length, 384);
  assert.deepEqual(padded.slice(0, 3), [3, 4, 0]);
  assert.ok(padded.slice(2).every((x: number) => x === 0));
  assert.throws(() => padToColumn(new Array(385).fill(1)), /385 dimensions.*at most 384/);

  assert.deepEqual(normalize([3, 4]), [0.6, 0.8]);
  assert.deepEqual(normalize([0, 0]), [0, 0], "a zero vector stays zero");
  assert.throws(() => normalize([1, Number.NaN]), /non-finite value at index 1/);
});

Deno.test("batches respects the item and character limits and keeps order", () => {
  assert.deepEqual(batches(["a", "b", "c", "d", "e"], 2), [["a", "b"], ["c", "d"], ["e"]]);
  assert.deepEqual(batches(["aaaa", "bb", "cc", "dddddd", "e"], 10, 5), [
    ["aaaa"],
    ["bb", "cc"],
    ["dddddd"], // longer than the cap: alone
    ["e"],
  ]);
  assert.deepEqual(batches([], 3), []);
  // By weight only (the embed worker: whole memories, at most 4 chunks a batch).
  const chunkCounts = [1, 3, 1, 5, 2, 2];
  assert.deepEqual(batchesBy([0, 1, 2, 3, 4, 5], Infinity, (i) => chunkCounts[i], 4), [
    [0, 1],
    [2],
    [3], // heavier than the cap: alone
    [4, 5],
  ]);
});

// ---------------------------------------------------------------------------------------------
// hash

Deno.test("hash: 384-d unit vectors, deterministic, not semantic", async () => {
  const provider = createEmbeddingProvider({ provider: "hash" });
  assert.ok(provider instanceof HashEmbeddingProvider);
  assert.equal(provider.name, "hash");
  assert.equal(provider.model, "hash-v2");
  assert.equal(provider.semantic, false);

  const texts = ["Retry failed webhooks with exponential backoff", "Ünïcödé 日本語 😀 text"];
  const first = await provider.embed(texts);
  assertColumnVectors(first, 2);
  assert.deepEqual(await new HashEmbeddingProvider().embed(texts), first, "same text, same vector");
  assert.deepEqual(await provider.embed([]), []);
});

Deno.test("hash: texts sharing words are closer than unrelated texts", async () => {
  const [query, similar, unrelated] = await new HashEmbeddingProvider().embed([
    "postgres connection pool timeout",
    "the postgres pool hits a connection timeout under load",
    "use tabs for indentation in makefiles",
  ]);
  assert.ok(dot(query, similar) > 0.4, `similar: ${dot(query, similar)}`);
  assert.ok(Math.abs(dot(query, unrelated)) < 0.2, `unrelated: ${dot(query, unrelated)}`);
});

Deno.test("hash: identifiers are split into camelCase and snake_case parts", async () => {
  assert.deepEqual(tokenize("parseJwtToken"), ["parsejwttoken", "parse", "jwt", "token"]);
  assert.deepEqual(tokenize("HTTPServer max_retry_count"), [
    "httpserver",
    "http",
    "server",
    "max_retry_count",
    "max",
    "retry",
    "count",
  ]);

  const [camel, words, snake, unrelated] = await new HashEmbeddingProvider().embed([
    "parseJwtToken",
    "parse jwt token",
    "parse_jwt_token",
    "render sidebar menu",
  ]);
  assert.ok(dot(camel, words) > 0.6, `camel vs words: ${dot(camel, words)}`);
  assert.ok(dot(snake, words) > 0.6, `snake vs words: ${dot(snake, words)}`);
  assert.ok(dot(camel, words) > dot(camel, unrelated) + 0.5);
});

Deno.test("hash: embeds thousands of texts per second", async () => {
  const texts = Array.from(
    { length: 2000 },
    (_, i) => `memory ${i}: fixSessionRefresh in auth/session.ts retries on 401 (attempt ${i})`,
  );
  const started = performance.now();
  const vectors = await new HashEmbeddingProvider().embed(texts);
  const elapsed = performance.now() - started;
  assert.equal(vectors.length, 2000);
  assert.ok(elapsed < 2000, `2000 texts took ${elapsed.toFixed(0)} ms`);
});

// ---------------------------------------------------------------------------------------------
// local: MiniLM lives in scripts/local (tests/minilm_test.ts); here only the refusal

Deno.test("local: outside the embedded stack the factory refuses it with a clear error", () => {
  assert.throws(
    () => createEmbeddingProvider({ provider: "local" }),
    (err: unknown) =>
      err instanceof EmbeddingConfigError && /runs only in the embedded stack/.test(err.message),
  );
});

// ---------------------------------------------------------------------------------------------
// openai, against a real local HTTP server

const FAST = { "retry-after-ms": "0" };

Deno.test("openai: batches, request shape, auth header and ordering by index", async () => {
  await using server = startFakeOpenAI();
  const provider = new OpenAIEmbeddingProvider({
    apiKey: "sk-test",
    baseURL: server.baseURL,
    batchSize: 2,
  });
  assert.equal(provider.name, "openai");
  assert.equal(provider.model, "openai/text-embedding-3-small");

  const texts = ["alpha", "beta", "gamma", "delta", "epsilon"];
  const vectors = await provider.embed(texts);

  assert.deepEqual(server.requests.map((r) => r.body.input), [
    ["alpha", "beta"],
    ["gamma", "delta"],
    ["epsilon"],
  ]);
  for (const request of server.requests) {
    assert.equal(request.method, "POST");
    assert.equal(request.path, "/v1/embeddings");
    assert.equal(request.headers.get("authorization"), "Bearer sk-test");
    assert.equal(request.body.model, "text-embedding-3-small");
    assert.equal(request.body.dimensions, 384);
    assert.equal(request.body.encoding_format, "float");
  }
  // The server answers in reverse order; results must follow the inputs.
  assertColumnVectors(vectors, 5);
  assert.deepEqual(vectors, texts.map((t) => toColumnVector(fakeVector(t, 384))));
  assert.deepEqual(await provider.embed([]), []);
  assert.equal(server.requests.length, 3, "empty input makes no request");
});

Deno.test("openai: 429 is retried, honouring Retry-After", async () => {
  await using server = startFakeOpenAI({
    failures: [{ status: 429, headers: { "retry-after": "0" } }],
  });
  const provider = new OpenAIEmbeddingProvider({ apiKey: "sk-test", baseURL: server.baseURL });
  const [vec] = await provider.embed(["rate limited"]);

  assert.equal(server.requests.length, 2);
  assert.deepEqual(vec, toColumnVector(fakeVector("rate limited", 384)));
  // Without the header the package would back off for at least 375 ms.
  const gap = server.requests[1].at - server.requests[0].at;
  assert.ok(gap < 350, `retried after ${gap.toFixed(0)} ms`);
});

Deno.test("openai: 500 is retried, honouring retry-after-ms", async () => {
  await using server = startFakeOpenAI({
    failures: [{ status: 500, headers: { "retry-after-ms": "200" } }],
  });
  const provider = new OpenAIEmbeddingProvider({ apiKey: "sk-test", baseURL: server.baseURL });
  const vectors = await provider.embed(["server hiccup"]);

  assertColumnVectors(vectors, 1);
  assert.equal(server.requests.length, 2);
  const gap = server.requests[1].at - server.requests[0].at;
  assert.ok(gap >= 190, `retried after ${gap.toFixed(0)} ms`);
});

Deno.test("openai: gives up after maxRetries with the last status", async () => {
  await using server = startFakeOpenAI({
    failures: [{ status: 503, headers: FAST }, { status: 503, headers: FAST }],
  });
  const provider = new OpenAIEmbeddingProvider({
    apiKey: "sk-test",
    baseURL: server.baseURL,
    maxRetries: 1,
  });
  await assert.rejects(provider.embed(["x"]), (err) => {
    assert.ok(err instanceof EmbeddingError);
    assert.equal(err.status, 503);
    assert.match(err.message, /HTTP 503/);
    return true;
  });
  assert.equal(server.requests.length, 2);
});

Deno.test("openai: a 400 fails fast with the status and the server's message", async () => {
  await using server = startFakeOpenAI({
    failures: [{
      status: 400,
      body: { error: { message: "'$.input' is invalid", type: "invalid_request_error" } },
    }],
  });
  const provider = new OpenAIEmbeddingProvider({ apiKey: "sk-test", baseURL: server.baseURL });
  await assert.rejects(provider.embed([""]), (err) => {
    assert.ok(err instanceof EmbeddingError);
    assert.equal(err.status, 400);
    assert.equal(
      err.message,
      "OpenAI embeddings request (openai/text-embedding-3-small) failed with HTTP 400: " +
        "'$.input' is invalid",
    );
    return true;
  });
  assert.equal(server.requests.length, 1, "no retry");
});

Deno.test("openai: compatible server without key; smaller vectors are padded", async () => {
  await using server = startFakeOpenAI({ dims: 256 });
  const provider = createEmbeddingProvider({
    provider: "openai",
    openai: { baseURL: server.baseURL, model: "gte-small" },
  });
  assert.equal(provider.model, "openai/gte-small");
  const vectors = await provider.embed(["one", "two"]);

  const [request] = server.requests;
  assert.equal(request.headers.get("authorization"), null, "no placeholder key is sent");
  assert.equal(request.body.model, "gte-small");
  assert.equal("dimensions" in request.body, false, "only text-embedding-3-* get dimensions");
  assertColumnVectors(vectors, 2);
  assert.ok(vectors.every((v) => v.slice(256).every((x) => x === 0)));
  assert.deepEqual(vectors[1], normalize(padToColumn(fakeVector("two", 256))));
});

Deno.test("openai: a model wider than 384 dims is rejected clearly", async () => {
  await using server = startFakeOpenAI({ dims: 768 });
  const provider = new OpenAIEmbeddingProvider({
    apiKey: "sk-test",
    baseURL: server.baseURL,
    model: "nomic-embed-text",
  });
  await assert.rejects(
    provider.embed(["wide"]),
    /returns 768-dimensional embeddings, but the column is vector\(384\)/,
  );
});

Deno.test("openai: long texts are cut to 24,000 characters before sending", async () => {
  await using server = startFakeOpenAI();
  const provider = new OpenAIEmbeddingProvider({ apiKey: "sk-test", baseURL: server.baseURL });
  await provider.embed(["x".repeat(30_000), "short"]);

  const [input] = server.requests.map((r) => r.body.input);
  assert.deepEqual(input?.map((t) => t.length), [MAX_INPUT_CHARS, 5]);
  // Never split a surrogate pair: that would send invalid UTF-16.
  const emoji = "a".repeat(MAX_INPUT_CHARS - 1) + "😀";
  assert.equal(truncateForOpenAI(emoji), "a".repeat(MAX_INPUT_CHARS - 1));
  assert.equal(truncateForOpenAI("short"), "short");
});

// ---------------------------------------------------------------------------------------------
// supabase (gte-small on Edge Runtime), with a fake session

class FakeGteSession implements GteSession {
  readonly calls: { input: string; options: unknown }[] = [];

  async run(input: string, options: { mean_pool: boolean; normalize: boolean }) {
    this.calls.push({ input, options });
    // Longer texts answer faster, so ordering bugs would show.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, 10 - input.length)));
    return fakeVector(input, 384);
  }
}

Deno.test("supabase: gte-small vectors are exactly 384-d, in input order", async () => {
  const session = new FakeGteSession();
  const provider = new SupabaseEmbeddingProvider(session);
  assert.equal(provider.name, "supabase");
  assert.equal(provider.model, "supabase/gte-small");

  const texts = ["a", "bbbbbbbbb", "cccc"];
  const vectors = await provider.embed(texts);

  assertColumnVectors(vectors, 3);
  assert.deepEqual(vectors, texts.map((t) => normalize(fakeVector(t, 384))));
  assert.deepEqual(
    session.calls,
    texts.map((input) => ({
      input,
      options: { mean_pool: true, normalize: true },
    })),
  );
});

Deno.test("supabase: a malformed or failed inference becomes an EmbeddingError", async () => {
  const bad = new SupabaseEmbeddingProvider({ run: () => Promise.resolve({ error: "?" }) });
  await assert.rejects(bad.embed(["x"]), EmbeddingError);
  const failing = new SupabaseEmbeddingProvider({ run: () => Promise.reject(new Error("OOM")) });
  await assert.rejects(failing.embed(["x"]), /gte-small inference failed: OOM/);
});

Deno.test("factory: supabase needs the Edge Runtime global", async () => {
  assert.equal("Supabase" in globalThis, false);
  assert.throws(
    () => createEmbeddingProvider({ provider: "supabase" }),
    (err) =>
      err instanceof EmbeddingConfigError && /only on Supabase Edge Runtime/.test(err.message),
  );

  const models: string[] = [];
  const runtime = globalThis as Record<string, unknown>;
  runtime.Supabase = {
    ai: {
      Session: class extends FakeGteSession {
        constructor(model: string) {
          super();
          models.push(model);
        }
      },
    },
  };
  try {
    const provider = createEmbeddingProvider({ provider: "supabase" });
    assertColumnVectors(await provider.embed(["on the edge"]), 1);
    assert.deepEqual(models, ["gte-small"]);
  } finally {
    delete runtime.Supabase;
  }
});

// ---------------------------------------------------------------------------------------------
// factory and configuration errors

Deno.test("factory: unknown provider names list the valid ones", () => {
  const valid = /Valid providers: local, openai, supabase, hash\./;
  assert.throws(
    // deno-lint-ignore no-explicit-any -- a bad value from untyped config
    () => createEmbeddingProvider({ provider: "pinecone" as any }),
    (err) => err instanceof EmbeddingConfigError && valid.test(err.message),
  );
  assert.throws(
    () => parseProviderName("pinecone", "local"),
    (err) =>
      err instanceof EmbeddingConfigError && /"pinecone"/.test(err.message) &&
      valid.test(err.message),
  );
  assert.equal(parseProviderName(undefined, "local"), "local");
  assert.equal(parseProviderName("  ", "hash"), "hash");
  assert.equal(parseProviderName(" OpenAI ", "local"), "openai");
});

Deno.test("factory: openai needs a key unless a baseURL is set; options are checked", () => {
  assert.throws(
    () => createEmbeddingProvider({ provider: "openai" }),
    (err) => err instanceof EmbeddingConfigError && /needs an API key/.test(err.message),
  );
  assert.throws(
    () => createEmbeddingProvider({ provider: "openai", openai: { apiKey: " " } }),
    EmbeddingConfigError,
  );
  assert.throws(
    () => new OpenAIEmbeddingProvider({ apiKey: "k", batchSize: 0 }),
    /openai.batchSize must be an integer >= 1, got 0/,
  );
  assert.throws(
    () => new OpenAIEmbeddingProvider({ apiKey: "k", baseURL: "not a url" }),
    /not a valid URL/,
  );
  const withKey = createEmbeddingProvider({ provider: "openai", openai: { apiKey: "sk-x" } });
  assert.equal(withKey.model, "openai/text-embedding-3-small");
});
