/**
 * A short, bounded soak (the same as `deno task soak`, 20 s instead of 2 minutes): 32 clients
 * mixing saves, searches, gets and updates over REST and MCP. No request may fail, nothing
 * acknowledged may be lost or left unembedded, memory must level off. Latency is recorded by
 * the soak, never asserted here.
 */
import assert from "node:assert/strict";
import type { MemorySample } from "../scripts/bench/lib/load_generator.ts";
import { checkMemoryGrowth } from "../scripts/soak/memory_growth.ts";
import { runSoak } from "../scripts/soak/run.ts";
import { testEachBackend } from "./helpers/db.ts";
import { withStack } from "./helpers/stack.ts";

const SECONDS = 20;
const CLIENTS = 32;

testEachBackend(
  "soak: 32 clients for 20 s lose nothing, fail nothing, level off",
  async (backend) => {
    await withStack(backend, async (stack) => {
      const report = await runSoak({
        url: stack.url,
        db: stack.db,
        seconds: SECONDS,
        clients: CLIENTS,
      });
      assert.deepEqual(report.failures, []);
      assert.equal(report.load.errors, 0);
      for (const op of ["save", "search", "get", "update"]) {
        for (const transport of ["rest", "mcp"]) {
          assert.ok(report.load.kinds[`${op} ${transport}`]?.ok > 0, `some ${op} via ${transport}`);
        }
      }
      assert.ok(report.saved > 0 && report.updated > 0);
      assert.equal(report.growth.length, 2);
      assert.ok(report.growth.every((g) => g.ok));
      console.log(
        `${backend}: ${report.load.operations} requests, ${report.load.per_second}/s, p95 ${report.load.latency?.p95} ms`,
      );
    }, { RATE_LIMIT_REQUESTS: "0" });
  },
);

Deno.test("soak memory check: a plateau passes, steady growth fails", () => {
  const samples = (heapAt: (t: number) => number, rssAt: (t: number) => number) =>
    Array.from({ length: 30 }, (_, i): MemorySample => ({
      t_ms: i * 1000,
      heap_used_mb: heapAt(i),
      rss_mb: rssAt(i),
      heap_total_mb: 0,
      external_mb: 0,
    }));
  const warmUpThenFlat = (base: number) => (t: number) => base + Math.min(t, 8) * 10;
  const plateau = checkMemoryGrowth(samples(warmUpThenFlat(80), warmUpThenFlat(300)));
  assert.deepEqual(plateau.map((g) => [g.metric, g.ok]), [["heap", true], ["rss", true]]);

  // A leak of 5 MB a second: the heap's last third sits 50 MB above the middle one.
  const leak = checkMemoryGrowth(samples((t) => 80 + 5 * t, () => 300));
  assert.deepEqual(leak.map((g) => [g.metric, g.ok]), [["heap", false], ["rss", true]]);
  assert.equal(leak[0].last_mb - leak[0].middle_mb, 50);
});
