/**
 * The embedded stack's analytics timer (scripts/local/analytics_jobs.ts) on a real database:
 * stopping it while a rollup is in flight ends it for good, even when that rollup then fails on
 * the closed connection (it used to re-run at once, forever: 531,680 log lines in 20 minutes).
 * The backoff of failing runs is shared/periodic_test.ts's.
 */
import assert from "node:assert/strict";
import { startAnalyticsJobs } from "../scripts/local/analytics_jobs.ts";
import type { Database } from "../shared/db/types.ts";
import { FakeClock } from "./helpers/clock.ts";
import { openTestDb, testEachBackend } from "./helpers/db.ts";

const ROLLUP = "analytics.run_scheduled()";

/** `db` with its rollup queries counted, each held until the test releases it. */
function gatedRollups(db: Database) {
  const held: PromiseWithResolvers<void>[] = [];
  const gated: Database = {
    ...db,
    async query<T>(text: string, params?: readonly unknown[]) {
      if (text.includes(ROLLUP)) {
        const gate = Promise.withResolvers<void>();
        held.push(gate);
        await gate.promise;
      }
      return await db.query<T>(text, params);
    },
  };
  return { db: gated, held };
}

testEachBackend(
  "analytics jobs: stop() during a rollup ends the timer for good",
  async (backend) => {
    const real = await openTestDb(backend);
    let closed = false;
    try {
      const clock = new FakeClock();
      const { db, held } = gatedRollups(real);
      const jobs = await startAnalyticsJobs(db, {
        intervalMs: 60_000,
        retentionDays: 30,
        firstRunAfterMs: 0,
        timers: clock,
      });
      await clock.advance(0);
      assert.equal(held.length, 1, "the first rollup is in flight");

      // The stack shuts down: the jobs stop, the database closes under the running rollup.
      const stopping = jobs.stop();
      await real.close();
      closed = true;
      held[0].resolve(); // the rollup goes on, and fails on the closed connection
      await stopping;

      assert.equal(clock.pending, 0, "nothing scheduled after stop()");
      await clock.advance(24 * 3600_000);
      assert.equal(held.length, 1, "no rollup after stop()");
    } finally {
      if (!closed) await real.close();
    }
  },
);
