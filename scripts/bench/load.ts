/**
 * Search under load: `deno task bench load [--sizes 10000] [--concurrency 1,8,32]
 * [--requests 400] [--backends pglite,postgres] [--out bench-results] [--doc docs/benchmarks.md]`.
 *
 * For each backend and size: the embedded stack (hash embeddings, rate limit off) in a process
 * of its own (lib/stack_process.ts) over a fresh database, bulk-loaded with generated code
 * memories; then, for each number N of closed-loop clients in this process and each transport
 * (REST `POST /functions/v1/memories/search`, MCP `tools/call search_memories`), `--requests`
 * distinct searches (cold: results-cache misses) and the same ones again (cached). Records
 * latency percentiles, requests/s, errors (must be 0), CPU time per request of the stack process
 * (what Edge Functions bill) and of the PostgreSQL processes serving it, and the stack's
 * resident set size: after it started (idle), after the data was loaded, and the peak during
 * the runs.
 */
import { parseArgs } from "node:util";
import { markdownTable, textTable } from "../lib/tables.ts";
import { memoryClient, type Transport, TRANSPORTS } from "./lib/api_client.ts";
import { type Backend, parseBackends } from "./lib/bench_stack.ts";
import { type LoadResult, runLoad } from "./lib/load_generator.ts";
import { type StackProcess, startStackProcess } from "./lib/stack_process.ts";
import { updateDocSection, writeResults } from "./lib/output.ts";
import { commandLine, machineInfo, machineLine } from "./lib/search_report.ts";
import { searchRequests, slotOf } from "./lib/workload.ts";

/** CPU milliseconds per completed request: the stack process's, and PostgreSQL's (null: PGlite). */
interface CpuPerRequest {
  stack_ms: number;
  db_ms: number | null;
}

interface Run {
  transport: Transport;
  concurrency: number;
  cold: LoadResult & { cpu: CpuPerRequest };
  cached: LoadResult & { cpu: CpuPerRequest };
}

export interface LoadBenchResult {
  backend: Backend;
  rows: number;
  rss_mb: { idle: number; loaded: number; peak: number };
  runs: Run[];
}

const WARMUP = 40;
const SAMPLE_EVERY_MS = 250;

export async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      sizes: { type: "string", default: "10000" },
      concurrency: { type: "string", default: "1,8,32" },
      requests: { type: "string", default: "400" },
      backends: { type: "string" },
      out: { type: "string", default: "bench-results" },
      doc: { type: "string", default: "docs/benchmarks.md" },
    },
  });
  const databaseUrl = Deno.env.get("DATABASE_URL");
  const levels = values.concurrency.split(",").map(Number);
  const requests = Number(values.requests);

  const results: LoadBenchResult[] = [];
  for (const backend of parseBackends(values.backends, databaseUrl)) {
    for (const rows of values.sizes.split(",").map(Number)) {
      console.log(`\n== ${backend}, ${rows} memories`);
      results.push(await benchOne(backend, rows, levels, requests, databaseUrl));
    }
  }
  console.log(`\n${textTable(LATENCY_HEADER, latencyRows(results))}`);
  console.log(`\n${textTable(MEMORY_HEADER, memoryRows(results))}`);

  const command = commandLine("load", args, databaseUrl);
  const machine = await machineInfo(databaseUrl);
  const json = await writeResults(values.out, "load", { command, machine, results });
  await updateDocSection(
    values.doc,
    "load",
    [
      "## Search under load",
      "",
      machineLine(machine),
      "",
      `Command: \`${command}\` (raw figures: \`${json}\`).`,
      "",
      "For each backend and size the embedded stack (hash embeddings, rate limit off, PostgreSQL",
      "pool of 10) runs in a process of its own over generated code memories loaded as in the",
      `search benchmark. N closed-loop clients on 127.0.0.1 send ${requests} distinct searches`,
      "(cold: results-cache misses; query × filter) and then the same ones again (cached), through",
      "REST (`POST /functions/v1/memories/search`) and MCP (`tools/call search_memories`), after a",
      "warm-up. Latencies in ms (nearest rank); req/s = completed requests per second. CPU ms/req:",
      "CPU time (user + system, from /proc) of the stack process per completed request — what Edge",
      "Functions bill, here including the in-process cache and the analytics writes; db CPU: the",
      "same for the PostgreSQL server processes serving the stack (PGlite runs inside the stack",
      "process, so its CPU is in the first figure).",
      "",
      markdownTable(LATENCY_HEADER, latencyRows(results)),
      "",
      "Resident set size of the stack process (MB): after the stack started on an empty database,",
      "after the data was loaded, and the peak during the runs (sampled every 250 ms). PGlite's",
      "figures include the database itself (PostgreSQL in WASM, data in memory); PostgreSQL's",
      "server processes are outside the process and not counted.",
      "",
      markdownTable(MEMORY_HEADER, memoryRows(results)),
      "",
      "With 2 cores shared by the stack, the load generator, the database server and other jobs,",
      "more clients mostly queue: throughput levels off and latency grows with the queue; PGlite",
      "runs one statement at a time. Longer or larger runs: `--requests 2000`, `--sizes",
      "10000,100000`, `--concurrency 1,8,32,64`.",
    ].join("\n"),
  );
  const errors = results.flatMap((r) => r.runs.flatMap((x) => [x.cold, x.cached]))
    .flatMap((l) => l.error_messages);
  if (errors.length) throw new Error(`searches failed: ${errors.join("; ")}`);
}

