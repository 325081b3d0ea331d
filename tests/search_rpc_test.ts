/**
 * public.search_memories(), called as a user the way PostgREST calls it (role authenticated +
 * JWT claims): relevance on the code-memory fixture, filters, fusion weights and boosts, rows
 * pending embedding, and row level security.
 */
import assert from "node:assert/strict";
import { asUser } from "../shared/db/as_user.ts";
import type { Database } from "../shared/db/types.ts";
import { HashEmbeddingProvider } from "../shared/embeddings/hash.ts";
import { MemoryService } from "../shared/memory/service.ts";
import { searchRpc } from "../shared/search/rpc.ts";
import type { SearchHit } from "../shared/search/types.ts";
import { type Backend, openTestDb, testEachBackend } from "./helpers/db.ts";
import {
  embedFixture,
  loadCodeMemories,
  type LoadedFixture,
  LOCAL_MODEL,
  localFixtureVectors,
  localVectors,
  savePendingMemory,
  searchAs,
  setEmbedding,
  unitVector,
} from "./helpers/search.ts";
import { dropUsers, newTestUser } from "./helpers/users.ts";
import { CODE_MEMORIES, KEYWORD_QUERIES, PARAPHRASE_QUERIES } from "./fixtures/code_memories.ts";

/** Opens a migrated database, runs fn, drops the users it names and closes. */
async function withDb(backend: Backend, fn: (db: Database, users: string[]) => Promise<void>) {
  const db = await openTestDb(backend);
  const users: string[] = [];
  try {
    await fn(db, users);
  } finally {
    if (users.length) await dropUsers(db, ...users);
    await db.close();
  }
}

const named = (fixture: LoadedFixture, hits: SearchHit[]) =>
  hits.map((h) => fixture.fixtureId.get(h.id) ?? `other:${h.id}`);

testEachBackend(
  "search rpc: keyword queries rank their memory first",
  (backend) =>
    withDb(backend, async (db) => {
      const fixture = await loadCodeMemories(db);
      try {
        for (const { query, expect } of KEYWORD_QUERIES) {
          // No embedding at all: the keyword side alone answers, whatever the mode asks.
          const hits = await searchAs(db, fixture.userId, { query_text: query, mode: "hybrid" });
          assert.equal(named(fixture, hits)[0], expect, `"${query}" → ${named(fixture, hits)}`);
          for (const h of hits) {
            assert.equal(h.semantic_score, null);
            assert.ok(h.keyword_score! > 0 && h.keyword_score! < 1);
            assert.ok(h.score > 0);
          }
          // Fused scores are sorted and the top one is a first keyword rank holding every
          // term: 1 / (10 + 1) with the default rrf_k.
          assert.ok(Math.abs(hits[0].score - 1 / 11) < 1e-9);
          assert.deepEqual(
            hits.map((h) => h.score),
            [...hits.map((h) => h.score)].sort((a, b) => b - a),
          );
        }
        const semanticOnly = await searchAs(db, fixture.userId, {
          query_text: KEYWORD_QUERIES[0].query,
          mode: "semantic",
        });
        assert.deepEqual(semanticOnly, [], "semantic mode without an embedding finds nothing");
      } finally {
        await dropUsers(db, fixture.userId);
      }
    }),
);

testEachBackend(
  "search rpc: paraphrases are found by meaning (MiniLM)",
  (backend) =>
    withDb(backend, async (db, users) => {
      const fixture = await loadCodeMemories(db);
      users.push(fixture.userId);
      await embedFixture(db, fixture, CODE_MEMORIES, await localFixtureVectors(), LOCAL_MODEL);
      const vectors = await localVectors(PARAPHRASE_QUERIES.map((q) => q.query));
      for (const [i, { query, expect }] of PARAPHRASE_QUERIES.entries()) {
        const args = {
          query_text: query,
          query_embedding: vectors[i],
          embedding_model: LOCAL_MODEL,
          match_count: 5,
          // Ranking, not the floor, is under test ("tests that randomly fail in CI" is 0.23).
          min_similarity: 0,
        };
        for (const mode of ["semantic", "hybrid"] as const) {
          const hits = await searchAs(db, fixture.userId, { ...args, mode });
          const rank = named(fixture, hits).indexOf(expect) + 1;
          assert.ok(rank >= 1 && rank <= 3, `${mode} "${query}": ${expect} at ${rank}`);
          const hit = hits[rank - 1];
          assert.ok(hit.semantic_score! > 0.2 && hit.semantic_score! <= 1);
          if (mode === "semantic") assert.ok(hits.every((h) => h.keyword_score === null));
        }
      }
      // And keyword queries stay first in hybrid mode once the semantic side joins in.
      const kv = await localVectors(KEYWORD_QUERIES.map((q) => q.query));
      for (const [i, { query, expect }] of KEYWORD_QUERIES.entries()) {
        const hits = await searchAs(db, fixture.userId, {
          query_text: query,
          query_embedding: kv[i],
          embedding_model: LOCAL_MODEL,
        });
        assert.equal(named(fixture, hits)[0], expect, `hybrid "${query}"`);
      }
    }),
);

