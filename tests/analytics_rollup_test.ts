/**
 * analytics.rollup() on a generated event history (fixed seed): counts, percentiles, top
 * queries, most- and never-hit memories per key; idempotency; the retention purge; the pg_cron
 * job where pg_cron exists.
 */
import assert from "node:assert/strict";
import { loadMigrations } from "../shared/db/migrate.ts";
import type { Database } from "../shared/db/types.ts";
import { MemoryService } from "../shared/memory/service.ts";
import {
  dailyRows,
  expectedStats,
  generateSearches,
  insertMemoryEvents,
  insertSearchEvents,
  rollup,
  utcDay,
} from "./helpers/analytics.ts";
import { openTestDb, testEachBackend } from "./helpers/db.ts";
import { dropUsers, newTestUser } from "./helpers/users.ts";

interface World {
  userId: string;
  projectId: string;
  other: string;
  memories: { id: string; project_id: string }[];
}

/** A user with two projects and five memories (four in the first), created two days before. */
async function world(db: Database, day: string): Promise<World> {
  const service = new MemoryService(db);
  const userId = await newTestUser(db, "rollup");
  const projectId = (await service.createProject(userId, { name: "Main", slug: "main" })).id;
  const other = (await service.createProject(userId, { name: "Other", slug: "other" })).id;
  const memories = [];
  for (let i = 0; i < 5; i++) {
    const { memory } = await service.save(userId, {
      project: i < 4 ? "main" : "other",
      content: `memory number ${i}`,
    });
    memories.push(memory);
  }
  // The history happened on `day`: the memories existed before it.
  for (const [i, m] of memories.entries()) {
    await db.query(
      "update public.memories set created_at = $2::date - interval '2 days' + $3 * interval '1 minute' where id = $1",
      [m.id, day, i],
    );
  }
  return { userId, projectId, other, memories };
}