async function benchOne(
  backend: Backend,
  rows: number,
  levels: number[],
  requests: number,
  databaseUrl: string | undefined,
): Promise<LoadBenchResult> {
  const stack = await startStackProcess(backend, rows, databaseUrl);
  let peak = stack.rss_mb.loaded;
  const sampler = setInterval(() => (peak = Math.max(peak, stack.rssMb())), SAMPLE_EVERY_MS);
  try {
    const slots = levels.length * TRANSPORTS.length;
    const searches = searchRequests(slots * (WARMUP + requests));
    let slot = 0;
    const runs: Run[] = [];
    for (const concurrency of levels) {
      for (const transport of TRANSPORTS) {
        const client = memoryClient(transport, stack.url, stack.key);
        const mine = slotOf(searches, slots, slot++);
        const load = (first: number, operations: number, cached: boolean) =>
          withCpu(stack, () =>
            runLoad({
              concurrency,
              operations,
              next: (i) => ({
                kind: cached ? "cached" : "cold",
                run: async () => {
                  const result = await client.search(mine(first + i));
                  if (result.cached !== cached) throw new Error(`cached=${result.cached}`);
                },
              }),
            }));
        await load(0, WARMUP, false);
        const first = WARMUP;
        const run = {
          transport,
          concurrency,
          cold: await load(first, requests, false),
          cached: await load(first, requests, true),
        };
        console.log(textTable(LATENCY_HEADER, [runCells(backend, rows, run)]).split("\n")[2]);
        runs.push(run);
      }
    }
    return { backend, rows, rss_mb: { ...stack.rss_mb, peak }, runs };
  } finally {
    clearInterval(sampler);
    await stack.stop();
  }
}

/** Runs a load and adds the CPU time the stack (and its database) spent per request. */
async function withCpu(
  stack: StackProcess,
  load: () => Promise<LoadResult>,
): Promise<LoadResult & { cpu: CpuPerRequest }> {
  const before = await stack.cpu();
  const result = await load();
  const after = await stack.cpu();
  const perRequest = (s: number) => Math.round((s * 1000 / result.operations) * 100) / 100;
  return {
    ...result,
    memory: [],
    cpu: {
      stack_ms: perRequest(after.stack_s - before.stack_s),
      db_ms: after.db_s === null ? null : perRequest(after.db_s - before.db_s!),
    },
  };
}

const LATENCY_HEADER = [
  "backend",
  "memories",
  "transport",
  "clients",
  "cold p50",
  "p95",
  "p99",
  "req/s",
  "CPU ms/req",
  "db CPU",
  "cached p50",
  "p95",
  "p99",
  "req/s",
  "CPU ms/req",
  "db CPU",
  "errors",
];

function runCells(backend: Backend, rows: number, r: Run) {
  const lat = (
    l: LoadResult,
  ) => [l.latency?.p50 ?? "-", l.latency?.p95 ?? "-", l.latency?.p99 ?? "-"];
  return [
    backend,
    rows,
    r.transport,
    r.concurrency,
    ...lat(r.cold),
    r.cold.per_second,
    r.cold.cpu.stack_ms,
    r.cold.cpu.db_ms ?? "-",
    ...lat(r.cached),
    r.cached.per_second,
    r.cached.cpu.stack_ms,
    r.cached.cpu.db_ms ?? "-",
    r.cold.errors + r.cached.errors,
  ];
}

const latencyRows = (results: LoadBenchResult[]) =>
  results.flatMap((s) => s.runs.map((r) => runCells(s.backend, s.rows, r)));

const MEMORY_HEADER = ["backend", "memories", "idle RSS", "loaded RSS", "peak RSS"];
const memoryRows = (results: LoadBenchResult[]) =>
  results.map((r) => [r.backend, r.rows, r.rss_mb.idle, r.rss_mb.loaded, r.rss_mb.peak]);
