import assert from "node:assert/strict";
import { FakeClock } from "../tests/helpers/clock.ts";
import { Backoff, startPeriodic } from "./periodic.ts";

Deno.test("Backoff doubles from the base up to the cap; a success starts over", () => {
  const b = new Backoff(100, 1_000);
  assert.equal(b.delay, 100);
  assert.deepEqual([b.fail(), b.fail(), b.fail(), b.fail(), b.fail()], [
    200,
    400,
    800,
    1_000,
    1_000,
  ]);
  assert.equal(b.failures, 5);
  b.succeed();
  assert.equal(b.failures, 0);
  assert.equal(b.delay, 100);
});

/** A job whose runs the test finishes by hand; `starts` counts them. */
function manualJob() {
  const runs: PromiseWithResolvers<string>[] = [];
  return {
    runs,
    get starts() {
      return runs.length;
    },
    job: () => {
      const run = Promise.withResolvers<string>();
      runs.push(run);
      return run.promise;
    },
  };
}

/** A periodic manual job on a fake clock. */
function startManual(intervalMs: number, firstRunAfterMs: number) {
  const clock = new FakeClock();
  const m = manualJob();
  const p = startPeriodic(m.job, { label: "test", intervalMs, firstRunAfterMs, timers: clock });
  return { clock, m, p };
}

Deno.test("periodic: runs after the first delay, then the interval after each run ends", async () => {
  const { clock, m, p } = startManual(1_000, 10);
  await clock.advance(9);
  assert.equal(m.starts, 0);
  await clock.advance(1);
  assert.equal(m.starts, 1);
  // A slow run never overlaps the next: the interval counts from its end.
  await clock.advance(5_000);
  assert.equal(m.starts, 1);
  m.runs[0].resolve("a");
  await clock.advance(999);
  assert.equal(m.starts, 1);
  await clock.advance(1);
  assert.equal(m.starts, 2);
  // run() joins the run under way instead of starting another.
  const joined = p.run();
  assert.equal(m.starts, 2);
  m.runs[1].resolve("b");
  assert.equal(await joined, "b");
  const stopped = p.stop();
  await stopped;
  assert.equal(clock.pending, 0);
});

Deno.test("periodic: failing runs wait longer each time (capped); a success resets", async () => {
  const clock = new FakeClock();
  let fail = true;
  const startedAt: number[] = [];
  const p = startPeriodic(() => {
    startedAt.push(clock.now());
    return fail ? Promise.reject(new Error("database gone")) : Promise.resolve(1);
  }, { label: "test", intervalMs: 100, firstRunAfterMs: 0, maxBackoffMs: 800, timers: clock });
  await clock.advance(2_999);
  // Waits of 200, 400, 800, then 800 at the cap: a handful of runs, not thousands.
  assert.deepEqual(startedAt, [0, 200, 600, 1_400, 2_200]);
  fail = false;
  await clock.advance(1); // the 800 ms wait that started at 2 200 ends at 3 000
  assert.deepEqual(startedAt.slice(5), [3_000]);
  await clock.advance(200);
  assert.deepEqual(startedAt.slice(5), [3_000, 3_100, 3_200], "back to the interval");
  await p.stop();
});

Deno.test("periodic: stop() during a run waits for it and schedules nothing after", async () => {
  const { clock, m, p } = startManual(50, 0);
  await clock.advance(0);
  assert.equal(m.starts, 1);
  let stopped = false;
  const stopping = p.stop().then(() => (stopped = true));
  await clock.advance(0);
  assert.equal(stopped, false, "stop() waits for the run in flight");
  // The run fails as it would on a closed connection.
  m.runs[0].reject(new Error("CONNECTION_ENDED"));
  await stopping;
  assert.equal(clock.pending, 0, "no timer left behind");
  await clock.advance(60_000);
  assert.equal(m.starts, 1, "no run after stop()");
});

Deno.test("periodic: interval 0 sets no timer; run() still works and reports failure as undefined", async () => {
  const clock = new FakeClock();
  let calls = 0;
  const p = startPeriodic(() => {
    calls++;
    return calls === 2 ? Promise.reject(new Error("boom")) : Promise.resolve(calls);
  }, { label: "test", intervalMs: 0, timers: clock });
  assert.equal(clock.pending, 0);
  assert.equal(await p.run(), 1);
  assert.equal(await p.run(), undefined);
  assert.equal(await p.run(), 3);
  await p.stop();
});
