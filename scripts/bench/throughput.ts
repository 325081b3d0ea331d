/**
 * Save throughput: `deno task bench throughput [--saves 300] [--concurrency 1,8,32]
 * [--backends pglite,postgres] [--out bench-results] [--doc docs/benchmarks.md]`.
 *
 * On the embedded stack (hash embeddings, rate limit off) over a fresh database per backend
 * (PostgreSQL: scratch database `<DATABASE_URL's db>_throughput_bench`), `--saves` generated
 * code memories are saved through REST (POST /functions/v1/memories) and through MCP
 * (tools/call save_memory) by N closed-loop clients, for each N of `--concurrency`: saves/s,
 * latency percentiles, errors (must be 0), and how long the embedding backlog took to drain
 * after the last save (the webhook embeds every save in the background, in the same process).
 */
import { parseArgs } from "node:util";
import { markdownTable, textTable } from "../lib/tables.ts";
import { memoryClient, type Transport, TRANSPORTS } from "./lib/api_client.ts";
import {
  type Backend,
  openBenchDb,
  parseBackends,
  startBenchStack,
  waitForEmbedded,
} from "./lib/bench_stack.ts";
import { runLoad } from "./lib/load_generator.ts";
import { updateDocSection, writeResults } from "./lib/output.ts";
import { commandLine, machineInfo, machineLine } from "./lib/search_report.ts";
import type { Latency } from "./lib/stats.ts";
import { benchUser, saveInput } from "./lib/workload.ts";

export interface ThroughputResult {
  backend: Backend;
  transport: Transport;
  concurrency: number;
  saves: number;
  errors: number;
  error_messages: string[];
  seconds: number;
  per_second: number;
  latency: Latency | null;
  /** From the last acknowledged save until every save was embedded. */
  embed_backlog_ms: number;
}

const WARMUP = 30;

export async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      saves: { type: "string", default: "300" },
      concurrency: { type: "string", default: "1,8,32" },
      backends: { type: "string" },
      out: { type: "string", default: "bench-results" },
      doc: { type: "string", default: "docs/benchmarks.md" },
    },
  });
  const databaseUrl = Deno.env.get("DATABASE_URL");
  const backends = parseBackends(values.backends, databaseUrl);
  const saves = Number(values.saves);
  const levels = values.concurrency.split(",").map(Number);

  const results: ThroughputResult[] = [];
  for (const backend of backends) {
    console.log(`\n== ${backend}`);
    results.push(...await benchBackend(backend, databaseUrl, saves, levels));
  }
  console.log(`\n${textTable(HEADER, results.map(cells))}`);

  const command = commandLine("throughput", args, databaseUrl);
  const machine = await machineInfo(backends.includes("postgres") ? databaseUrl : undefined);
  const json = await writeResults(values.out, "throughput", { command, machine, results });
  await updateDocSection(
    values.doc,
    "throughput",
    [
      "## Save throughput",
      "",
      machineLine(machine),
      "",
      `Command: \`${command}\` (raw figures: \`${json}\`).`,
      "",
      `Each row: ${saves} generated code memories saved by N closed-loop clients over HTTP on`,
      "127.0.0.1 to the embedded stack (hash embeddings, rate limit off, PostgreSQL pool of 10),",
      "after a warm-up; REST = `POST /functions/v1/memories`, MCP = `tools/call save_memory`.",
      "Latencies in ms (nearest rank). Every save is embedded in the background by the same",
      "process (webhook relay + `embed`), so saves compete with embedding for the CPU;",
      '"backlog" is how long embedding took to catch up after the last save.',
      "",
      markdownTable(HEADER, results.map(cells)),
    ].join("\n"),
  );
  const failed = results.filter((r) => r.errors > 0);
  if (failed.length) {
    throw new Error(`saves failed: ${failed.flatMap((r) => r.error_messages).join("; ")}`);
  }
}

async function benchBackend(
  backend: Backend,
  databaseUrl: string | undefined,
  saves: number,
  levels: number[],
): Promise<ThroughputResult[]> {
  const { db, close } = await openBenchDb(backend, databaseUrl, "throughput_bench");
  try {
    const stack = await startBenchStack(db);
    try {
      const { userId, key } = await benchUser(db);
      let index = 0; // every save is a new memory: no duplicate short-cut
      const out: ThroughputResult[] = [];
      for (const transport of TRANSPORTS) {
        const client = memoryClient(transport, stack.url, key);
        const save = () => ({ kind: "save", run: () => client.save(saveInput(index++)) });
        await runLoad({ concurrency: 8, operations: WARMUP, next: save });
        await waitForEmbedded(db, userId);
        for (const concurrency of levels) {
          const load = await runLoad({ concurrency, operations: saves, next: save });
          const result: ThroughputResult = {
            backend,
            transport,
            concurrency,
            saves: load.operations,
            errors: load.errors,
            error_messages: load.error_messages,
            seconds: load.elapsed_ms / 1000,
            per_second: load.per_second,
            latency: load.latency,
            embed_backlog_ms: await waitForEmbedded(db, userId),
          };
          console.log(textTable(HEADER, [cells(result)]).split("\n").at(-1));
          out.push(result);
        }
      }
      return out;
    } finally {
      await stack.close();
    }
  } finally {
    await close();
  }
}

const HEADER = [
  "backend",
  "transport",
  "clients",
  "saves",
  "saves/s",
  "p50",
  "p95",
  "p99",
  "errors",
  "backlog",
];

function cells(r: ThroughputResult) {
  return [
    r.backend,
    r.transport,
    r.concurrency,
    r.saves,
    r.per_second,
    r.latency?.p50 ?? "-",
    r.latency?.p95 ?? "-",
    r.latency?.p99 ?? "-",
    r.errors,
    `${(r.embed_backlog_ms / 1000).toFixed(1)} s`,
  ];
}
