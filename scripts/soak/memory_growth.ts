/**
 * Is memory growing without bound? Compares the last third of a run with the middle third (the
 * first third is warm-up: JIT, caches, connection pools, the database's own buffers), by the
 * median of each window's samples, taken after a full garbage collection:
 *   - JS heap used: what is live;
 *   - RSS: the whole process (PGlite's database included).
 * Growth is within tolerance when last − middle ≤ max(ABSOLUTE_MB, RELATIVE × middle). A leak
 * of one request's worth per operation (a few kB × thousands of operations per third) exceeds it.
 */
import type { MemorySample } from "../bench/lib/load_generator.ts";

/** Growth allowed between the middle and the last third: this many MB, or this fraction. */
export const TOLERANCE = {
  heap: { absoluteMb: 24, relative: 0.25 },
  rss: { absoluteMb: 64, relative: 0.15 },
};

export interface GrowthCheck {
  metric: "heap" | "rss";
  middle_mb: number;
  last_mb: number;
  allowed_mb: number;
  ok: boolean;
}

export function checkMemoryGrowth(samples: MemorySample[]): GrowthCheck[] {
  const end = Math.max(...samples.map((s) => s.t_ms));
  const window = (from: number, to: number) =>
    samples.filter((s) => s.t_ms >= (from * end) / 3 && s.t_ms <= (to * end) / 3);
  const middle = window(1, 2);
  const last = window(2, 3);
  if (middle.length < 3 || last.length < 3) {
    throw new Error(`too few memory samples (${samples.length}) to judge growth`);
  }
  const median = (w: MemorySample[], metric: "heap_used_mb" | "rss_mb") => {
    const sorted = w.map((s) => s[metric]).sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)];
  };
  return [
    judge("heap", median(middle, "heap_used_mb"), median(last, "heap_used_mb"), TOLERANCE.heap),
    judge("rss", median(middle, "rss_mb"), median(last, "rss_mb"), TOLERANCE.rss),
  ];
}

function judge(
  metric: GrowthCheck["metric"],
  middle: number,
  last: number,
  tolerance: { absoluteMb: number; relative: number },
): GrowthCheck {
  const allowed = Math.max(tolerance.absoluteMb, tolerance.relative * middle);
  return {
    metric,
    middle_mb: middle,
    last_mb: last,
    allowed_mb: Math.round(allowed * 10) / 10,
    ok: last - middle <= allowed,
  };
}
