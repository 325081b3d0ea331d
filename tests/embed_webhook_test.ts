/**
 * The embedding webhook end to end: INSERT/UPDATE trigger → net.http_post (pg_net stand-in)
 * → relay → `embed` → vector stored; rollbacks send nothing; a provider outage leaves rows
 * pending until the sweep embeds them; the openai provider's requests are checked on a local
 * OpenAI-compatible server. Every stack routes only its own pool's writes to itself, so these
 * tests also hold on a PostgreSQL shared with other test runs.
 */
import assert from "node:assert/strict";
import { sha256Hex } from "../shared/auth/api_keys.ts";
import { asUser } from "../shared/db/as_user.ts";
import type { Database } from "../shared/db/types.ts";
import { embeddingText } from "../shared/embed/worker.ts";
import { HashEmbeddingProvider } from "../shared/embeddings/index.ts";
import { toColumnVector } from "../shared/embeddings/pad.ts";
import { installPgNetStandIn } from "../scripts/dev/pg_net/install.ts";
import { startNetRelay } from "../scripts/dev/pg_net/relay.ts";
import { ensureWebhookSecret } from "../scripts/local/embed_pipeline.ts";
import { deleteSettingIf, ownEmbedUrlKey, setSetting } from "../scripts/local/settings.ts";
import { openTestDb, testEachBackend } from "./helpers/db.ts";
import { assertSameVector, embeddingState, newWriter, waitForEmbeddings } from "./helpers/embed.ts";
import { fakeVector, startFakeOpenAI } from "./helpers/fake_openai.ts";
import { type TestStack, withStack } from "./helpers/stack.ts";
import { waitFor } from "./helpers/wait.ts";

const MEMORIES = "/functions/v1/memories";
const hash = new HashEmbeddingProvider();

/** What `embed` answered for requests that mentioned this id (its responses list every id). */
async function responsesFor(db: Database, id: string) {
  return await db.query<{ status_code: number | null; content: string | null }>(
    "select status_code, content from net._http_response where strpos(content, $1) > 0",
    [id],
  );
}

/** Waits until at least `count` answers mention the id, then returns them all. */
const responsesAbout = (db: Database, id: string, count: number) =>
  waitFor(async () => {
    const answers = await responsesFor(db, id);
    return answers.length >= count && answers;
  }, { message: `${count} recorded answer(s) about ${id}` });

async function queuedFor(db: Database, id: string): Promise<number> {
  const rows = await db.query(
    "select 1 from net.http_request_queue where strpos(convert_from(body, 'UTF8'), $1) > 0",
    [id],
  );
  return rows.length;
}

async function saveOverRest(stack: TestStack, content: string, title?: string) {
  const user = await stack.newUser();
  const res = await stack.api(user, MEMORIES, { method: "POST", json: { content, title } });
  assert.equal(res.status, 201);
  const { memory } = await res.json();
  return { user, id: memory.id as string, projectId: memory.project_id as string };
}

const waitReady = (db: Database, id: string, message = "the embedding") =>
  waitFor(async () => {
    const state = await embeddingState(db, id);
    return state.status === "ready" && state;
  }, { message });

