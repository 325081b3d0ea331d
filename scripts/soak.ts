/**
 * `deno task soak [--seconds 120] [--clients 32] [--backend pglite,postgres] [--out bench-results]
 * [--doc docs/benchmarks.md]`: the soak (scripts/soak/run.ts) on the embedded stack over a fresh
 * database per backend (PGlite persisted in a temporary directory, as `deno task start` keeps
 * it; PostgreSQL: scratch database `<DATABASE_URL's db>_soak`, dropped after; by default both
 * backends when DATABASE_URL is set). Prints latency per operation and memory
 * samples, writes bench-results/soak-<ts>.json and the soak section of docs/benchmarks.md, and
 * exits 1 when any check failed.
 */
import { parseArgs } from "node:util";
import { openBenchDb, parseBackends, startBenchStack } from "./bench/lib/bench_stack.ts";
import type { LoadResult } from "./bench/lib/load_generator.ts";
import { updateDocSection, writeResults } from "./bench/lib/output.ts";
import { machineInfo, machineLine } from "./bench/lib/search_report.ts";
import { redacted } from "./bench/lib/scratch_db.ts";
import { markdownTable, textTable } from "./lib/tables.ts";
import { runMain } from "./lib/run_main.ts";
import { TOLERANCE } from "./soak/memory_growth.ts";
import { runSoak, type SoakReport } from "./soak/run.ts";

async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      seconds: { type: "string", default: "120" },
      clients: { type: "string", default: "32" },
      backend: { type: "string" },
      out: { type: "string", default: "bench-results" },
      doc: { type: "string", default: "docs/benchmarks.md" },
    },
  });
  const databaseUrl = Deno.env.get("DATABASE_URL");
  const seconds = Number(values.seconds);
  const clients = Number(values.clients);
  const runs: (SoakReport & { backend: string })[] = [];
  for (const backend of parseBackends(values.backend, databaseUrl)) {
    console.log(`\n== ${backend}: ${clients} clients for ${seconds} s`);
    const { db, close } = await openBenchDb(backend, databaseUrl, "soak", { persist: true });
    try {
      const stack = await startBenchStack(db);
      try {
        const report = await runSoak({ url: stack.url, db, seconds, clients });
        runs.push({ backend, ...report });
        console.log(textTable(OPS_HEADER, opsRows(report.load)));
        console.log(`\n${textTable(MEMORY_HEADER, memoryRows(report))}`);
        console.log(
          report.failures.length ? `\nFAILED:\n  ${report.failures.join("\n  ")}` : "\nok",
        );
      } finally {
        await stack.close();
      }
    } finally {
      await close();
    }
  }

  const env = databaseUrl ? `DATABASE_URL=${redacted(databaseUrl)} ` : "";
  const command = `${env}deno task soak ${args.join(" ")}`.trim();
  const machine = await machineInfo(databaseUrl);
  const json = await writeResults(values.out, "soak", { command, machine, runs });
  await updateDocSection(values.doc, "soak", markdown(command, machineLine(machine), json, runs));
  return runs.some((r) => r.failures.length) ? 1 : 0;
}

const OPS_HEADER = ["operation", "ok", "errors", "p50", "p95", "p99", "max"];
function opsRows(load: LoadResult) {
  const row = (name: string, ok: number, errors: number, l: LoadResult["latency"]) => [
    name,
    ok,
    errors,
    l?.p50 ?? "-",
    l?.p95 ?? "-",
    l?.p99 ?? "-",
    l?.max ?? "-",
  ];
  return [
    ...Object.entries(load.kinds).map(([kind, k]) => row(kind, k.ok, k.errors, k.latency)),
    row("all", load.operations - load.errors, load.errors, load.latency),
  ];
}

/** Every sixth sample: enough to see the shape. */
const MEMORY_HEADER = ["t (s)", "RSS MB", "heap MB", "external MB"];
const memoryRows = (r: SoakReport) =>
  r.load.memory.filter((_, i, all) => i % 6 === 0 || i === all.length - 1).map((m) => [
    (m.t_ms / 1000).toFixed(0),
    m.rss_mb,
    m.heap_used_mb,
    m.external_mb,
  ]);

function markdown(
  command: string,
  machine: string,
  json: string,
  runs: (SoakReport & { backend: string })[],
): string {
  const out = [
    "## Soak",
    "",
    machine,
    "",
    `Command: \`${command}\` (raw figures: \`${json}\`).`,
    "",
    "N closed-loop clients of one user on 127.0.0.1 against the embedded stack (hash embeddings,",
    "rate limit off; PGlite persisted to a temporary directory as `deno task start` keeps it (in",
    "memory, its files and WAL would grow the RSS with every write); PostgreSQL pool of 10), each request picked at random (fixed seed): 25% saves,",
    "40% searches, 20% gets and 15% content updates of the client's own memories, each through REST",
    "or MCP. A get must return the content its client last saw acknowledged. Afterwards the soak",
    "checks that no request failed, and that every acknowledged save and update is stored with",
    "exactly that content and embedded for it (the hash provider's vector is known exactly).",
    "Memory: sampled 30 times, each after a forced full garbage collection (which pauses the",
    "clients briefly and shows in the tails); the median of the last third of the run may exceed",
    `the middle third's by at most max(${TOLERANCE.heap.absoluteMb} MB, ${
      TOLERANCE.heap.relative * 100
    }%) for the JS heap and max(${TOLERANCE.rss.absoluteMb} MB, ${
      TOLERANCE.rss.relative * 100
    }%) for RSS (the first third is warm-up: JIT, caches, pools). Latencies in ms.`,
  ];
  for (const r of runs) {
    const [heap, rss] = r.growth;
    out.push(
      "",
      `### ${r.backend}: ${r.clients} clients, ${r.seconds} s — ${
        r.failures.length ? "**FAILED**" : "passed"
      }`,
      "",
      `${r.load.operations} requests (${r.load.per_second}/s), ${r.load.errors} errors; ${r.saved} saves and ${r.updated} updates verified; embedding caught up ${
        (r.embed_backlog_ms / 1000).toFixed(1)
      } s after the last write. Heap ${heap.middle_mb} → ${heap.last_mb} MB, RSS ${rss.middle_mb} → ${rss.last_mb} MB (middle → last third).`,
      "",
      markdownTable(OPS_HEADER, opsRows(r.load)),
      ...(r.failures.length ? ["", ...r.failures.map((f) => `- ${f}`)] : []),
    );
  }
  out.push(
    "",
    "The short version runs in the test suite (`tests/soak_test.ts`: 20 s, 32 clients, each",
    "backend). Longer soaks: `--seconds 600`; more clients: `--clients 64`.",
  );
  return out.join("\n");
}

if (import.meta.main) await runMain(main);
