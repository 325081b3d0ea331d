/**
 * The `embed` function on its own (called directly, no webhook): the shared secret, batches,
 * idempotence, the race guard and failure accounting; and the sweep's choice of rows
 * (private.embedding_retry_due) with its backoff.
 */
import assert from "node:assert/strict";
import { type AppContext, createContext } from "../shared/app/context.ts";
import { loadConfig } from "../shared/config.ts";
import { asUser } from "../shared/db/as_user.ts";
import type { Database } from "../shared/db/types.ts";
import { createEmbedHandler } from "../shared/embed/handler.ts";
import { MAX_EMBED_ATTEMPTS } from "../shared/embed/worker.ts";
import { embeddingText } from "../shared/embed/worker.ts";
import {
  EmbeddingError,
  type EmbeddingProvider,
  HashEmbeddingProvider,
} from "../shared/embeddings/index.ts";
import { testEachBackend } from "./helpers/db.ts";
import { assertSameVector, embeddingState, newWriter, withWebhookDb } from "./helpers/embed.ts";

const SECRET = "test-webhook-secret-0123456789";
const hash = new HashEmbeddingProvider();

/** The embed handler over db with the given provider (hash by default). */
function embedFunction(db: Database, embedder: EmbeddingProvider = hash) {
  const config = loadConfig({ EMBEDDING_PROVIDER: "hash", WEBHOOK_SECRET: SECRET });
  const ctx: AppContext = { ...createContext(config, db), embedder };
  const handler = createEmbedHandler(ctx);
  return async (
    body: unknown,
    headers: Record<string, string> = { "x-webhook-secret": SECRET },
  ) => {
    const res = await handler(
      new Request("http://localhost/embed", {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify(body),
      }),
    );
    return { status: res.status, body: await res.json() };
  };
}

/** Counts embed() calls and texts, delegating to another provider. */
function counting(inner: EmbeddingProvider) {
  const calls: string[][] = [];
  const provider: EmbeddingProvider = {
    name: inner.name,
    model: inner.model,
    semantic: inner.semantic,
    embed: (texts) => {
      calls.push(texts);
      return inner.embed(texts);
    },
  };
  return { provider, calls };
}

testEachBackend(
  "embed: a missing or wrong secret is a 401 and writes nothing",
  (backend) =>
    withWebhookDb(backend, async (db) => {
      const writer = await newWriter(db);
      const id = await writer.save("Use pgvector's HNSW index for cosine search", "HNSW");
      const before = await embeddingState(db, id);
      const call = embedFunction(db);
      const body = { type: "INSERT", table: "memories", schema: "public", record: { id } };

      const wrong: Record<string, string>[] = [
        {},
        { "x-webhook-secret": "wrong" },
        { "x-webhook-secret": SECRET.slice(0, -1) + "X" },
        { authorization: "Bearer wrong" },
        { authorization: `Basic ${SECRET}` },
      ];
      for (const headers of wrong) {
        const res = await call(body, headers);
        assert.equal(res.status, 401, JSON.stringify(headers));
        assert.equal(res.body.error.code, "unauthorized");
      }
      assert.deepEqual(await embeddingState(db, id), before, "nothing was written");
      assert.equal(before.status, "pending");

      // The right secret, also as a bearer token: embedded, with the model and the text's vector.
      const res = await call(body, { authorization: `Bearer ${SECRET}` });
      assert.equal(res.status, 200);
      assert.deepEqual(res.body.embedded, [id]);
      const after = await embeddingState(db, id);
      assert.equal(after.status, "ready");
      assert.equal(after.model, "hash-v2");
      assert.ok(after.embeddedAt);
      const [expected] = await hash.embed([
        embeddingText({ title: "HNSW", content: "Use pgvector's HNSW index for cosine search" }),
      ]);
      assertSameVector(after.vector, expected);
    }),
);