testEachBackend(
  "webhook: Supabase-shaped bodies for committed inserts and text edits only",
  async (backend) => {
    const db = await openTestDb(backend);
    const bodies: Record<string, unknown>[] = [];
    const headers: Headers[] = [];
    const receiver = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (req) => {
      bodies.push(await req.json());
      headers.push(req.headers);
      return Response.json({ ok: true });
    });
    const ownKey = await ownEmbedUrlKey(db);
    const url = `http://127.0.0.1:${receiver.addr.port}/functions/v1/embed`;
    assert.equal(await installPgNetStandIn(db), true);
    const relay = await startNetRelay(db, { pollIntervalMs: 50 });
    try {
      const secret = await ensureWebhookSecret(db);
      await setSetting(db, ownKey, url);
      const writer = await newWriter(db);
      const about = (id: string) =>
        bodies.filter((b) =>
          (b.record as { id?: string } | null)?.id === id ||
          (b.ids as string[] | undefined)?.includes(id)
        );

      const id = await writer.save("first content", "A title");
      const [insert] = await waitFor(() => about(id).length > 0 && about(id), {
        message: "the INSERT webhook",
      });
      const record = insert.record as Record<string, unknown>;
      assert.deepEqual(insert, {
        type: "INSERT",
        table: "memories",
        schema: "public",
        record: {
          id,
          user_id: writer.userId,
          project_id: writer.projectId,
          content_hash: await sha256Hex("first content"),
          embedding_status: "pending",
          updated_at: record.updated_at,
        },
        old_record: null,
      }, "the content itself stays out of the queue");
      const sent = headers[bodies.indexOf(insert)];
      assert.equal(sent.get("x-webhook-secret"), secret);
      assert.equal(sent.get("content-type"), "application/json");

      const edit = (sql: string) =>
        asUser(
          db,
          writer.userId,
          (tx) => tx.query(`update memories set ${sql} where id = $1`, [id]),
        );
      await edit("importance = 0.9, tags = '{retry}'"); // not the title or content: no webhook
      await edit("content = 'second content'");
      const update = await waitFor(() => about(id)[1], { message: "the UPDATE webhook" });
      assert.equal(update.type, "UPDATE");
      assert.equal(
        (update.record as Record<string, unknown>).content_hash,
        await sha256Hex("second content"),
      );
      assert.deepEqual(Object.keys(update.old_record as object).sort(), [
        "content_hash",
        "id",
        "updated_at",
      ]);
      assert.equal(
        (update.old_record as Record<string, unknown>).content_hash,
        await sha256Hex("first content"),
      );

      // One statement, three rows: one webhook carrying all three ids.
      const batch = await writer.insertMany(["batch one", "batch two", "batch three"]);
      const [batchBody] = await waitFor(() => about(batch[0]).length > 0 && about(batch[0]), {
        message: "the batch webhook",
      });
      assert.equal(batchBody.type, "INSERT");
      assert.deepEqual([...batchBody.ids as string[]].sort(), [...batch].sort());

      // A rolled-back insert: no queue row, nothing at the receiver.
      const rolledBack = crypto.randomUUID();
      await assert.rejects(
        asUser(db, writer.userId, async (tx) => {
          await tx.query(
            "insert into memories (id, user_id, project_id, content) values ($1, $2, $3, 'oops')",
            [rolledBack, writer.userId, writer.projectId],
          );
          throw new Error("rollback");
        }),
        /rollback/,
      );
      // With this client's target switched off ('') nothing is queued either.
      await setSetting(db, ownKey, "");
      const unsent = await writer.save("not sent anywhere");
      await setSetting(db, ownKey, url);
      const marker = await writer.save("marker, sent last");
      await waitFor(() => about(marker).length > 0, { message: "the marker webhook" });
      await relay.drain();

      assert.equal(about(rolledBack).length, 0);
      assert.equal(await queuedFor(db, rolledBack), 0);
      assert.equal(about(unsent).length, 0);
      assert.equal(await queuedFor(db, unsent), 0);
      assert.equal(about(id).length, 2, "only the insert and the content edit");
      for (const b of batch) assert.equal(about(b).length, 1);
    } finally {
      await relay.stop();
      await deleteSettingIf(db, ownKey, url);
      await receiver.shutdown();
      await db.close();
    }
  },
);

testEachBackend(
  "webhook: a saved memory is embedded; a content edit re-embeds it",
  (backend) =>
    withStack(backend, async (stack) => {
      const { user, id } = await saveOverRest(stack, "Rotate the signing keys yearly", "Keys");
      const first = await waitReady(stack.db, id);
      assert.equal(first.model, "hash-v2");
      assert.equal(first.attempts, 0);
      assert.equal(first.error, null);
      assert.ok(first.embeddedAt);
      assertSameVector(
        first.vector,
        (await hash.embed([
          embeddingText({ title: "Keys", content: "Rotate the signing keys yearly" }),
        ]))[0],
      );
      // Recorded by the relay after embed's write (on a shared PostgreSQL maybe another's).
      const answers = await responsesAbout(stack.db, id, 1);
      assert.deepEqual(answers.map((a) => a.status_code), [200]);
      assert.deepEqual(JSON.parse(answers[0].content!).embedded, [id]);

      const patch = (json: unknown) =>
        stack.api(user, `${MEMORIES}/${id}`, { method: "PATCH", json }).then(async (res) => {
          assert.equal(res.status, 200);
          await res.body?.cancel();
        });
      await patch({ content: "Rotate the signing keys every six months" });
      const second = await waitFor(async () => {
        const s = await embeddingState(stack.db, id);
        return s.status === "ready" && s.contentHash !== first.contentHash && s;
      }, { message: "the new embedding" });
      assertSameVector(
        second.vector,
        (await hash.embed([
          embeddingText({ title: "Keys", content: "Rotate the signing keys every six months" }),
        ]))[0],
      );
      assert.notDeepEqual(second.vector, first.vector);

      await responsesAbout(stack.db, id, 2);
      await patch({ importance: 0.9, tags: ["security"] });
      await stack.embeds.relay?.drain();
      assert.equal((await responsesFor(stack.db, id)).length, 2, "no webhook for other fields");
      assert.equal((await embeddingState(stack.db, id)).embeddedAt, second.embeddedAt);
    }),
);

testEachBackend(
  "webhook: a rolled-back insert never reaches embed",
  (backend) =>
    withStack(backend, async (stack) => {
      const { user, projectId } = await saveOverRest(stack, "committed before");
      const rolledBack = crypto.randomUUID();
      await assert.rejects(
        asUser(stack.db, user.userId, async (tx) => {
          await tx.query(
            "insert into memories (id, user_id, project_id, content) values ($1, $2, $3, 'oops')",
            [rolledBack, user.userId, projectId],
          );
          throw new Error("rollback");
        }),
        /rollback/,
      );
      const res = await stack.api(user, MEMORIES, { method: "POST", json: { content: "after" } });
      const { memory } = await res.json();
      await waitReady(stack.db, memory.id);
      await stack.embeds.relay?.drain();
      // embed lists every id it was asked about (embedded, skipped or missing).
      assert.equal((await responsesFor(stack.db, rolledBack)).length, 0);
      assert.equal(await queuedFor(stack.db, rolledBack), 0);
    }),
);

