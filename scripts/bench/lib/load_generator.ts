/**
 * A bounded, closed-loop load generator for loopback benchmarks: `concurrency` workers each run
 * one operation at a time, back to back, until `operations` have been started or `durationMs`
 * has passed, whichever comes first (operations in flight at the deadline finish). It records
 * the latency of every successful operation by kind, counts failures (keeping the first few
 * messages) and can sample the process's memory on an interval.
 */
import v8 from "node:v8";
import vm from "node:vm";
import { type Latency, summarize } from "./stats.ts";

/** One unit of work: `kind` labels it in the results ("save rest", "search mcp", …). */
export interface Operation {
  kind: string;
  run(): Promise<unknown>;
}

export interface LoadOptions {
  concurrency: number;
  /** Stop starting operations after this many (in total, across workers). */
  operations?: number;
  /** Stop starting operations this long after the start. */
  durationMs?: number;
  /** The next operation: `i` counts operations across workers, `worker` is 0..concurrency-1. */
  next(i: number, worker: number): Operation;
  /** Sample Deno.memoryUsage() this often (and at the start and end); off when unset. */
  sampleEveryMs?: number;
  /**
   * Run a full garbage collection before each sample, so that heap figures measure what is
   * live rather than when V8 last collected (pauses every worker for a few tens of ms).
   */
  gcBeforeSample?: boolean;
  /** How many failure messages to keep (default 5). */
  keepErrors?: number;
  /** The clock, in milliseconds (default performance.now); tests move a fake one. */
  now?: () => number;
}

export interface MemorySample {
  /** Milliseconds since the start of the run. */
  t_ms: number;
  rss_mb: number;
  heap_used_mb: number;
  heap_total_mb: number;
  external_mb: number;
}

export interface KindResult {
  ok: number;
  errors: number;
  /** Of the successful operations; null when none succeeded. */
  latency: Latency | null;
}

export interface LoadResult {
  concurrency: number;
  /** Operations finished, successful or not. */
  operations: number;
  errors: number;
  /** The first `keepErrors` failures, as "kind: message". */
  error_messages: string[];
  elapsed_ms: number;
  /** Successful operations per second of wall-clock time. */
  per_second: number;
  latency: Latency | null;
  kinds: Record<string, KindResult>;
  memory: MemorySample[];
}

const MB = 2 ** 20;
const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

export function memorySample(t_ms: number): MemorySample {
  const m = Deno.memoryUsage();
  return {
    t_ms: Math.round(t_ms),
    rss_mb: round(m.rss / MB),
    heap_used_mb: round(m.heapUsed / MB),
    heap_total_mb: round(m.heapTotal / MB),
    external_mb: round(m.external / MB),
  };
}

export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const { concurrency, operations = Infinity, durationMs = Infinity, keepErrors = 5 } = opts;
  const now = opts.now ?? (() => performance.now());
  if (!(concurrency >= 1) || (operations === Infinity && durationMs === Infinity)) {
    throw new Error("runLoad needs a concurrency ≥ 1 and an operation count or a duration");
  }
  const latencies = new Map<string, number[]>();
  const failures = new Map<string, number>();
  const errorMessages: string[] = [];
  if (opts.gcBeforeSample) forceGc(); // before the clock starts: the first one sets V8 up
  const started = now();
  const deadline = started + durationMs;
  const memory: MemorySample[] = [];
  const sample = () => {
    if (opts.gcBeforeSample) forceGc();
    memory.push(memorySample(now() - started));
  };
  let sampler: ReturnType<typeof setInterval> | undefined;
  if (opts.sampleEveryMs) {
    sample();
    sampler = setInterval(sample, opts.sampleEveryMs);
  }

  let issued = 0;
  const worker = async (w: number) => {
    while (issued < operations && now() < deadline) {
      const op = opts.next(issued++, w);
      const t0 = now();
      try {
        await op.run();
        const list = latencies.get(op.kind) ?? latencies.set(op.kind, []).get(op.kind)!;
        list.push(now() - t0);
      } catch (err) {
        failures.set(op.kind, (failures.get(op.kind) ?? 0) + 1);
        if (errorMessages.length < keepErrors) {
          errorMessages.push(`${op.kind}: ${(err as Error)?.message ?? String(err)}`);
        }
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
  } finally {
    clearInterval(sampler);
  }
  const elapsed = now() - started;
  if (opts.sampleEveryMs) sample();

  const kinds: Record<string, KindResult> = {};
  for (const kind of [...new Set([...latencies.keys(), ...failures.keys()])].sort()) {
    const ok = latencies.get(kind) ?? [];
    kinds[kind] = {
      ok: ok.length,
      errors: failures.get(kind) ?? 0,
      latency: ok.length ? summarize(ok) : null,
    };
  }
  const all = [...latencies.values()].flat();
  const errors = [...failures.values()].reduce((s, n) => s + n, 0);
  return {
    concurrency,
    operations: all.length + errors,
    errors,
    error_messages: errorMessages,
    elapsed_ms: Math.round(elapsed),
    per_second: round(all.length / (elapsed / 1000)),
    latency: all.length ? summarize(all) : null,
    kinds,
    memory,
  };
}

let gc: (() => void) | undefined;

/**
 * A full, synchronous garbage collection. V8 exposes gc() only behind --expose-gc; the flag can
 * be set at run time through node:v8, after which a new context carries the function.
 */
export function forceGc(): void {
  if (!gc) {
    v8.setFlagsFromString("--expose-gc");
    gc = vm.runInNewContext("gc") as () => void;
  }
  gc();
}

/** The highest resident set size among the samples, in MB (0 without samples). */
export const peakRss = (memory: MemorySample[]) => Math.max(0, ...memory.map((m) => m.rss_mb));