testEachBackend(
  "search rpc: filters apply to both sides",
  (backend) =>
    withDb(backend, async (db, users) => {
      const fixture = await loadCodeMemories(db);
      users.push(fixture.userId);
      const hash = new HashEmbeddingProvider();
      const texts = CODE_MEMORIES.map((m) => `${m.title}\n\n${m.content}`);
      await embedFixture(db, fixture, CODE_MEMORIES, await hash.embed(texts), hash.model);
      const row = (id: string) => fixture.rowId.get(id)!;
      const meta = new Map(CODE_MEMORIES.map((m) => [m.id, m]));
      // A wide query: "postgres" memories on the keyword side, everything on the semantic side.
      const [embedding] = await hash.embed(["postgres performance"]);
      const search = (mode: "keyword" | "semantic", extra: Record<string, unknown>) =>
        searchAs(db, fixture.userId, {
          query_text: "postgres",
          query_embedding: embedding,
          embedding_model: hash.model,
          match_count: 50,
          mode,
          min_similarity: 0,
          ...extra,
        }).then((hits) => named(fixture, hits));

      for (const mode of ["keyword", "semantic"] as const) {
        const all = await search(mode, {});
        assert.ok(all.length >= 6, `${mode}: ${all.length}`);

        const infra = await search(mode, { project_ids: [fixture.projects.get("infra")!] });
        assert.ok(infra.length > 0 && infra.every((id) => meta.get(id)!.project === "infra"), mode);

        const kinds = await search(mode, { kinds: ["bug", "fact"] });
        assert.ok(kinds.length > 0);
        assert.ok(kinds.every((id) => ["bug", "fact"].includes(meta.get(id)!.kind)));

        const any = await search(mode, { tags: ["performance", "schema"], tags_mode: "any" });
        assert.ok(any.length >= 2);
        assert.ok(
          any.every((id) => meta.get(id)!.tags.some((t) => t === "performance" || t === "schema")),
        );
        const every = await search(mode, { tags: ["postgres", "performance"], tags_mode: "all" });
        assert.deepEqual(
          new Set(every),
          new Set(
            CODE_MEMORIES.filter((m) =>
              m.tags.includes("postgres") && m.tags.includes("performance")
            )
              .map((m) => m.id)
              .filter((id) => all.includes(id)),
          ),
        );

        const repo = await search(mode, { repo: "github.com/acme/infra" });
        assert.ok(
          repo.length > 0 && repo.every((id) => meta.get(id)!.repo === "github.com/acme/infra"),
        );

        const prefix = await search(mode, { file_path_prefix: "src/" });
        assert.ok(
          prefix.length > 0 && prefix.every((id) => meta.get(id)!.file_path?.startsWith("src/")),
        );
      }

      // Time: two memories moved into the past.
      await db.query(
        "update public.memories set created_at = now() - interval '30 days' where id = any($1::uuid[])",
        [[row("n-plus-one"), row("backups-pitr")]],
      );
      const weekAgo = new Date(Date.now() - 7 * 86400_000).toISOString();
      for (const mode of ["keyword", "semantic"] as const) {
        const recent = await search(mode, { since: weekAgo });
        assert.ok(!recent.includes("n-plus-one") && !recent.includes("backups-pitr"));
        assert.ok(recent.includes("pooler-prepared"));
        const old = await search(mode, { until: weekAgo });
        assert.deepEqual(new Set(old), new Set(["n-plus-one", "backups-pitr"]));
      }

      // Expired memories never match; not yet expired ones do.
      await db.query(
        `update public.memories set expires_at = case id when $1::uuid then now() - interval '1 second'
         else now() + interval '1 day' end where id = any(array[$1, $2]::uuid[])`,
        [row("pooler-prepared"), row("uuid-v7")],
      );
      for (const mode of ["keyword", "semantic"] as const) {
        const hits = await search(mode, {});
        assert.ok(!hits.includes("pooler-prepared"), `${mode}: expired`);
        assert.ok(hits.includes("uuid-v7"), `${mode}: expires tomorrow`);
      }

      // match_count bounds the result; out-of-range values are clamped, not errors.
      assert.equal((await search("semantic", { match_count: 3 })).length, 3);
      assert.equal((await search("semantic", { match_count: 0 })).length, 1);
    }),
);

