import assert from "node:assert/strict";
import { FakeClock } from "../tests/helpers/clock.ts";
import { Batcher } from "./batcher.ts";

/** A batcher on a fake clock whose writes fail while `fail` is set. */
function testBatcher(opts: { flushAfterMs: number; maxPending: number; maxBackoffMs?: number }) {
  const clock = new FakeClock();
  const written: number[][] = [];
  const attempts: number[] = [];
  const tried: number[][] = [];
  const state = { fail: false };
  const batcher = new Batcher<number>({
    ...opts,
    timers: clock,
    write: (batch) => {
      attempts.push(clock.now());
      tried.push(batch);
      if (state.fail) return Promise.reject(new Error("db down"));
      written.push(batch);
      return Promise.resolve();
    },
  });
  return { clock, written, attempts, tried, state, batcher };
}

Deno.test("batcher: writes by size, by time and on close; failures are dropped", async () => {
  const { clock, written, state, batcher } = testBatcher({ flushAfterMs: 30, maxPending: 3 });
  for (const n of [1, 2, 3]) batcher.add(n); // the third starts a write at once
  await batcher.flush();
  assert.deepEqual(written, [[1, 2, 3]]);
  batcher.add(4);
  assert.equal(batcher.pending, 1);
  await clock.advance(29);
  assert.deepEqual(written, [[1, 2, 3]], "not before flushAfterMs");
  await clock.advance(1); // the timer writes it
  assert.deepEqual(written, [[1, 2, 3], [4]]);
  state.fail = true;
  batcher.add(5);
  await batcher.flush(); // logged and dropped, not thrown
  state.fail = false;
  batcher.add(6);
  await batcher.close();
  assert.deepEqual(written, [[1, 2, 3], [4], [6]]);
  assert.equal(batcher.pending, 0);
  assert.equal(clock.pending, 0);
});

Deno.test("batcher: while writes fail, the next waits longer and at most maxPending are kept", async () => {
  const { clock, written, attempts, tried, state, batcher } = testBatcher({
    flushAfterMs: 100,
    maxPending: 3,
    maxBackoffMs: 400,
  });
  state.fail = true;
  // One item every 50 ms for 2 s: a write per 100 ms if nothing backed off.
  for (let t = 0; t < 2_000; t += 50) {
    batcher.add(t);
    await clock.advance(50);
  }
  // Waits of 100, then 200, 400, 400 … after each failure; never a write per item at maxPending.
  assert.deepEqual(attempts, [100, 300, 700, 1_100, 1_500, 1_900]);
  // Eight items came between the writes at 1 100 and 1 500: the newest three were kept.
  assert.deepEqual(tried[4], [1_350, 1_400, 1_450]);
  state.fail = false;
  await clock.advance(400);
  assert.deepEqual(written, [[1_900, 1_950]]);
  batcher.add(1);
  await clock.advance(100);
  assert.deepEqual(written.at(-1), [1], "back to flushAfterMs after a success");
  await batcher.close();
});
