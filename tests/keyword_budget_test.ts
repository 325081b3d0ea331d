/**
 * The keyword side in bounded time (migration 20261206000100_keyword_budget.sql):
 * private.keyword_matches ranks every match exactly as the unbounded query did while the matches
 * fit its budget (8 x pool), and beyond it ranks the best coordination tier: all terms, then at
 * least k of the rarest terms, then any term. Same results through the GIN index and without it.
 */
import assert from "node:assert/strict";
import { actAsUser, asUser } from "../shared/db/as_user.ts";
import type { Database, Queryable } from "../shared/db/types.ts";
import { MemoryService } from "../shared/memory/service.ts";
import { openTestDb, testEachBackend } from "./helpers/db.ts";
import { insertNumbered } from "./helpers/memories.ts";
import { dropUsers, newTestUser } from "./helpers/users.ts";
import { LEXEME_INDEXES, withoutIndexes } from "./helpers/without_indexes.ts";

interface Match {
  id: string;
  rank_score: number;
}

/** private.keyword_matches for a websearch query, no filters, as the user (a plain array). */
const keywordMatches = async (
  tx: Queryable,
  query: string,
  pool: number,
) => [
  ...await tx.query<Match>(
    `select id, rank_score from private.keyword_matches(
       websearch_to_tsquery('english', $1), $2, null, null, null, 'any', null, null, null, null)`,
    [query, pool],
  ),
];

/** The unbounded ranking keyword_matches replaced: every match ranked, then cut at the pool. */
const exactMatches = async (
  tx: Queryable,
  query: string,
  pool: number,
) => [
  ...await tx.query<Match>(
    `with q as (select websearch_to_tsquery('english', $1) as tsq)
     select m.id, (0.5 * ts_rank_cd(m.fts, private.any_terms(q.tsq), 32)
         + case when m.fts @@ q.tsq then 0.5 else 0 end)::real as rank_score
     from public.memories m, q
     where m.fts @@ private.any_terms(q.tsq)
     order by 2 desc, 1
     limit $2`,
    [query, pool],
  ),
];

/** Both, as the user, first as planned (GIN) and then without the lexeme indexes (heap). */
async function bothPaths(db: Database, userId: string, query: string, pool: number) {
  const { indexed, exact } = await asUser(db, userId, async (tx) => ({
    indexed: await keywordMatches(tx, query, pool),
    exact: await exactMatches(tx, query, pool),
  }));
  const sequential = await withoutIndexes(db, LEXEME_INDEXES, async (tx) => {
    await actAsUser(tx, userId);
    await tx.query("set local synchronize_seqscans = off"); // scans start at the first page
    return await keywordMatches(tx, query, pool);
  });
  return { indexed, exact, sequential };
}

async function withUser(
  backend: "pglite" | "postgres",
  fn: (db: Database, userId: string, projectId: string) => Promise<void>,
) {
  const db = await openTestDb(backend);
  const userId = await newTestUser(db, "keyword");
  try {
    const project = await new MemoryService(db).createProject(userId, { name: "kw", slug: "kw" });
    await fn(db, userId, project.id);
  } finally {
    await dropUsers(db, userId);
    await db.close();
  }
}

testEachBackend(
  "keyword budget: matches within the budget rank exactly as before",
  (backend) =>
    withUser(backend, async (db, userId, projectId) => {
      // 150 rows with "cache", a third with "redis" too, some with "eviction"; pool 40, budget 320.
      await insertNumbered(db, userId, projectId, 50, "redis cache eviction policy note #");
      await insertNumbered(db, userId, projectId, 50, "the cache layer keeps sessions, item #");
      await insertNumbered(db, userId, projectId, 50, "redis cache for rate limits, entry #");
      for (
        const query of [
          "redis cache eviction",
          "cache",
          "why is the redis cache slow",
          '"cache layer" redis',
        ]
      ) {
        const { indexed, exact, sequential } = await bothPaths(db, userId, query, 40);
        assert.equal(exact.length, 40, query);
        assert.deepEqual(
          indexed,
          exact,
          `${query}: same rows, order and scores as the unbounded query`,
        );
        assert.deepEqual(sequential, indexed, `${query}: same without the index`);
      }
    }),
);

