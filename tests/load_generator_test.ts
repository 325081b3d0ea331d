import assert from "node:assert/strict";
import { forceGc, peakRss, runLoad } from "../scripts/bench/lib/load_generator.ts";

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

Deno.test("load generator: runs exactly the operation count, never more than `concurrency` at once", async () => {
  let inFlight = 0;
  let maxInFlight = 0;
  const seen: number[] = [];
  const workers = new Set<number>();
  const result = await runLoad({
    concurrency: 4,
    operations: 50,
    next: (i, worker) => ({
      kind: i % 2 ? "odd" : "even",
      async run() {
        seen.push(i);
        workers.add(worker);
        maxInFlight = Math.max(maxInFlight, ++inFlight);
        await tick();
        inFlight--;
      },
    }),
  });
  assert.equal(result.operations, 50);
  assert.equal(result.errors, 0);
  assert.deepEqual([...seen].sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i));
  assert.equal(maxInFlight, 4);
  assert.deepEqual([...workers].sort(), [0, 1, 2, 3]);
  assert.equal(result.kinds.odd.ok, 25);
  assert.equal(result.kinds.even.ok, 25);
  assert.equal(result.kinds.odd.latency?.n, 25);
  assert.equal(result.latency?.n, 50);
  assert.ok(result.per_second > 0);
  assert.deepEqual(result.memory, [], "no sampling unless asked");
});

Deno.test("load generator: counts failures per kind and keeps the first messages", async () => {
  const result = await runLoad({
    concurrency: 2,
    operations: 20,
    keepErrors: 3,
    next: (i) => ({
      kind: i % 4 === 0 ? "flaky" : "fine",
      run: async () => {
        await tick();
        if (i % 4 === 0) throw new Error(`boom ${i}`);
      },
    }),
  });
  assert.equal(result.operations, 20);
  assert.equal(result.errors, 5);
  assert.deepEqual(result.kinds.flaky, { ok: 0, errors: 5, latency: null });
  assert.equal(result.kinds.fine.ok, 15);
  assert.equal(result.kinds.fine.errors, 0);
  assert.equal(result.error_messages.length, 3);
  assert.match(result.error_messages[0], /^flaky: boom \d+$/);
  assert.equal(result.latency?.n, 15, "latency covers successful operations only");
});

Deno.test("load generator: a deadline stops new operations; memory is sampled", async () => {
  // A clock each operation moves by 5 ms: the run is the same on any machine, under any load.
  let clock = 1_000;
  const starts: number[] = [];
  const result = await runLoad({
    concurrency: 3,
    durationMs: 60,
    sampleEveryMs: 10,
    now: () => clock,
    next: () => ({
      kind: "step",
      run: async () => {
        starts.push(clock - 1_000);
        clock += 5;
        await tick();
      },
    }),
  });
  // Three workers one after the other, 5 ms each: starts at 0, 5, …, 55, none at 60.
  assert.deepEqual(starts, Array.from({ length: 12 }, (_, i) => i * 5));
  assert.equal(result.operations, 12);
  assert.equal(result.elapsed_ms, 60);
  assert.ok(result.memory.length >= 2, "a sample at the start and one at the end");
  assert.ok(result.memory.every((m) => m.rss_mb > 0 && m.heap_used_mb > 0));
  assert.ok(result.memory.at(-1)!.t_ms >= result.memory[0].t_ms);
  assert.equal(peakRss(result.memory), Math.max(...result.memory.map((m) => m.rss_mb)));
});

Deno.test("load generator: refuses an unbounded run", async () => {
  await assert.rejects(
    runLoad({ concurrency: 1, next: () => ({ kind: "x", run: tick }) }),
    /operation count or a duration/,
  );
});

Deno.test("load generator: forceGc collects garbage, and can run before each sample", async () => {
  let garbage: number[][] | null = Array.from({ length: 200 }, () => new Array(50_000).fill(1.5));
  const before = Deno.memoryUsage().heapUsed;
  assert.equal(garbage.length, 200);
  garbage = null;
  forceGc();
  const after = Deno.memoryUsage().heapUsed;
  assert.ok(before - after > 40 * 2 ** 20, `freed ${(before - after) / 2 ** 20} MB`);

  const result = await runLoad({
    concurrency: 2,
    operations: 10,
    sampleEveryMs: 5,
    gcBeforeSample: true,
    next: () => ({ kind: "tick", run: tick }),
  });
  assert.equal(result.operations, 10);
  assert.ok(result.memory.length >= 2, "a sample at the start and one at the end");
});