testEachBackend("analytics rollup: a generated day gives the known aggregates", async (backend) => {
  const db = await openTestDb(backend);
  const day = utcDay(-3);
  const w = await world(db, day);
  try {
    const [m0, m1, m2, m3, m4] = w.memories;
    // m3 (main) and m4 (other) are never returned by a search.
    const rows = generateSearches({
      userId: w.userId,
      projectId: w.projectId,
      hitPool: [[m0.id, w.projectId], [m1.id, w.projectId], [m2.id, w.projectId]],
      day,
      searches: 60,
      seed: 42,
    });
    await insertSearchEvents(db, rows);
    const at = `${day}T12:00:00Z`;
    await insertMemoryEvents(db, [
      ...w.memories.map((m) => ({
        user_id: w.userId,
        project_id: m.project_id,
        memory_id: m.id,
        action: "save" as const,
        created_at: at,
      })),
      {
        user_id: w.userId,
        project_id: w.projectId,
        memory_id: m0.id,
        action: "update",
        created_at: at,
      },
      {
        user_id: w.userId,
        project_id: w.projectId,
        memory_id: m1.id,
        action: "update",
        created_at: at,
      },
      {
        user_id: w.userId,
        project_id: w.other,
        memory_id: m4.id,
        action: "delete",
        created_at: at,
      },
      // The next day: not part of this rollup.
      {
        user_id: w.userId,
        project_id: w.projectId,
        memory_id: m0.id,
        action: "delete",
        created_at: `${utcDay(-2)}T00:00:00Z`,
      },
    ]);

    await rollup(db, day);
    const key = (r: Record<string, unknown>) =>
      `${r.user_id ? "user" : "-"}/${
        r.project_id === w.projectId ? "main" : r.project_id === w.other ? "other" : "all"
      }`;
    const ORDER = ["user/all", "user/main", "user/other", "-/main", "-/other"];
    const rowsOf = async () =>
      (await dailyRows(db, day, [w.userId], [w.projectId, w.other]))
        .sort((a, b) => ORDER.indexOf(key(a)) - ORDER.indexOf(key(b)));
    const got = await rowsOf();
    assert.deepEqual(got.map(key), ["user/all", "user/main", "user/other", "-/main", "-/other"]);
    const byKey = new Map(got.map((r) => [key(r), r]));

    const scoped = rows.filter((r) => r.project_ids);
    const expectations: [string, ReturnType<typeof expectedStats>][] = [
      ["user/all", expectedStats(rows, () => true)],
      ["user/main", expectedStats(scoped, () => true)],
      ["-/main", expectedStats(scoped, () => true)],
    ];
    // Scoped rows count only hits in that project; every hit here is in main, but the hits of
    // unscoped searches count for main too: recompute most-hit over all searches.
    const mainHits = expectedStats(rows, (p) => p === w.projectId).most_hit_memories;
    for (const [k, want] of expectations) {
      const row = byKey.get(k)!;
      assert.equal(row.searches, want.searches, k);
      assert.equal(row.zero_result_searches, want.zero_result_searches, k);
      assert.equal(row.cache_hits, want.cache_hits, k);
      assert.ok(Math.abs(Number(row.cache_hit_rate) - want.cache_hit_rate!) < 1e-9, k);
      assert.equal(row.latency_p50_ms, want.latency_p50_ms, k);
      assert.equal(row.latency_p95_ms, want.latency_p95_ms, k);
      assert.deepEqual(row.top_queries, want.top_queries, k);
      assert.deepEqual(row.zero_result_queries, want.zero_result_queries, k);
      assert.deepEqual(
        row.most_hit_memories,
        k === "user/all" ? want.most_hit_memories : mainHits,
        k,
      );
    }
    // Sanity of the generated history itself: grouping and zero results are exercised.
    const all = byKey.get("user/all")!;
    const top = all.top_queries as { query: string; count: number; zero_results: number }[];
    assert.equal(top[0].query, "Deploy Edge Functions", "case variants are one query");
    assert.ok(top.some((q) => q.query === "kubernetes helm chart" && q.zero_results === q.count));
    assert.ok(Number(all.zero_result_searches) > 0 && Number(all.cache_hits) > 0);

    // Writes: 4 saves + 2 updates in main, 1 save + 1 delete in other; the next day's excluded.
    assert.deepEqual(
      got.map((r) => [key(r), r.saves, r.updates, r.deletes]),
      [
        ["user/all", 5, 2, 1],
        ["user/main", 4, 2, 0],
        ["user/other", 1, 0, 1],
        ["-/main", 4, 2, 0],
        ["-/other", 1, 0, 1],
      ],
    );
    // Never returned by any search up to the end of the day: m3 (main) and m4 (other).
    assert.deepEqual(byKey.get("user/all")!.never_hit_memories, [m3.id, m4.id]);
    assert.deepEqual(byKey.get("-/main")!.never_hit_memories, [m3.id]);
    assert.deepEqual(byKey.get("user/other")!.never_hit_memories, [m4.id]);
    assert.equal(byKey.get("user/all")!.never_hit_count, 2);
    // "other" had writes but no searches: no latency, no rates.
    assert.equal(byKey.get("-/other")!.searches, 0);
    assert.equal(byKey.get("-/other")!.latency_p50_ms, null);
    assert.equal(byKey.get("-/other")!.cache_hit_rate, null);

    // Idempotent: a second run (and a third, concurrently with another) gives the same rows.
    await rollup(db, day);
    assert.deepEqual(await rowsOf(), got);
    await Promise.all([rollup(db, day), rollup(db, day)]);
    assert.deepEqual(await rowsOf(), got);
  } finally {
    await dropUsers(db, w.userId);
    await db.close();
  }
});

testEachBackend("analytics rollup: an empty day writes nothing for the user", async (backend) => {
  const db = await openTestDb(backend);
  const day = utcDay(-5);
  const w = await world(db, day);
  try {
    await rollup(db, day);
    assert.deepEqual(await dailyRows(db, day, [w.userId], [w.projectId, w.other]), []);
  } finally {
    await dropUsers(db, w.userId);
    await db.close();
  }
});