testEachBackend(
  "embed: rejects other methods and bodies it does not understand",
  (backend) =>
    withWebhookDb(backend, async (db) => {
      const config = loadConfig({ EMBEDDING_PROVIDER: "hash", WEBHOOK_SECRET: SECRET });
      const handler = createEmbedHandler(createContext(config, db));
      const get = await handler(
        new Request("http://localhost/embed", { headers: { "x-webhook-secret": SECRET } }),
      );
      assert.equal(get.status, 405);
      await get.body?.cancel();

      const call = embedFunction(db);
      const tooMany = Array.from({ length: 101 }, () => crypto.randomUUID());
      for (
        const body of [
          null,
          { ids: [] },
          { ids: ["not-a-uuid"] },
          { ids: tooMany },
          { type: "INSERT", table: "projects", record: { id: crypto.randomUUID() } },
        ]
      ) {
        const res = await call(body);
        assert.equal(res.status, 400, JSON.stringify(body).slice(0, 80));
        assert.equal(res.body.error.code, "bad_request");
      }
      assert.throws(
        () => createEmbedHandler(createContext(loadConfig({ EMBEDDING_PROVIDER: "hash" }), db)),
        /WEBHOOK_SECRET must be set/,
      );
    }),
);

testEachBackend(
  "embed: a batch of ids in one provider call; repeats are skipped",
  (backend) =>
    withWebhookDb(backend, async (db) => {
      const writer = await newWriter(db);
      const ids = await writer.insertMany(["alpha memory", "beta memory", "gamma memory"]);
      const unknown = crypto.randomUUID();
      const { provider, calls } = counting(hash);
      const call = embedFunction(db, provider);

      const first = await call({ ids: [...ids, unknown, ids[0]] });
      assert.equal(first.status, 200);
      assert.deepEqual([...first.body.embedded].sort(), [...ids].sort());
      assert.deepEqual(first.body.missing, [unknown]);
      assert.equal(calls.length, 1, "one provider call for the batch");
      assert.deepEqual([...calls[0]].sort(), ["alpha memory", "beta memory", "gamma memory"]);
      const states = await Promise.all(ids.map((id) => embeddingState(db, id)));
      for (const s of states) assert.equal(s.status, "ready");

      const again = await call({ ids });
      assert.equal(again.status, 200);
      assert.deepEqual([...again.body.skipped].sort(), [...ids].sort());
      assert.deepEqual(again.body.embedded, []);
      assert.equal(calls.length, 1, "nothing to embed the second time");
      assert.deepEqual(await Promise.all(ids.map((id) => embeddingState(db, id))), states);
    }),
);

testEachBackend(
  "embed: a vector for content that changed meanwhile is dropped",
  (backend) =>
    withWebhookDb(backend, async (db) => {
      const writer = await newWriter(db);
      const [id] = await writer.insertMany(["the old content"]);
      // A provider during whose work the user edits the memory.
      const racing: EmbeddingProvider = {
        name: "hash",
        model: "hash-v2",
        semantic: false,
        async embed(texts) {
          await asUser(
            db,
            writer.userId,
            (tx) => tx.query("update memories set content = 'the new content' where id = $1", [id]),
          );
          return await hash.embed(texts);
        },
      };
      const res = await embedFunction(db, racing)({ ids: [id] });
      assert.equal(res.status, 200);
      assert.deepEqual(res.body.skipped, [id]);
      const state = await embeddingState(db, id);
      assert.equal(state.status, "pending", "the stale vector was not stored");
      assert.equal(state.vector, null);

      const retry = await embedFunction(db)({ ids: [id] });
      assert.deepEqual(retry.body.embedded, [id]);
      assertSameVector(
        (await embeddingState(db, id)).vector,
        (await hash.embed(["the new content"]))[0],
      );
    }),
);

