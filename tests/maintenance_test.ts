/**
 * The embedded stack's autovacuum stand-in (scripts/local/maintenance.ts): PGlite keeps no table
 * statistics of its own, so the planner's row count of memories stays unknown (-1) until a pass
 * runs `VACUUM (ANALYZE)`. Passes run when the count drifts past autovacuum's threshold, or after
 * the sweep interval when anything was written, and not otherwise. The PostgreSQL test server runs
 * without autovacuum, so the same holds there.
 */
import assert from "node:assert/strict";
import type { Database } from "../shared/db/types.ts";
import { MemoryService } from "../shared/memory/service.ts";
import { startMaintenance } from "../scripts/local/maintenance.ts";
import { testEachBackend, withScratchDb } from "./helpers/db.ts";
import { insertNumbered } from "./helpers/memories.ts";
import { withStack } from "./helpers/stack.ts";
import { newTestUser } from "./helpers/users.ts";

const planned = async (db: Database) => {
  const [row] = await db.query<{ reltuples: number; relallvisible: number }>(
    `select reltuples::float8 as reltuples, relallvisible from pg_class
     where oid = 'public.memories'::regclass`,
  );
  return row;
};

testEachBackend(
  "maintenance: analyzes memories when their count drifts, sweeps hourly after writes only",
  (backend) =>
    withScratchDb(backend, async (db) => {
      const userId = await newTestUser(db, "maintenance");
      const project = await new MemoryService(db).createProject(userId, { name: "p", slug: "p" });
      let clock = 0;
      const maintenance = startMaintenance(db, {
        checkEveryMs: 0, // no timer: run() alone
        now: () => clock,
      });
      try {
        assert.equal(await maintenance.run(), "skipped"); // empty and unknown: nothing to learn
        await insertNumbered(db, userId, project.id, 300, "memory #");
        assert.equal((await planned(db)).reltuples, -1);

        assert.equal(await maintenance.run(), "vacuumed");
        const after = await planned(db);
        assert.equal(after.reltuples, 300);
        assert.ok(after.relallvisible > 0, "VACUUM sets the visibility map");

        await insertNumbered(db, userId, project.id, 60, "more #"); // under 50 + 10% of 300
        assert.equal(await maintenance.run(), "skipped");
        await insertNumbered(db, userId, project.id, 40, "again #"); // 400 against 300
        assert.equal(await maintenance.run(), "vacuumed");
        assert.equal((await planned(db)).reltuples, 400);

        clock += 60 * 60_000; // an hour on, nothing written since the last pass
        assert.equal(await maintenance.run(), "skipped");
        await db.query("update public.memories set importance = 0.9 where content = 'memory 1'");
        assert.equal(await maintenance.run(), "vacuumed");
        assert.equal(await maintenance.run(), "skipped");
      } finally {
        await maintenance.stop();
      }
    }, { migrated: true }),
);

testEachBackend(
  "maintenance: the embedded stack runs it on PGlite, not on PostgreSQL",
  (backend) =>
    withStack(backend, async (stack) => {
      if (backend === "postgres") {
        assert.equal(stack.maintenance, null); // autovacuum's job
        return;
      }
      const user = await stack.newUser();
      const saved = await stack.api(user, "/functions/v1/memories", {
        method: "POST",
        json: { content: "PGlite keeps no table statistics", kind: "fact" },
      });
      assert.equal(saved.status, 201);
      assert.equal(await stack.maintenance!.run(), "vacuumed");
      assert.ok((await planned(stack.db)).reltuples >= 1);
    }),
);