testEachBackend(
  "search rpc: fusion weights, rrf_k and boosts order as documented",
  (backend) =>
    withDb(backend, async (db, users) => {
      const userId = await newTestUser(db);
      users.push(userId);
      const service = new MemoryService(db);
      const model = `synthetic-${crypto.randomUUID()}`;
      // A: the keyword-strong one (every query word, twice, in the title); its vector is far.
      const { memory: a } = await service.save(userId, {
        title: "cache invalidation generation counter",
        content:
          "cache invalidation with a generation counter: bump the generation counter on write",
        importance: 0.9,
      });
      // B: the semantic-strong one (words once, in the body only); its vector is close.
      const { memory: b } = await service.save(userId, {
        content:
          "Entries are retired when a counter of the generation changes: cache invalidation.",
        importance: 0.1,
      });
      await setEmbedding(db, a.id, unitVector(0.6), model);
      await setEmbedding(db, b.id, unitVector(0.9, 2), model);
      const search = (extra: Record<string, unknown> = {}) =>
        searchAs(db, userId, {
          query_text: "cache invalidation generation counter",
          query_embedding: unitVector(1),
          embedding_model: model,
          // The plain RRF of the paper; the tuned defaults are checked at the end.
          full_text_weight: 1,
          semantic_weight: 1,
          rrf_k: 60,
          full_text_coverage_power: 0,
          ...extra,
        });

      const even = await search();
      assert.equal(even.length, 2);
      const byId = new Map(even.map((h) => [h.id, h]));
      assert.ok(Math.abs(byId.get(a.id)!.semantic_score! - 0.6) < 1e-6);
      assert.ok(Math.abs(byId.get(b.id)!.semantic_score! - 0.9) < 1e-6);
      assert.ok(byId.get(a.id)!.keyword_score! > byId.get(b.id)!.keyword_score!);
      // Each is first on one side and second on the other: an exact tie, 1/61 + 1/62.
      for (const h of even) assert.ok(Math.abs(h.score - (1 / 61 + 1 / 62)) < 1e-9);

      const keywordHeavy = await search({ full_text_weight: 2, semantic_weight: 1 });
      assert.deepEqual(keywordHeavy.map((h) => h.id), [a.id, b.id]);
      assert.ok(Math.abs(keywordHeavy[0].score - (2 / 61 + 1 / 62)) < 1e-9);
      const semanticHeavy = await search({ full_text_weight: 1, semantic_weight: 2 });
      assert.deepEqual(semanticHeavy.map((h) => h.id), [b.id, a.id]);

      const k10 = await search({ rrf_k: 10, semantic_weight: 2 });
      assert.ok(Math.abs(k10[0].score - (2 / 11 + 1 / 12)) < 1e-9);

      // Importance boost: × (1 + weight × importance) breaks the tie towards A (0.9 vs 0.1).
      const important = await search({ importance_weight: 1 });
      assert.deepEqual(important.map((h) => h.id), [a.id, b.id]);
      assert.ok(Math.abs(important[0].score - (1 / 61 + 1 / 62) * 1.9) < 1e-9);

      // Recency boost: A last changed 60 days ago, B now; a 30-day half-life favours B.
      await db.query(
        "update public.memories set updated_at = now() - interval '60 days' where id = $1",
        [
          a.id,
        ],
      );
      const recent = await search({ recency_half_life_days: 30 });
      assert.deepEqual(recent.map((h) => h.id), [b.id, a.id]);
      assert.ok(Math.abs(recent[1].score - (1 / 61 + 1 / 62) * 1.25) < 1e-4);
      await db.query("update public.memories set updated_at = now() where id = $1", [a.id]);

      // Term coverage scales the keyword side: C holds two of the four terms, no vector.
      const { memory: c } = await service.save(userId, {
        content: "Notes on cache invalidation in general",
      });
      const covered = await search({ full_text_coverage_power: 1, min_keyword_coverage: 0 });
      assert.deepEqual(covered.map((h) => h.id), [a.id, b.id, c.id]);
      assert.ok(Math.abs(covered[2].score - 0.5 / 63) < 1e-9, "keyword rank 3, coverage 1/2");
      // The default floor wants every term from a keyword-only hit.
      assert.deepEqual((await search({ full_text_coverage_power: 1 })).map((h) => h.id), [
        a.id,
        b.id,
      ]);

      // The tuned defaults: rrf_k 10, full_text:semantic 1:5, coverage power 1. B is first by
      // meaning, A first by keywords: 5/11 + 1/12 against 1/11 + 5/12.
      const tuned = await searchAs(db, userId, {
        query_text: "cache invalidation generation counter",
        query_embedding: unitVector(1),
        embedding_model: model,
      });
      assert.deepEqual(tuned.map((h) => h.id), [b.id, a.id]);
      assert.ok(Math.abs(tuned[0].score - (5 / 11 + 1 / 12)) < 1e-9);
      assert.ok(Math.abs(tuned[1].score - (1 / 11 + 5 / 12)) < 1e-9);
    }),
);