testEachBackend("embed: provider failures answer 503, count attempts, then mark failed", (
  backend,
) =>
  withWebhookDb(backend, async (db) => {
    const writer = await newWriter(db);
    const [id] = await writer.insertMany(["a memory the provider cannot embed right now"]);
    const down: EmbeddingProvider = {
      name: "openai",
      model: "openai/text-embedding-3-small",
      semantic: true,
      embed: () => Promise.reject(new EmbeddingError("HTTP 503: overloaded", { status: 503 })),
    };
    const call = embedFunction(db, down);
    for (let attempt = 1; attempt <= MAX_EMBED_ATTEMPTS; attempt++) {
      const res = await call({ ids: [id] });
      assert.equal(res.status, 503);
      assert.equal(res.body.error.code, "embedding_unavailable");
      assert.deepEqual(res.body.failed, [id]);
      const state = await embeddingState(db, id);
      assert.equal(state.attempts, attempt);
      assert.equal(state.error, "HTTP 503: overloaded");
      assert.equal(state.status, attempt < MAX_EMBED_ATTEMPTS ? "pending" : "failed");
      assert.equal(state.vector, null);
    }
    // Given up: even with no waiting at all, the sweep leaves it alone.
    const due = await db.query<{ id: string }>(
      "select private.embedding_retry_due(100000, interval '0', interval '0') as id",
    );
    assert.ok(!due.some((r) => r.id === id));
  }));

testEachBackend("sweep: stuck and failed rows are due after their backoff, then claimed", (
  backend,
) =>
  withWebhookDb(backend, async (db) => {
    const writer = await newWriter(db);
    const names = ["stuck", "fresh", "backing-off", "backed-off", "given-up", "ready", "expired"];
    const ids = Object.fromEntries(
      (await writer.insertMany(names.map((n) => `sweep row ${n}`))).map((id, i) => [names[i], id]),
    );
    const set = (name: string, sql: string) =>
      db.query(`update public.memories set ${sql} where id = $1`, [ids[name]]);
    await set("stuck", "updated_at = now() - interval '1 minute'");
    await set(
      "backing-off",
      `updated_at = now() - interval '1 hour', embedding_attempts = 2,
      embedding_requested_at = now() - interval '45 seconds'`,
    ); // waits 30 s * 2^1 = 60 s
    await set(
      "backed-off",
      `updated_at = now() - interval '1 hour', embedding_attempts = 2,
      embedding_requested_at = now() - interval '90 seconds'`,
    );
    await set(
      "given-up",
      `updated_at = now() - interval '1 hour', embedding_attempts = 5,
      embedding_status = 'failed'`,
    );
    await set("ready", `updated_at = now() - interval '1 hour', embedding_status = 'ready'`);
    await set(
      "expired",
      `updated_at = now() - interval '1 hour',
      expires_at = now() - interval '1 minute'`,
    );

    const sweep = async () => {
      const rows = await db.query<{ id: string }>(
        `select private.embedding_retry_due(100000, interval '30 seconds', interval '30 seconds',
           5) as id`,
      );
      const mine = new Set(Object.values(ids));
      return rows.map((r) => r.id).filter((id) => mine.has(id)).sort();
    };
    assert.deepEqual(await sweep(), [ids["stuck"], ids["backed-off"]].sort());
    assert.deepEqual(await sweep(), [], "claimed rows wait for their next turn");
    const [{ requested }] = await db.query<{ requested: boolean }>(
      "select embedding_requested_at > now() - interval '1 minute' as requested from memories where id = $1",
      [ids["stuck"]],
    );
    assert.equal(requested, true);
  }));

testEachBackend(
  "embed: storing vectors retires cached searches over the memory's project",
  (backend) =>
    withWebhookDb(backend, async (db) => {
      const writer = await newWriter(db);
      const id = await writer.save("Rotate the JWT signing keys every quarter", "Key rotation");
      const config = loadConfig({ EMBEDDING_PROVIDER: "hash", WEBHOOK_SECRET: SECRET });
      const ctx = createContext(config, db);
      const search = () =>
        ctx.search.search(writer.userId, { query: "signing keys", project: "embed" });
      assert.equal((await search()).cached, false);
      assert.equal((await search()).cached, true);

      const res = await createEmbedHandler(ctx)(
        new Request("http://localhost/embed", {
          method: "POST",
          headers: { "content-type": "application/json", "x-webhook-secret": SECRET },
          body: JSON.stringify({ ids: [id] }),
        }),
      );
      assert.equal(res.status, 200);
      assert.deepEqual((await res.json()).embedded, [id]);
      // The cached entry predates the vector: the next search must run again.
      const after = await search();
      assert.equal(after.cached, false);
      assert.deepEqual(after.hits.map((h) => h.id), [id]);
    }),
);
