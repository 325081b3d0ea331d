/**
 * The headline figures in one command (meant for an idle machine): `DATABASE_URL=… deno task
 * bench headline [--tenants] [--doc docs/benchmarks.md]`. Runs, one after the other and each in
 * a process of its own, the benchmarks behind the search targets, each refreshing its own
 * section of the doc:
 *   - search  --sizes 100000 --pglite-sizes 10000  (RPC per mode, MCP/REST end to end, PGlite)
 *   - keyword                                      (keyword candidates: exact, budget, RUM;
 *                                                   PostgreSQL 100k and PGlite 10k)
 *   - load    --backends postgres --sizes 100000 --concurrency 1,32  (32 clients, req/s, CPU)
 *   - tenants --rows 1000000                       (only with --tenants: about an hour)
 * then writes the table of headline figures, with the targets of issue #16, from their results.
 * Expect 30-40 minutes without --tenants on 2 cores.
 */
import { parseArgs } from "node:util";
import { markdownTable } from "../lib/tables.ts";
import { updateDocSection } from "./lib/output.ts";
import { commandLine, machineInfo, machineLine } from "./lib/search_report.ts";

interface Latency {
  p50: number;
  p95: number;
}

/** The parts of each benchmark's JSON the headline reads. */
interface SearchJson {
  results: {
    backend: string;
    rows: number;
    rpc: Record<string, Latency>;
    e2e: Record<string, { cold: Latency; cached: Latency }>;
  }[];
}
interface KeywordJson {
  backends: {
    backend: string;
    rows: number;
    results: { variant: string; latency: Latency; quality: number }[];
  }[];
}
interface LoadJson {
  results: {
    backend: string;
    rows: number;
    runs: {
      transport: string;
      concurrency: number;
      cold: { latency: Latency; per_second: number; cpu: { stack_ms: number; db_ms: number } };
    }[];
  }[];
}
interface TenantsJson {
  buckets: { bucket: string; modes: Record<string, Latency> }[];
}

export async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      tenants: { type: "boolean", default: false },
      doc: { type: "string", default: "docs/benchmarks.md" },
    },
  });
  const databaseUrl = Deno.env.get("DATABASE_URL");
  if (!databaseUrl) throw new Error("the headline figures need PostgreSQL: set DATABASE_URL");
  const out = await Deno.makeTempDir({ prefix: "headline-" });
  try {
    const run = async <T>(name: string, ...rest: string[]): Promise<T> => {
      const dir = `${out}/${name}`;
      const { code } = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          "--unstable-no-legacy-abort",
          new URL("../bench.ts", import.meta.url).pathname,
          name,
          ...rest,
          "--out",
          dir,
          "--doc",
          values.doc,
        ],
        stdout: "inherit",
        stderr: "inherit",
      }).output();
      if (code !== 0) throw new Error(`bench ${name} exited with ${code}`);
      const [file] = [...Deno.readDirSync(dir)].map((e) => `${dir}/${e.name}`);
      await Deno.mkdir("bench-results", { recursive: true });
      await Deno.copyFile(file, `bench-results/${file.slice(dir.length + 1)}`);
      return JSON.parse(await Deno.readTextFile(file));
    };
    const search = await run<SearchJson>(
      "search",
      "--sizes",
      "100000",
      "--pglite-sizes",
      "10000",
    );
    const keyword = await run<KeywordJson>("keyword");
    const load = await run<LoadJson>(
      "load",
      "--backends",
      "postgres",
      "--sizes",
      "100000",
      "--concurrency",
      "1,32",
    );
    const tenants = values.tenants ? await run<TenantsJson>("tenants", "--rows", "1000000") : null;
    const machine = await machineInfo(databaseUrl);
    await updateDocSection(
      values.doc,
      "headline",
      markdown(commandLine("headline", args, databaseUrl), machineLine(machine), {
        search,
        keyword,
        load,
        tenants,
      }),
    );
  } finally {
    await Deno.remove(out, { recursive: true });
  }
}

function markdown(
  command: string,
  machine: string,
  r: { search: SearchJson; keyword: KeywordJson; load: LoadJson; tenants: TenantsJson | null },
): string {
  const pg = r.search.results.find((s) => s.backend === "postgres" && s.rows === 100_000)!;
  const pglite = r.search.results.find((s) => s.backend === "pglite" && s.rows === 10_000)!;
  const hybrid = pg.rpc.hybrid.p95;
  const semantic = pg.rpc.semantic.p95;
  const keywordRows = r.keyword.backends.map((b) => {
    const exact = b.results.find((k) => k.variant === "exact")!;
    const budget = b.results.find((k) => k.variant === "budget")!;
    return [
      `keyword candidates p95, ${b.backend} ${b.rows}: exact → budget`,
      `${exact.latency.p95} → ${budget.latency.p95} ms (pool accepted ${budget.quality})`,
      "",
    ];
  });
  const loadRun = (transport: string) =>
    r.load.results[0].runs.find((x) => x.transport === transport && x.concurrency === 32)!;
  const rows: (string | number)[][] = [
    ["hybrid RPC p95, PostgreSQL 100k", `${hybrid} ms`, "≤ 25 ms and ≤ 3 × semantic"],
    ["semantic RPC p95 (same run)", `${semantic} ms`, ""],
    ["hybrid / semantic p95", `${(hybrid / semantic).toFixed(2)} ×`, "≤ 3 ×"],
    ["keyword RPC p95", `${pg.rpc.keyword.p95} ms`, ""],
    ["MCP end to end, uncached p95", `${pg.e2e.mcp.cold.p95} ms`, "≤ 45 ms"],
    ["MCP end to end, cached p95", `${pg.e2e.mcp.cached.p95} ms`, "≤ 3 ms"],
    ["PGlite 10k hybrid RPC p95", `${pglite.rpc.hybrid.p95} ms`, "≤ 15 ms"],
    ...keywordRows,
    ...["rest", "mcp"].map((t) => {
      const x = loadRun(t);
      return [
        `32 clients, ${t}, 100k, uncached`,
        `p95 ${x.cold.latency.p95} ms, ${x.cold.per_second} req/s, CPU ${x.cold.cpu.stack_ms} ms/req (db ${x.cold.cpu.db_ms})`,
        "",
      ];
    }),
    ...(r.tenants?.buckets ?? []).map((b) => [
      `1M memories / 1,000 users, ${b.bucket} readable: hybrid p50 / p95`,
      `${b.modes.hybrid.p50} / ${b.modes.hybrid.p95} ms`,
      b.bucket === ">= 50k" ? "within the 100k targets" : "",
    ]),
  ];
  return [
    "## Headline figures",
    "",
    machine,
    "",
    `Command: \`${command}\` (each benchmark's own section below has its details and raw figures).`,
    "",
    markdownTable(["figure", "measured", "target (#16)"], rows),
  ].join("\n");
}
