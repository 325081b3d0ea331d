/**
 * `embed` bounded by time, not only by count: with in-isolate inference (the `supabase`
 * provider) a request stops before Edge Runtime's CPU limit and leaves the rest pending for the
 * sweep. The provider advances an injected clock, so nothing here depends on real time.
 */
import assert from "node:assert/strict";
import { loadConfig } from "../shared/config.ts";
import { embedWithinBudget } from "../shared/embed/budget.ts";
import { createEmbedHandler } from "../shared/embed/handler.ts";
import { createConfiguredCache } from "../shared/app/cache.ts";
import {
  EmbeddingError,
  type EmbeddingProvider,
  HashEmbeddingProvider,
} from "../shared/embeddings/index.ts";
import { testEachBackend } from "./helpers/db.ts";
import { embeddingState, newWriter, withWebhookDb } from "./helpers/embed.ts";

/** Outcome lists follow the database's row order: compare them as sets. */
const sorted = (ids: string[]) => [...ids].sort();

const SECRET = "budget-test-webhook-secret-0123";

/** A provider whose every text costs `msPerText` on `clock`; fails from call `failFrom` on. */
function slowProvider(name: EmbeddingProvider["name"], msPerText: number, failFrom = Infinity) {
  const clock = { now: 0 };
  const hash = new HashEmbeddingProvider();
  const calls: number[] = [];
  const provider: EmbeddingProvider = {
    name,
    model: hash.model,
    semantic: false,
    async embed(texts) {
      calls.push(texts.length);
      if (calls.length >= failFrom) throw new EmbeddingError("provider down");
      clock.now += msPerText * texts.length;
      return await hash.embed(texts);
    },
  };
  return { provider, clock, calls };
}

async function dueForSweep(db: Parameters<typeof embeddingState>[0], ids: string[]) {
  const due = await db.query<{ id: string }>(
    `select id from private.embedding_retry_due(1000, interval '0', interval '0', 5) as id
      where id = any($1::uuid[])`,
    [ids],
  );
  return due.map((r) => r.id).sort();
}

testEachBackend(
  "embed budget: stops before the time runs out; the sweep gets the rest",
  (backend) =>
    withWebhookDb(backend, async (db) => {
      const writer = await newWriter(db);
      const ids = await writer.insertMany(Array.from({ length: 40 }, (_, i) => `memory ${i}`));
      const { provider, clock, calls } = slowProvider("supabase", 100);

      const outcome = await embedWithinBudget(db, provider, ids, {
        budgetMs: 1_000,
        now: () => clock.now,
      });
      // A probe of 4 rows costs 400 ms; 100 ms a row leaves room for 6 more; then none.
      assert.deepEqual(calls, [4, 6]);
      assert.deepEqual(sorted(outcome.embedded), sorted(ids.slice(0, 10)));
      assert.deepEqual(outcome.deferred, ids.slice(10));
      assert.deepEqual([outcome.failed, outcome.skipped, outcome.missing], [[], [], []]);
      assert.equal(clock.now, 1_000);

      for (const id of ids.slice(10)) {
        const state = await embeddingState(db, id);
        assert.deepEqual([state.status, state.attempts, state.error], ["pending", 0, null]);
      }
      // The sweep re-sends exactly the deferred rows (the embedded ones are done).
      assert.deepEqual(await dueForSweep(db, ids), sorted(ids.slice(10)));
    }),
);

testEachBackend(
  "embed budget: the supabase provider gets it by default, others do not",
  (backend) =>
    withWebhookDb(backend, async (db) => {
      const writer = await newWriter(db);
      const config = loadConfig({ EMBEDDING_PROVIDER: "hash", WEBHOOK_SECRET: SECRET });
      const call = async (provider: EmbeddingProvider, now: () => number, ids: string[]) => {
        const handler = createEmbedHandler(
          { config, db, embedder: provider, cache: createConfiguredCache(config) },
          { now },
        );
        const res = await handler(
          new Request("http://localhost/embed", {
            method: "POST",
            headers: { "content-type": "application/json", "x-webhook-secret": SECRET },
            body: JSON.stringify({ ids }),
          }),
        );
        return { status: res.status, body: await res.json() };
      };

      const first = await writer.insertMany(Array.from({ length: 40 }, (_, i) => `first ${i}`));
      const gte = slowProvider("supabase", 100);
      const bounded = await call(gte.provider, () => gte.clock.now, first);
      // 1200 ms: a probe of 4 (400 ms), then 8 more; 200 with the rest deferred, not failed.
      assert.equal(bounded.status, 200);
      assert.deepEqual(gte.calls, [4, 8]);
      assert.deepEqual(sorted(bounded.body.embedded), sorted(first.slice(0, 12)));
      assert.deepEqual(bounded.body.deferred, first.slice(12));

      const second = await writer.insertMany(Array.from({ length: 40 }, (_, i) => `second ${i}`));
      const remote = slowProvider("openai", 100);
      const unbounded = await call(remote.provider, () => remote.clock.now, second);
      assert.equal(unbounded.status, 200);
      assert.deepEqual(sorted(unbounded.body.embedded), sorted(second));
      assert.equal(unbounded.body.deferred, undefined);
    }),
);

testEachBackend(
  "embed budget: a failing provider counts one attempt and defers the rest",
  (backend) =>
    withWebhookDb(backend, async (db) => {
      const writer = await newWriter(db);
      const ids = await writer.insertMany(Array.from({ length: 60 }, (_, i) => `row ${i}`));
      const { provider, clock } = slowProvider("supabase", 10, 2);
      const outcome = await embedWithinBudget(db, provider, ids, {
        budgetMs: 1_000,
        now: () => clock.now,
      });
      // The probe (4 rows) worked; the next slice (32 rows) failed: one attempt each, and the
      // 24 never tried keep theirs at 0 for the sweep.
      assert.deepEqual(sorted(outcome.embedded), sorted(ids.slice(0, 4)));
      assert.equal(outcome.error, "provider down");
      assert.deepEqual(sorted(outcome.failed), sorted(ids.slice(4, 36)));
      assert.deepEqual(outcome.deferred, ids.slice(36));
      for (const id of outcome.failed) assert.equal((await embeddingState(db, id)).attempts, 1);
      for (const id of outcome.deferred) assert.equal((await embeddingState(db, id)).attempts, 0);
    }),
);