testEachBackend(
  "analytics retention: purge drops old events, old rollups stay",
  async (backend) => {
    const db = await openTestDb(backend);
    const w = await world(db, utcDay(-3));
    try {
      const event = (daysAgo: number) => ({
        user_id: w.userId,
        project_ids: null,
        query: `asked ${daysAgo} days ago`,
        mode: "hybrid",
        result_count: 0,
        top_score: null,
        latency_ms: 10,
        cache_hit: false,
        hit_ids: [],
        hit_project_ids: [],
        created_at: new Date(Date.now() - daysAgo * 86_400_000).toISOString(),
      });
      await insertSearchEvents(db, [event(40), event(25), event(1)]);
      const memoryEvent = (daysAgo: number) => ({
        user_id: w.userId,
        project_id: w.projectId,
        memory_id: w.memories[0].id,
        action: "save" as const,
        created_at: new Date(Date.now() - daysAgo * 86_400_000).toISOString(),
      });
      await insertMemoryEvents(db, [memoryEvent(40), memoryEvent(1)]);
      const remaining = async () => ({
        searches: (await db.query<{ query: string }>(
          "select query from public.search_events where user_id = $1 order by created_at",
          [w.userId],
        )).map((r) => r.query),
        writes: (await db.query("select 1 from public.memory_events where user_id = $1", [
          w.userId,
        ])).length,
      });

      // A day older than the retention period is not rolled up again (its events are gone).
      const oldDay = utcDay(-40);
      await db.query(
        "insert into public.analytics_daily (day, user_id, searches) values ($1::date, $2, 7)",
        [oldDay, w.userId],
      );

      // The setting is read from private.settings (Vault wins on Supabase); checked in a
      // transaction rolled back, since the shared database's setting belongs to running stacks.
      await assert.rejects(
        db.transaction(async (tx) => {
          await tx.query(
            `insert into private.settings (key, value) values ('codememory_analytics_retention_days', '30')
         on conflict (key) do update set value = excluded.value`,
          );
          const [row] = await tx.query<{ days: number }>(
            "select analytics.retention_days() as days",
          );
          assert.equal(row.days, 30);
          const [skipped] = await tx.query<{ n: number }>(
            "select analytics.rollup($1::date) as n",
            [oldDay],
          );
          assert.equal(skipped.n, 0);
          const [kept] = await tx.query<{ searches: number }>(
            "select searches from public.analytics_daily where day = $1::date and user_id = $2",
            [oldDay, w.userId],
          );
          assert.equal(kept.searches, 7, "a day past retention keeps its rollup");
          await tx.query("select analytics.purge()");
          throw new Error("rollback");
        }),
        /rollback/,
      );

      await db.query("select analytics.purge(30)");
      assert.deepEqual(await remaining(), {
        searches: ["asked 25 days ago", "asked 1 days ago"],
        writes: 1,
      });
      // (Cut-offs of 20+ days only: the database is shared with tests that write recent history.)
      await db.query("select analytics.purge(20)");
      assert.deepEqual((await remaining()).searches, ["asked 1 days ago"]);
      await assert.rejects(db.query("select analytics.purge(0)"), /at least 1/);
      const [kept] = await db.query<{ searches: number }>(
        "select searches from public.analytics_daily where day = $1::date and user_id = $2",
        [oldDay, w.userId],
      );
      assert.equal(kept.searches, 7, "purge keeps rollups");
    } finally {
      await dropUsers(db, w.userId);
      await db.close();
    }
  },
);

testEachBackend(
  "analytics cron: the rollup job is scheduled where pg_cron exists",
  async (backend) => {
    const db = await openTestDb(backend);
    try {
      const [ledger] = await db.query<{ n: number }>(
        "select count(*)::int as n from supabase_migrations.schema_migrations where version = $1",
        ["20261124000500"],
      );
      assert.equal(ledger.n, 1, "the analytics migration applied");
      const [{ cron }] = await db.query<{ cron: boolean }>(
        "select exists (select 1 from pg_namespace where nspname = 'cron') as cron",
      );
      if (backend === "pglite") {
        assert.equal(cron, false, "PGlite has no pg_cron: the migration skipped the schedule");
      } else {
        assert.equal(cron, true, "the test database has pg_cron (scripts/ci/setup.sh)");
        const jobs = [
          ...await db.query<{ schedule: string; command: string }>(
            "select schedule, command from cron.job where jobname = 'codememory-analytics-rollup'",
          ),
        ];
        assert.deepEqual(jobs, [{
          schedule: "15 0 * * *",
          command: "select analytics.run_scheduled()",
        }]);
        // Re-running the migration's schedule call replaces the job instead of adding one.
        const analytics = (await loadMigrations()).find((m) => m.version === "20261124000500")!;
        const schedule = analytics.sql.slice(analytics.sql.lastIndexOf("do $$"));
        await db.exec(schedule);
        const [{ n }] = await db.query<{ n: number }>(
          "select count(*)::int as n from cron.job where jobname = 'codememory-analytics-rollup'",
        );
        assert.equal(n, 1);
      }
      // What the job runs works either way.
      await db.query("select analytics.run_scheduled()");
    } finally {
      await db.close();
    }
  },
);