testEachBackend(
  "search rpc: memories pending embedding are found by keyword",
  (backend) =>
    withDb(backend, async (db, users) => {
      const userId = await newTestUser(db);
      users.push(userId);
      const service = new MemoryService(db);
      const model = `synthetic-${crypto.randomUUID()}`;
      const pending = await savePendingMemory(
        db,
        userId,
        "The flaky zebra-crossing test needs a fixed clock",
      );
      const { memory: embedded } = await service.save(userId, {
        content: "Unrelated words about striped horses",
      });
      await setEmbedding(db, embedded.id, unitVector(1), model);
      const hits = await searchAs(db, userId, {
        query_text: "flaky zebra test",
        query_embedding: unitVector(1),
        embedding_model: model,
      });
      const found = hits.find((h) => h.id === pending)!;
      assert.equal(found.embedding_status, "pending");
      assert.equal(found.semantic_score, null);
      assert.ok(found.keyword_score! > 0);
      // Only the keyword side (rank 1, every term) counts: no semantic rank without a vector.
      assert.ok(Math.abs(found.score - 1 / 11) < 1e-9);
      // The embedded one comes from the semantic side only (it shares no word with the query).
      const other = hits.find((h) => h.id === embedded.id)!;
      assert.equal(other.keyword_score, null);
      assert.ok(Math.abs(other.semantic_score! - 1) < 1e-6);
      // Only the query's model is compared: under another model name the vector is invisible.
      const otherModel = await searchAs(db, userId, {
        query_text: "stripes",
        query_embedding: unitVector(1),
        embedding_model: "some-other-model",
        mode: "semantic",
      });
      assert.deepEqual(otherModel, []);
    }),
);

testEachBackend(
  "search rpc: row level security, one user never sees another's rows",
  (backend) =>
    withDb(backend, async (db, users) => {
      const service = new MemoryService(db);
      const alice = await newTestUser(db, "alice");
      const bob = await newTestUser(db, "bob");
      users.push(alice, bob);
      const model = `synthetic-${crypto.randomUUID()}`;
      const secret = `quokka-${crypto.randomUUID().slice(0, 8)}`;
      const { memory } = await service.save(alice, { content: `Alice's ${secret} rollout plan` });
      await setEmbedding(db, memory.id, unitVector(1), model);
      const args = { query_text: secret, query_embedding: unitVector(1), embedding_model: model };

      const own = await searchAs(db, alice, args);
      assert.deepEqual(own.map((h) => h.id), [memory.id]);
      for (const mode of ["hybrid", "keyword", "semantic"] as const) {
        assert.deepEqual(await searchAs(db, bob, { ...args, mode }), [], mode);
        // Naming Alice's project explicitly does not help either.
        assert.deepEqual(
          await searchAs(db, bob, { ...args, mode, project_ids: [memory.project_id] }),
          [],
        );
      }
      // No user at all (service_role without a sub claim) finds nothing.
      const anonymous = await db.transaction(async (tx) => {
        await tx.query("select set_config('role', 'service_role', true)");
        return await searchRpc(tx, args);
      });
      assert.deepEqual(anonymous, []);
      // anon may not even call it.
      await assert.rejects(
        db.transaction(async (tx) => {
          await tx.query("select set_config('role', 'anon', true)");
          await searchRpc(tx, args);
        }),
        (err: { code?: string }) => err.code === "42501",
      );
      // Shared as a reader, Bob finds it.
      await db.query(
        "insert into public.project_members (project_id, user_id, role) values ($1, $2, 'reader')",
        [memory.project_id, bob],
      );
      const shared = await searchAs(db, bob, args);
      assert.deepEqual(shared.map((h) => h.id), [memory.id]);
      // The RPC runs as the invoker: the keyword helper alone is no way around it either.
      const direct = await asUser(db, bob, (tx) =>
        tx.query<{ id: string }>(
          `select id from private.keyword_matches(websearch_to_tsquery('english', $1), 10,
           null, null, null, null, null, null, null, null)`,
          [secret],
        ));
      assert.deepEqual(direct.map((r) => r.id), [memory.id]);
      await db.query("delete from public.project_members where user_id = $1 and project_id = $2", [
        bob,
        memory.project_id,
      ]);
      const gone = await asUser(db, bob, (tx) =>
        tx.query(
          `select id from private.keyword_matches(websearch_to_tsquery('english', $1), 10,
           null, null, null, null, null, null, null, null)`,
          [secret],
        ));
      assert.equal(gone.length, 0);
    }),
);