testEachBackend(
  "keyword budget: beyond the budget the rows with the rarer terms are ranked",
  (backend) =>
    withUser(backend, async (db, userId, projectId) => {
      // 435 rows match, more than the budget (8 x pool 40 = 320): 5 hold all three terms, 30 the
      // rarer "payments" too, 400 only the common "deploy". 80 of those hold it three times, which
      // ts_rank_cd (no notion of rarity) ranks above the "payments" rows; their ids sort last.
      await insertNumbered(db, userId, projectId, 320, "deploy notes for service number #");
      await insertNumbered(
        db,
        userId,
        projectId,
        80,
        "deploy, deploy and deploy again, service #",
        true,
      );
      await insertNumbered(db, userId, projectId, 30, "deploy of the payments gateway, step #");
      await insertNumbered(db, userId, projectId, 5, "deploy payments gateway rollback, case #");
      await db.exec("analyze public.memories"); // rarity comes from the planner's statistics
      const query = "deploy payments rollback";
      const { indexed, exact, sequential } = await bothPaths(db, userId, query, 40);
      assert.equal(indexed.length, 40);
      assert.deepEqual(sequential, indexed, "same without the index");
      // All 435 fit the cap (2 x budget): the budget's worth with the most rare terms, then the
      // smallest ids, is ranked: the 35 rarer rows and 285 "deploy notes" rows.
      const all = await asUser(db, userId, (tx) => exactMatches(tx, query, 1000));
      assert.equal(all.length, 435);
      const rows = await db.query<{ id: string; content: string }>(
        "select id::text as id, content from public.memories where project_id = $1",
        [projectId],
      );
      const rare = rows.filter((r) => r.content.includes("payments")).map((r) => r.id);
      const common = rows.filter((r) => !r.content.includes("payments")).map((r) => r.id).sort();
      assert.equal(rare.length, 35);
      const candidates = new Set([...rare, ...common.slice(0, 320 - 35)]);
      assert.deepEqual(indexed, all.filter((m) => candidates.has(m.id)).slice(0, 40));
      const content = new Map(rows.map((r) => [r.id, r.content]));
      const kinds = indexed.map((m) => content.get(m.id)!.split(" ").slice(0, 3).join(" "));
      assert.deepEqual(kinds.slice(0, 5), Array(5).fill("deploy payments gateway"));
      assert.deepEqual(kinds.slice(5, 35), Array(30).fill("deploy of the"));
      assert.deepEqual(kinds.slice(35), Array(5).fill("deploy notes for"));
      // The unbounded ranking puts the 80 triple-"deploy" rows right after the first five.
      assert.deepEqual(
        exact.slice(5).map((m) => content.get(m.id)!.split(",")[0]),
        Array(35).fill("deploy"),
      );
    }),
);

testEachBackend("keyword budget: terms split at top-level ORs, rarest first", async (backend) => {
  const db = await openTestDb(backend);
  try {
    const terms = async (query: string) =>
      (await db.query<{ terms: string[] }>(
        "select private.query_terms(private.any_terms(websearch_to_tsquery('english', $1))) as terms",
        [query],
      ))[0].terms;
    // The order depends on the database's statistics (shared on PostgreSQL): compare as sets.
    assert.deepEqual((await terms('"full text" search deno or search')).sort(), [
      "'deno'",
      "'full' <-> 'text'",
      "'search'",
    ]);
    assert.deepEqual(await terms("the"), []);
  } finally {
    await db.close();
  }
});

Deno.test({
  name: "tenant GIN index: lexemes keyed by project where btree_gin exists [postgres]",
  ignore: !Deno.env.get("DATABASE_URL"),
  fn: async () => {
    const db = await openTestDb("postgres");
    try {
      const [{ available }] = await db.query<{ available: boolean }>(
        "select exists (select 1 from pg_available_extensions where name = 'btree_gin') as available",
      );
      assert.ok(available, "PostgreSQL's contrib (btree_gin) is installed here");
      const [index] = await db.query<{ indexdef: string }>(
        "select indexdef from pg_indexes where indexname = 'memories_project_fts_idx'",
      );
      // One GIN scan answers both conditions of every keyword query (project_id = any (visible)
      // and fts @@ query): a tenant reads its own postings only.
      assert.equal(
        index?.indexdef,
        "CREATE INDEX memories_project_fts_idx ON public.memories USING gin (project_id, fts)",
      );
    } finally {
      await db.close();
    }
  },
});
