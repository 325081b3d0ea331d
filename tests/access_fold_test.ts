/**
 * Access statistics (migration 20261208000400_memory_access_deltas.sql): the tracker adds its
 * counts to private.memory_access without touching memories, and the fold moves them into
 * memories at once (summed, latest time, saturating), dropping those of deleted memories; the
 * embedded stack folds on its timer as pg_cron does on Supabase.
 */
import assert from "node:assert/strict";
import { ACCESS_FOLD_INTERVAL_MS, startAnalyticsJobs } from "../scripts/local/analytics_jobs.ts";
import type { Database } from "../shared/db/types.ts";
import { MemoryService } from "../shared/memory/service.ts";
import { AccessTracker, foldAccess } from "../shared/search/access.ts";
import { FakeClock } from "./helpers/clock.ts";
import { openTestDb, testEachBackend } from "./helpers/db.ts";
import { dropUsers, newTestUser } from "./helpers/users.ts";

interface Stats {
  access_count: number;
  accessed: boolean;
  version: number;
}

const stats = async (db: Database, id: string): Promise<Stats> =>
  (await db.query<Stats>(
    `select access_count, last_accessed_at is not null as accessed, version
     from public.memories where id = $1`,
    [id],
  ))[0];

const deltas = async (db: Database) =>
  await db.query<{ memory_id: string; hits: number }>(
    "select memory_id, hits from private.memory_access order by hits desc, memory_id",
  );

async function withMemories(
  backend: "pglite" | "postgres",
  fn: (db: Database, ids: string[]) => Promise<void>,
) {
  const db = await openTestDb(backend);
  const user = await newTestUser(db, "access");
  try {
    const service = new MemoryService(db);
    const ids: string[] = [];
    for (const content of ["tracked one", "tracked two", "tracked three"]) {
      ids.push((await service.save(user, { content })).memory.id);
    }
    await db.query("delete from private.memory_access where memory_id = any($1::uuid[])", [ids]);
    await fn(db, ids);
  } finally {
    await dropUsers(db, user);
    await db.close();
  }
}

testEachBackend(
  "access statistics: collected beside memories, folded in once",
  (backend) =>
    withMemories(backend, async (db, [a, b, c]) => {
      const tracker = new AccessTracker(db, { flushAfterMs: 60_000 });
      tracker.record([a, a, b, c]);
      await tracker.flush();
      tracker.record([a]);
      await tracker.flush();
      const mine = (await deltas(db)).filter((d) => [a, b, c].includes(d.memory_id));
      assert.deepEqual(mine.find((d) => d.memory_id === a)?.hits, 3);
      assert.equal(mine.length, 3);
      for (const id of [a, b, c]) {
        assert.deepEqual(await stats(db, id), { access_count: 0, accessed: false, version: 1 });
      }

      // One memory is deleted before the fold, one is near the int maximum.
      await db.query("delete from public.memories where id = $1", [c]);
      await db.query("update public.memories set access_count = 2147483646 where id = $1", [b]);
      tracker.record([b, b, b]);
      await tracker.close();

      assert.ok(await foldAccess(db) >= 2);
      assert.deepEqual(await stats(db, a), { access_count: 3, accessed: true, version: 1 });
      assert.deepEqual(await stats(db, b), {
        access_count: 2147483647,
        accessed: true,
        version: 1,
      });
      const left = (await deltas(db)).filter((d) => [a, b, c].includes(d.memory_id));
      assert.deepEqual(left, [], "the fold consumes every delta, the deleted memory's too");
    }),
);

testEachBackend(
  "access statistics: the embedded stack folds on its timer",
  (backend) =>
    withMemories(backend, async (db, [a]) => {
      const clock = new FakeClock();
      const jobs = await startAnalyticsJobs(db, {
        intervalMs: 0,
        retentionDays: 30,
        timers: clock,
      });
      try {
        const tracker = new AccessTracker(db, { flushAfterMs: 60_000 });
        tracker.record([a, a]);
        await tracker.close();
        await clock.advance(ACCESS_FOLD_INTERVAL_MS - 1);
        assert.equal((await stats(db, a)).access_count, 0, "not before the interval");
        await clock.advance(1); // starts the fold; it runs on the real database
        const deadline = Date.now() + 10_000;
        while ((await stats(db, a)).access_count !== 2 && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        assert.equal((await stats(db, a)).access_count, 2);
      } finally {
        await jobs.stop();
      }
    }),
);

testEachBackend(
  "access statistics: pg_cron folds every 10 minutes where it exists",
  async (backend) => {
    const db = await openTestDb(backend);
    try {
      const [{ cron }] = await db.query<{ cron: boolean }>(
        "select exists (select 1 from pg_namespace where nspname = 'cron') as cron",
      );
      if (backend === "pglite") {
        assert.equal(cron, false, "PGlite has no pg_cron: the embedded stack's timer folds");
      } else {
        assert.equal(cron, true, "the test database has pg_cron (scripts/ci/setup.sh)");
        const jobs = [
          ...await db.query<{ schedule: string; command: string }>(
            "select schedule, command from cron.job where jobname = 'codememory-fold-memory-access'",
          ),
        ];
        assert.deepEqual(jobs, [{
          schedule: "*/10 * * * *",
          command: "select private.fold_memory_access()",
        }]);
      }
      assert.equal(typeof await foldAccess(db), "number", "what the job runs works either way");
    } finally {
      await db.close();
    }
  },
);
