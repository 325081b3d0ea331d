/**
 * Live insights (issue #15, item 5): get_insights counts the days the rollup has not finished
 * (today above all) from the raw events, a finished day from its rollup row only, and never a
 * day from both; a project's members see its live figures, nobody else does.
 */
import assert from "node:assert/strict";
import { asUser } from "../shared/db/as_user.ts";
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

const insights = insightsAs;

/** Noon UTC `offset` days from today (a time inside that day whatever the clock says). */
const noon = (offset: number) => `${utcDay(offset)}T12:00:00Z`;
/** A moment ago: today's events are never in the future. */
const justNow = () => new Date(Date.now() - 1000).toISOString();

testEachBackend("live insights: today from raw events, finished days from the rollup", async (
  backend,
) => {
  const db = await openTestDb(backend);
  const service = new MemoryService(db);
  const [alice, carol, bob] = await Promise.all(
    ["alice", "carol", "bob"].map((n) => newTestUser(db, n)),
  );
  try {
    const shared = (await service.createProject(alice, { name: "Shared", slug: "shared" })).id;
    await db.query(
      "insert into public.project_members (project_id, user_id, role) values ($1, $2, 'reader')",
      [shared, carol],
    );
    const { memory } = await service.save(alice, { project: "shared", content: "live fact" });
    const search = (at: string, query: string, found: boolean, latency: number): SearchRow => ({
      user_id: alice,
      project_ids: [shared],
      query,
      mode: "hybrid",
      result_count: found ? 1 : 0,
      top_score: found ? 0.5 : null,
      latency_ms: latency,
      cache_hit: false,
      hit_ids: found ? [memory.id] : [],
      hit_project_ids: found ? [shared] : [],
      created_at: at,
    });

    // Nothing rolled up: today's searches and write count at once.
    await insertSearchEvents(db, [
      search(justNow(), "live one", true, 10),
      search(justNow(), "live two", false, 30),
    ]);
    await insertMemoryEvents(db, [
      {
        user_id: alice,
        project_id: shared,
        memory_id: memory.id,
        action: "save",
        created_at: justNow(),
      },
    ]);
    let mine = await insights(db, alice, null);
    assert.equal(mine.totals.searches, 2);
    assert.equal(mine.totals.zero_result_searches, 1);
    assert.equal(mine.totals.hit_rate, 0.5);
    assert.equal(mine.totals.latency_p50_ms, 20);
    assert.equal(mine.totals.saves, 1);
    assert.deepEqual(mine.live_days, [utcDay(0)]);
    assert.equal(mine.series.at(-1)!.searches, 2);
    assert.deepEqual(mine.top_queries.map((q) => q.query).sort(), ["live one", "live two"]);
    assert.deepEqual(mine.zero_result_queries, [{ query: "live two", count: 1 }]);
    assert.deepEqual(mine.most_hit_memories.map((m) => [m.id, m.hits]), [[memory.id, 1]]);

    // Yesterday, finished and rolled up after it ended: counted once, from its rollup row.
    await insertSearchEvents(db, [search(noon(-1), "yesterday", true, 5)]);
    await rollup(db, utcDay(-1));
    mine = await insights(db, alice, null);
    assert.equal(mine.totals.searches, 3);
    assert.deepEqual(mine.live_days, [utcDay(0)]);
    assert.deepEqual(mine.series.slice(-2).map((d) => d.searches), [1, 2]);

    // Today rolled up so far, then one more search: today counts from raw events only.
    await rollup(db, utcDay(0));
    await insertSearchEvents(db, [search(justNow(), "live one", true, 50)]);
    mine = await insights(db, alice, null);
    assert.equal(mine.totals.searches, 4);
    assert.equal(mine.series.at(-1)!.searches, 3);
    assert.ok(mine.last_rollup_at, "the partial rollup still says when it ran");
    assert.deepEqual(
      mine.top_queries.map((q) => [q.query, q.count]),
      [["live one", 2], ["live two", 1], ["yesterday", 1]],
    );

    // A reader of the project sees its live figures (Alice's searches aimed at it) ...
    const carolView = await insights(db, carol, shared);
    assert.equal(carolView.totals.searches, 4);
    assert.equal(carolView.totals.saves, 1);
    assert.equal(carolView.series.at(-1)!.searches, 3);
    // ... but none of it counts as her own activity.
    assert.equal((await insights(db, carol, null)).totals.searches, 0);
    // A stranger learns nothing, not even through the live function itself.
    assert.equal((await insights(db, bob, null)).totals.searches, 0);
    await assertPgError(insights(db, bob, shared), "P0002");
    const direct = await asUser(
      db,
      bob,
      (tx) =>
        tx.query("select * from private.live_insight_days($1, $2::date, '{}')", [
          shared,
          utcDay(-6),
        ]),
    );
    assert.equal(direct.length, 0);
  } finally {
    await dropUsers(db, alice, carol, bob);
    await db.close();
  }
});
