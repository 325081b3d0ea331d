/** Latency summary of one measurement, in milliseconds. */
export interface Latency {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  mean: number;
  max: number;
}

const round = (x: number) => Math.round(x * 100) / 100;

/** Nearest-rank percentiles (no interpolation: every figure is a latency that happened). */
export function summarize(samples: number[]): Latency {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
  const mean = sorted.reduce((s, x) => s + x, 0) / sorted.length;
  return {
    n: sorted.length,
    p50: round(at(0.5)),
    p95: round(at(0.95)),
    p99: round(at(0.99)),
    mean: round(mean),
    max: round(sorted[sorted.length - 1]),
  };
}

/** Runs fn `count` times in sequence and summarises the wall-clock time of each call. */
export async function measure(
  count: number,
  fn: (i: number) => Promise<unknown>,
): Promise<Latency> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await fn(i);
    samples.push(performance.now() - started);
  }
  return summarize(samples);
}
