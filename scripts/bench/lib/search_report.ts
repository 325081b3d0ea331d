/** Writes the search benchmark's JSON to bench-results/ and its section of docs/benchmarks.md. */
import type { SizeResult } from "../search.ts";
import { openPostgres } from "../../../shared/db/postgres.ts";
import { updateDocSection, writeResults } from "./output.ts";
import { redacted } from "./scratch_db.ts";

export interface Machine {
  cpu: string;
  cores: number;
  memory_gb: number;
  os: string;
  deno: string;
  postgres?: string;
  pgvector?: string;
}

export interface Report {
  command: string;
  machine: Machine;
  runs: number;
  results: SizeResult[];
}

export async function machineInfo(databaseUrl?: string): Promise<Machine> {
  const cpuinfo = await Deno.readTextFile("/proc/cpuinfo").catch(() => "");
  const machine: Machine = {
    cpu: cpuinfo.match(/^model name\s*:\s*(.+)$/m)?.[1] ?? "unknown",
    cores: navigator.hardwareConcurrency,
    memory_gb: Math.round(Deno.systemMemoryInfo().total / 2 ** 30),
    os: `${Deno.build.os} ${Deno.osRelease()}`,
    deno: Deno.version.deno,
  };
  if (databaseUrl) {
    const db = openPostgres(databaseUrl, { max: 1 });
    try {
      const [row] = await db.query<{ version: string; vector: string }>(
        `select current_setting('server_version') as version,
           (select extversion from pg_extension where extname = 'vector') as vector`,
      );
      machine.postgres = row.version;
      machine.pgvector = row.vector;
    } finally {
      await db.close();
    }
  }
  return machine;
}

/** One line describing the machine, for the benchmark sections of docs/benchmarks.md. */
export function machineLine(m: Machine): string {
  return `Machine: ${m.cpu}, ${m.cores} cores, ${m.memory_gb} GB RAM, ${m.os}; Deno ${m.deno}` +
    (m.postgres ? `; PostgreSQL ${m.postgres} with pgvector ${m.pgvector}` : "") +
    "; PGlite 0.5 (PostgreSQL 18 in WASM, pgvector 0.8.7) in process.";
}

/** The command that reproduces a run, DATABASE_URL included (password masked). */
export function commandLine(bench: string, args: string[], databaseUrl?: string): string {
  const env = databaseUrl ? `DATABASE_URL=${redacted(databaseUrl)} ` : "";
  return `${env}deno task bench ${bench} ${args.join(" ")}`.trim();
}

export async function writeReport(report: Report, outDir: string, docPath: string) {
  const json = await writeResults(outDir, "search", report);
  await updateDocSection(docPath, "search", markdown(report, json));
}

const row = (cells: (string | number)[]) => `| ${cells.join(" | ")} |`;
const lat = (l: { p50: number; p95: number; p99: number }) => [l.p50, l.p95, l.p99];

function markdown(r: Report, jsonPath: string): string {
  const out: string[] = [
    "## Search",
    "",
    machineLine(r.machine),
    "",
    `Command: \`${r.command}\` (raw figures: \`${jsonPath}\`).`,
    "",
    "Data: generated code memories (fixed seed), 80% in the searching user's 10 projects and 20%",
    "belonging to 20 other users (row level security filters them), hash-provider vectors,",
    "bulk-loaded, indexes rebuilt, `VACUUM ANALYZE`. Latencies in ms, nearest-rank percentiles",
    `over ${r.runs} sequential calls after a warm-up; 50 distinct queries, 10 results each.`,
    "",
    "RPC alone: `public.search_memories` as the user (its `asUser` transaction included).",
    "",
    row(["backend", "memories", "variant", "p50", "p95", "p99", "hits"]),
    row(["---", "---:", "---", "---:", "---:", "---:", "---:"]),
  ];
  for (const s of r.results) {
    for (const [name, l] of Object.entries(s.rpc)) {
      out.push(row([s.backend, s.rows, name, ...lat(l), l.avg_hits]));
    }
  }
  out.push(
    "",
    "End to end: sequential HTTP requests to the embedded stack, through REST",
    "(`POST /functions/v1/memories/search`) and MCP (`tools/call search_memories`): authentication,",
    "rate limit, query embedding, cache, RPC, formatting. Cold = every request distinct",
    "(results-cache miss); cached = the same requests again (in-memory cache).",
    "",
    row([
      "backend",
      "memories",
      "transport",
      "cold p50",
      "cold p95",
      "cold p99",
      "cached p50",
      "cached p95",
      "cached p99",
    ]),
    row(["---", "---:", "---", "---:", "---:", "---:", "---:", "---:", "---:"]),
  );
  for (const s of r.results) {
    for (const [transport, e] of Object.entries(s.e2e)) {
      out.push(row([s.backend, s.rows, transport, ...lat(e.cold), ...lat(e.cached)]));
    }
  }
  out.push(
    "",
    "Load time (insert / index build / vacuum analyze, seconds):",
    "",
    ...r.results.map((s) =>
      `- ${s.backend}, ${s.rows}: ${(s.load.insert_ms / 1000).toFixed(1)} / ${
        (s.load.index_ms / 1000).toFixed(1)
      } / ${(s.load.analyze_ms / 1000).toFixed(1)}`
    ),
    "",
    "Plans (auto_explain of a hybrid search, nested statements):",
    "",
    ...r.results.map((s) =>
      `- ${s.backend}, ${s.rows}: HNSW index ${
        s.explain.hnsw ? "used" : "**not used**"
      }, GIN index ${s.explain.gin ? "used" : "**not used**"}`
    ),
  );
  out.push(
    "",
    "Reading the figures: a broad search walks the HNSW graph (a few ms at 100k rows); the keyword",
    "side costs most when common words match thousands of rows, all of which `ts_rank_cd` must",
    'rank (the p95s); a filter leaving fewer rows than √(1000 × table rows) (10k at 100k: "hybrid',
    "+ project + kinds\" reads one 8k-row project) gets an exact sort of those rows instead of HNSW's",
    "iterative scan, which visits ~25x more tuples than it returns at a few percent of the table.",
    "REST and MCP share everything but the envelope: MCP adds its JSON-RPC handling and the result",
    "text.",
    "The default run (PostgreSQL at 1k/10k/100k, PGlite at 1k/10k) takes about 5 minutes on this",
    "machine; `--pglite-sizes 1000,10000,100000` adds 4 to 6 (mostly building the HNSW index in",
    "WASM, single-threaded). The machine was shared with other jobs, so tails (p99) are noisy.",
  );
  const largest = [...r.results].reverse().find((s) => s.backend === "postgres") ??
    r.results.at(-1);
  if (largest) {
    out.push(
      "",
      `<details><summary>Plans on ${largest.backend}, ${largest.rows} memories</summary>`,
      "",
      "```",
      ...largest.explain.plans.map((p) => p.trim()),
      "```",
      "",
      "</details>",
    );
  }
  return out.join("\n");
}
