/**
 * Search under load: `deno task bench load [--sizes 10000] [--concurrency 1,8,32]
 * [--requests 400] [--backends pglite,postgres] [--out bench-results] [--doc docs/benchmarks.md]`.
 *
 * For each backend and size, in a process of its own (so its memory figures are its own): the
 * embedded stack (hash embeddings, rate limit off) over a fresh database, bulk-loaded with
 * generated code memories; then, for each number N of closed-loop clients and each transport
 * (REST `POST /functions/v1/memories/search`, MCP `tools/call search_memories`), `--requests`
 * distinct searches (cold: results-cache misses) and the same ones again (cached). Records
 * latency percentiles, requests/s, errors (must be 0), and the process's resident set size:
 * after the stack started (idle), after the data was loaded, and the peak during the runs.
 */
import { parseArgs } from "node:util";
import { createApiKey } from "../../shared/auth/api_keys.ts";
import { markdownTable, textTable } from "../lib/tables.ts";
import { memoryClient, type Transport, TRANSPORTS } from "./lib/api_client.ts";
import { type Backend, openBenchDb, parseBackends, startBenchStack } from "./lib/bench_stack.ts";
import { type LoadResult, memorySample, peakRss, runLoad } from "./lib/load_generator.ts";
import { loadBenchData } from "./lib/load_memories.ts";
import { updateDocSection, writeResults } from "./lib/output.ts";
import { commandLine, machineInfo, machineLine } from "./lib/search_report.ts";
import { searchRequests } from "./lib/workload.ts";

interface Run {
  transport: Transport;
  concurrency: number;
  cold: LoadResult;
  cached: LoadResult;
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
      /** Internal: run one backend:rows in this process, writing its result to `--result`. */
      one: { type: "string" },
      result: { type: "string" },
    },
  });
  const databaseUrl = Deno.env.get("DATABASE_URL");
  const levels = values.concurrency.split(",").map(Number);
  const requests = Number(values.requests);
  if (values.one) {
    const [backend, rows] = values.one.split(":");
    const result = await benchOne(backend as Backend, Number(rows), levels, requests, databaseUrl);
    await Deno.writeTextFile(values.result!, JSON.stringify(result));
    return;
  }

  const results: LoadBenchResult[] = [];
  for (const backend of parseBackends(values.backends, databaseUrl)) {
    for (const rows of values.sizes.split(",").map(Number)) {
      console.log(`\n== ${backend}, ${rows} memories`);
      results.push(await inChildProcess(backend, rows, values.concurrency, values.requests));
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
      "Each backend and size runs in a process of its own: the embedded stack (hash embeddings,",
      "rate limit off, PostgreSQL pool of 10) over generated code memories loaded as in the search",
      `benchmark. N closed-loop clients on 127.0.0.1 send ${requests} distinct searches (cold:`,
      "results-cache misses; query × filter) and then the same ones again (cached), through REST",
      "(`POST /functions/v1/memories/search`) and MCP (`tools/call search_memories`), after a",
      "warm-up. Latencies in ms (nearest rank); req/s = completed requests per second.",
      "",
      markdownTable(LATENCY_HEADER, latencyRows(results)),
      "",
      "Resident set size of the benchmark process, which is the embedded stack plus its load",
      "generator (MB): after the stack started on an empty database, after the data was loaded,",
      "and the peak during the runs (sampled every 250 ms). PGlite's figures include the database",
      "itself (PostgreSQL in WASM, data in memory); PostgreSQL's server processes are outside the",
      "process and not counted.",
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

/** Runs one backend and size in a fresh Deno process (clean memory figures). */
async function inChildProcess(
  backend: Backend,
  rows: number,
  concurrency: string,
  requests: string,
): Promise<LoadBenchResult> {
  const resultFile = await Deno.makeTempFile({ suffix: ".json" });
  try {
    const { code } = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--unstable-no-legacy-abort",
        new URL("../bench.ts", import.meta.url).pathname,
        "load",
        ...["--one", `${backend}:${rows}`, "--result", resultFile],
        ...["--concurrency", concurrency, "--requests", requests],
      ],
      stdout: "inherit",
      stderr: "inherit",
    }).output();
    if (code !== 0) throw new Error(`load benchmark ${backend}:${rows} exited with ${code}`);
    return JSON.parse(await Deno.readTextFile(resultFile));
  } finally {
    await Deno.remove(resultFile);
  }
}

async function benchOne(
  backend: Backend,
  rows: number,
  levels: number[],
  requests: number,
  databaseUrl: string | undefined,
): Promise<LoadBenchResult> {
  const { db, close } = await openBenchDb(backend, databaseUrl, "load_bench");
  try {
    const stack = await startBenchStack(db);
    try {
      const idle = memorySample(0).rss_mb;
      const data = await loadBenchData(db, rows);
      const loaded = memorySample(0).rss_mb;
      const { key } = await createApiKey(db, data.userId, { name: "bench" });
      const searches = searchRequests(levels.length * TRANSPORTS.length * (WARMUP + requests));
      let offset = 0;
      const runs: Run[] = [];
      for (const concurrency of levels) {
        for (const transport of TRANSPORTS) {
          const client = memoryClient(transport, stack.url, key);
          const load = (first: number, operations: number, cached: boolean) =>
            runLoad({
              concurrency,
              operations,
              sampleEveryMs: SAMPLE_EVERY_MS,
              next: (i) => ({
                kind: cached ? "cached" : "cold",
                run: async () => {
                  const result = await client.search(searches(first + i));
                  if (result.cached !== cached) throw new Error(`cached=${result.cached}`);
                },
              }),
            });
          await load(offset, WARMUP, false);
          const first = offset + WARMUP;
          offset = first + requests;
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
      const peak = Math.max(
        loaded,
        ...runs.flatMap((r) => [peakRss(r.cold.memory), peakRss(r.cached.memory)]),
      );
      // The samples served the peak; the JSON keeps the summary.
      for (const r of runs) r.cold.memory = r.cached.memory = [];
      return { backend, rows, rss_mb: { idle, loaded, peak }, runs };
    } finally {
      await stack.close();
    }
  } finally {
    await close();
  }
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
  "cached p50",
  "p95",
  "p99",
  "req/s",
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
    ...lat(r.cached),
    r.cached.per_second,
    r.cold.errors + r.cached.errors,
  ];
}

const latencyRows = (results: LoadBenchResult[]) =>
  results.flatMap((s) => s.runs.map((r) => runCells(s.backend, s.rows, r)));

const MEMORY_HEADER = ["backend", "memories", "idle RSS", "loaded RSS", "peak RSS"];
const memoryRows = (results: LoadBenchResult[]) =>
  results.map((r) => [r.backend, r.rows, r.rss_mb.idle, r.rss_mb.loaded, r.rss_mb.peak]);