testEachBackend(
  "webhook: provider down → pending with its error; the sweep embeds it later",
  async (backend) => {
    let down = true;
    let outages = 0;
    await using fake = startFakeOpenAI({
      // 500 and 429 alternately while down; retry-after-ms keeps the client's retries quick.
      override: () =>
        down
          ? { status: outages++ % 2 ? 429 : 500, headers: { "retry-after-ms": "1" } }
          : undefined,
    });
    const env = { EMBEDDING_PROVIDER: "openai", OPENAI_BASE_URL: fake.baseURL };
    const sweep = { intervalMs: 50, backoffBaseMs: 100 };
    await withStack(
      backend,
      async (stack) => {
        const text = `Pin the Deno version in CI ${crypto.randomUUID()}`;
        const { id } = await saveOverRest(stack, text);

        const failed = await waitFor(async () => {
          const s = await embeddingState(stack.db, id);
          return s.attempts > 0 && s;
        }, { message: "a failed attempt" });
        assert.equal(failed.status, "pending", "still pending: the sweep will retry");
        assert.match(failed.error!, /HTTP (500|429)/);
        assert.equal(failed.vector, null);
        await waitFor(
          async () => (await responsesFor(stack.db, id)).some((a) => a.status_code === 503),
          { message: "embed's 503, recorded by the relay" },
        );

        down = false;
        const ready = await waitReady(stack.db, id, "the sweep's embedding");
        assert.equal(ready.model, "openai/text-embedding-3-small");
        assert.equal(ready.error, null);
        assertSameVector(ready.vector, toColumnVector(fakeVector(text, 384)));
        const [{ swept }] = await stack.db.query<{ swept: boolean }>(
          "select embedding_requested_at is not null as swept from memories where id = $1",
          [id],
        );
        assert.equal(swept, true, "the sweep re-sent it");
        const sent = fake.requests.filter((r) => r.body.input?.includes(text));
        assert.ok(sent.length >= 2, "tried while down, then again");
        for (const r of sent) {
          assert.equal(r.body.model, "text-embedding-3-small");
          assert.equal(r.body.dimensions, 384);
          assert.equal(r.body.encoding_format, "float");
        }
      },
      env,
      { embed: { sweep } },
    );
  },
);

testEachBackend("webhook: a multi-row insert is one webhook and one provider request", async (
  backend,
) => {
  await using fake = startFakeOpenAI();
  const env = { EMBEDDING_PROVIDER: "openai", OPENAI_BASE_URL: fake.baseURL };
  await withStack(backend, async (stack) => {
    const tag = crypto.randomUUID();
    const texts = ["use zod for input", "prefer small modules", "log as JSON lines"].map((t) =>
      `${t} ${tag}`
    );
    const writer = await newWriter(stack.db);
    const ids = await writer.insertMany(texts);
    for (const id of ids) await waitReady(stack.db, id);

    const requests = fake.requests.filter((r) => r.body.input?.some((t) => t.endsWith(tag)));
    assert.equal(requests.length, 1, "one request for the three rows");
    const [request] = requests;
    assert.equal(request.path, "/v1/embeddings");
    assert.equal(request.body.model, "text-embedding-3-small");
    assert.equal(request.body.dimensions, 384);
    assert.deepEqual([...request.body.input!].sort(), [...texts].sort());

    for (const [i, id] of ids.entries()) {
      const state = await embeddingState(stack.db, id);
      assert.equal(state.model, "openai/text-embedding-3-small");
      assertSameVector(state.vector, toColumnVector(fakeVector(texts[i], 384)));
    }
    const answers = await responsesAbout(stack.db, ids[0], 1);
    assert.equal(answers.length, 1, "one webhook");
    assert.deepEqual([...JSON.parse(answers[0].content!).embedded].sort(), [...ids].sort());
  }, env);
});

testEachBackend(
  "sweep: a backlog is worked off batch after batch, not one batch per interval",
  async (
    backend,
  ) => {
    const db = await openTestDb(backend);
    const writer = await newWriter(db);
    try {
      // Twelve rows waiting without a webhook (as after a re-embedding migration).
      const ids = await writer.insertMany(
        Array.from({ length: 12 }, (_, i) => `Backlog item ${i} ${crypto.randomUUID()}`),
      );
      await db.query(
        "update public.memories set embedding_status = 'pending' where id = any($1::uuid[])",
        [ids],
      );
      // Five rows a sweep, and the next timer tick ten minutes away: only catching up in a loop
      // embeds all twelve within the wait below.
      const sweep = { batchSize: 5, intervalMs: 600_000, pendingAfterMs: 0 };
      await withStack(
        backend,
        async (stack) => {
          await waitForEmbeddings(stack.db, ids);
        },
        undefined,
        { db, embed: { sweep } },
      );
    } finally {
      await db.query("delete from auth.users where id = $1", [writer.userId]);
      await db.close();
    }
  },
);
