/**
 * Row level security of the analytics tables and of public.get_insights(): a user reads their
 * own events and rollups, a project member those of the project, anyone else nothing; no user
 * writes events.
 */
import assert from "node:assert/strict";
import { asUser } from "../shared/db/as_user.ts";
import type { Queryable } from "../shared/db/types.ts";
import { MemoryService } from "../shared/memory/service.ts";
import {
  insertMemoryEvents,
  insertSearchEvents,
  insightsAs,
  rollup,
  type SearchRow,
  utcDay,
} from "./helpers/analytics.ts";
import { openTestDb, testEachBackend } from "./helpers/db.ts";
import { assertPgError } from "./helpers/foundation.ts";
import { dropUsers, newTestUser } from "./helpers/users.ts";

const count = async (tx: Queryable, table: string) =>
  (await tx.query<{ n: number }>(`select count(*)::int as n from public.${table}`))[0].n;

const insights = insightsAs;

testEachBackend("analytics RLS: own rows, project members' rows, nothing else", async (backend) => {
  const db = await openTestDb(backend);
  const service = new MemoryService(db);
  const [alice, bob, carol] = await Promise.all(
    ["alice", "bob", "carol"].map((n) => newTestUser(db, n)),
  );
  try {
    const priv = (await service.createProject(alice, { name: "Private", slug: "priv" })).id;
    const shared = (await service.createProject(alice, { name: "Shared", slug: "shared" })).id;
    await db.query(
      "insert into public.project_members (project_id, user_id, role) values ($1, $2, 'reader')",
      [shared, carol],
    );
    const { memory } = await service.save(alice, { project: "shared", content: "shared fact" });

    const today = utcDay(0);
    const at = new Date().toISOString();
    const search = (project_ids: string[] | null, query: string): SearchRow => ({
      user_id: alice,
      project_ids,
      query,
      mode: "hybrid",
      result_count: 1,
      top_score: 0.5,
      latency_ms: 12,
      cache_hit: false,
      hit_ids: [memory.id],
      hit_project_ids: [shared],
      created_at: at,
    });
    await insertSearchEvents(db, [
      search(null, "alice unscoped"),
      search([priv], "alice private"),
      search([shared], "alice shared"),
    ]);
    await insertMemoryEvents(db, [
      { user_id: alice, project_id: priv, memory_id: memory.id, action: "save", created_at: at },
      { user_id: alice, project_id: shared, memory_id: memory.id, action: "save", created_at: at },
    ]);
    await rollup(db, today);

    // Alice: everything of hers.
    await asUser(db, alice, async (tx) => {
      assert.equal(await count(tx, "search_events"), 3);
      assert.equal(await count(tx, "memory_events"), 2);
      // (alice, all), (alice, priv), (alice, shared), (-, priv), (-, shared)
      assert.equal(await count(tx, "analytics_daily"), 5);
    });
    assert.equal((await insights(db, alice, null)).totals.searches, 3);
    assert.equal((await insights(db, alice, priv)).totals.searches, 1);

    // Carol, a reader of "shared": the searches aimed at it (through project_search_events,
    // never Alice's raw events), its writes and its rollups only.
    await asUser(db, carol, async (tx) => {
      assert.equal(await count(tx, "search_events"), 0);
      const queries = await tx.query<{ query: string }>(
        "select query from public.project_search_events($1)",
        [shared],
      );
      assert.deepEqual(queries.map((q) => q.query), ["alice shared"]);
      const writes = await tx.query<{ project_id: string }>(
        "select project_id from public.memory_events",
      );
      assert.deepEqual(writes.map((w) => w.project_id), [shared]);
      const daily = await tx.query<{ user_id: string | null; project_id: string }>(
        "select user_id, project_id from public.analytics_daily",
      );
      assert.equal(daily.length, 2);
      assert.ok(daily.every((d) => d.project_id === shared));
    });
    const carolView = await insights(db, carol, shared);
    assert.equal(carolView.totals.searches, 1);
    assert.equal(carolView.totals.saves, 1);
    assert.equal((await insights(db, carol, null)).totals.searches, 0, "her own: nothing yet");
    await assertPgError(insights(db, carol, priv), "P0002");

    // Bob, a stranger: nothing at all.
    await asUser(db, bob, async (tx) => {
      for (const table of ["search_events", "memory_events", "analytics_daily"]) {
        assert.equal(await count(tx, table), 0, table);
      }
    });
    // Nobody writes events or rollups through the API roles.
    await assertPgError(
      asUser(db, bob, (tx) =>
        tx.query(
          "insert into public.search_events (user_id, query, mode, result_count, latency_ms) values ($1, 'x', 'hybrid', 0, 1)",
          [bob],
        )),
      "42501",
    );
    await assertPgError(
      asUser(db, alice, (tx) => tx.query("delete from public.analytics_daily")),
      "42501",
    );
    assert.equal((await insights(db, bob, null)).totals.searches, 0);
    await assertPgError(insights(db, bob, shared), "P0002");
    await assertPgError(insights(db, bob, priv), "P0002");

    // Without a user, get_insights refuses; anon cannot even call it.
    await assertPgError(db.query("select public.get_insights()"), "42501");
    await assertPgError(
      db.transaction(async (tx) => {
        await tx.query("set local role anon");
        await tx.query("select public.get_insights()");
      }),
      "42501",
    );
  } finally {
    await dropUsers(db, alice, bob, carol);
    await db.close();
  }
});
