/**
 * Keyword side, variant against variant in one run: `deno task bench keyword [--rows 100000]
 * [--pglite-rows 10000] [--queries 50] [--out bench-results] [--doc docs/benchmarks.md]`.
 *
 * Loads the search benchmark's data (one user, 80% of the rows visible) into the scratch
 * database `<DATABASE_URL's db>_keyword`, and then `--pglite-rows` (default 10000; 0 skips it)
 * into an in-memory PGlite, and times, as that user, the keyword candidates of
 * every generated query (pool 40, as for 10 results) through:
 *   - exact: the unbounded ranking the migrations had before 20261206000100 (every match ranked
 *     by ts_rank_cd, then cut at the pool), recreated here as bench_kw.exact_matches;
 *   - budget: private.keyword_matches as migrated (see 20261206000100_keyword_budget.sql);
 *   - rum: where the rum extension is available, a RUM index ordering rows by its own rank
 *     (`fts <=> query`) inside the index.
 * Quality: the share of each variant's pool that the exact pool would accept, ties included (a
 * row scoring at least the exact 40th counts). Plans: auto_explain with buffers of the query the
 * exact variant spends longest on, through each variant.
 */
import { parseArgs } from "node:util";
import { asUser } from "../../shared/db/as_user.ts";
import type { Queryable } from "../../shared/db/types.ts";
import { markdownTable, textTable } from "../lib/tables.ts";
import { generateQueries } from "./lib/code_memory_generator.ts";
import type { Backend } from "./lib/bench_stack.ts";
import { explainSearch, openExplainableDb } from "./lib/explain.ts";
import { loadBenchData } from "./lib/load_memories.ts";
import { updateDocSection, writeResults } from "./lib/output.ts";
import { commandLine, machineInfo, machineLine } from "./lib/search_report.ts";
import { type Latency, summarize } from "./lib/stats.ts";

const POOL = 40;

/** Each variant: SQL returning (id, rank_score) for $1 = the query text, $2 = the pool. */
const VARIANTS: Record<string, string> = {
  exact:
    "select id, rank_score from bench_kw.exact_matches(websearch_to_tsquery('english', $1), $2)",
  budget: `select id, rank_score from private.keyword_matches(websearch_to_tsquery('english', $1),
    $2, null, null, null, 'any', null, null, null, null)`,
  rum: "select id, rank_score from bench_kw.rum_matches(websearch_to_tsquery('english', $1), $2)",
};

/** The variants' functions, SECURITY DEFINER like keyword_matches, visible projects inside. */
const SETUP = `
create schema if not exists bench_kw;
grant usage on schema bench_kw to authenticated;
create or replace function bench_kw.exact_matches(tsq tsquery, pool int)
returns table (id uuid, rank_score real)
language plpgsql stable security definer set search_path = '' as $$
#variable_conflict use_column
declare
  visible uuid[] := private.project_ids('reader');
  any_q tsquery := private.any_terms(tsq);
begin
  return query
  select m.id, (0.5 * pg_catalog.ts_rank_cd(m.fts, any_q, 32)
      + case when m.fts operator(pg_catalog.@@) tsq then 0.5 else 0 end)::real
  from public.memories m
  where m.fts operator(pg_catalog.@@) any_q
    and m.project_id = any (visible)
    and (m.expires_at is null or m.expires_at > now())
  order by 2 desc, 1
  limit pool;
end $$;`;

/** RUM: rows in the order of RUM's rank, computed in the index; scores as the exact variant. */
const RUM_SETUP = `
create extension if not exists rum with schema extensions;
set maintenance_work_mem = '512MB';
create index if not exists memories_fts_rum_idx on public.memories
  using rum (fts extensions.rum_tsvector_ops);
create or replace function bench_kw.rum_matches(tsq tsquery, pool int)
returns table (id uuid, rank_score real)
language plpgsql stable security definer set search_path = '' as $$
#variable_conflict use_column
declare
  visible uuid[] := private.project_ids('reader');
  any_q tsquery := private.any_terms(tsq);
begin
  return query
  select m.id, (0.5 * pg_catalog.ts_rank_cd(m.fts, any_q, 32)
      + case when m.fts operator(pg_catalog.@@) tsq then 0.5 else 0 end)::real
  from public.memories m
  where m.fts operator(pg_catalog.@@) any_q
    and m.project_id = any (visible)
    and (m.expires_at is null or m.expires_at > now())
  order by m.fts operator(extensions.<=>) any_q
  limit pool;
end $$;`;

interface VariantResult {
  variant: string;
  latency: Latency;
  /** Mean share of the pool the exact ranking accepts (ties with its last row included). */
  quality: number;
  /** Queries whose pool the exact ranking fully accepts. */
  perfect: number;
}

interface BackendResult {
  backend: Backend;
  rows: number;
  results: VariantResult[];
  /** The query the exact variant spent longest on, and each variant's plans for it. */
  slowest: string;
  plans: Record<string, string[]>;
  /** Seconds to build the RUM index; null where rum is not available (PGlite). */
  rumBuild: number | null;
}

export async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      rows: { type: "string", default: "100000" },
      "pglite-rows": { type: "string", default: "10000" },
      queries: { type: "string", default: "50" },
      out: { type: "string", default: "bench-results" },
      doc: { type: "string", default: "docs/benchmarks.md" },
    },
  });
  const databaseUrl = Deno.env.get("DATABASE_URL");
  if (!databaseUrl) throw new Error("the keyword benchmark runs on PostgreSQL: set DATABASE_URL");
  const queries = generateQueries(Number(values.queries));
  const plan: [Backend, number][] = [["postgres", Number(values.rows)]];
  if (Number(values["pglite-rows"]) > 0) plan.push(["pglite", Number(values["pglite-rows"])]);
  const backends: BackendResult[] = [];
  for (const [backend, rows] of plan) {
    console.log(`\n== ${backend}, ${rows} memories`);
    backends.push(await benchBackend(backend, rows, queries, databaseUrl));
    console.log(textTable(HEADER, tableRows(backends.slice(-1), queries.length)));
  }

  const command = commandLine("keyword", args, databaseUrl);
  const machine = await machineInfo(databaseUrl);
  const json = await writeResults(values.out, "keyword", { command, machine, backends });
  await updateDocSection(
    values.doc,
    "keyword",
    markdown({ command, json, machine: machineLine(machine), queries: queries.length, backends }),
  );
}

async function benchBackend(
  backend: Backend,
  rowCount: number,
  queries: string[],
  databaseUrl: string,
): Promise<BackendResult> {
  const { db, explainDb, notices, close } = await openExplainableDb(
    backend,
    databaseUrl,
    "keyword",
    2,
  );
  try {
    // The keyword side never reads the vector index: without it the load skips the HNSW build.
    await db.exec("drop index public.memories_embedding_idx");
    const data = await loadBenchData(db, rowCount);
    await db.exec(SETUP);
    const run = (tx: Queryable, variant: string, q: string) =>
      tx.query<{ id: string; rank_score: number }>(VARIANTS[variant], [q, POOL]);
    const floors: number[] = []; // the exact pool's lowest score, per query
    const results: VariantResult[] = [];
    const plans: Record<string, string[]> = {};
    let slowest = queries[0];
    const measure = async (variant: string) => {
      await asUser(db, data.userId, (tx) => run(tx, variant, queries[0])); // warm-up
      const times: number[] = [];
      const accepted: number[] = [];
      for (const [i, q] of queries.entries()) {
        const started = performance.now();
        const rows = await asUser(db, data.userId, (tx) => run(tx, variant, q));
        times.push(performance.now() - started);
        if (variant === "exact") floors[i] = Math.min(...rows.map((r) => r.rank_score));
        const ok = rows.filter((r) => r.rank_score >= floors[i]).length;
        accepted.push(rows.length ? ok / rows.length : 1);
      }
      if (variant === "exact") slowest = queries[times.indexOf(Math.max(...times))];
      results.push({
        variant,
        latency: summarize(times),
        quality: Math.round((accepted.reduce((s, x) => s + x, 0) / queries.length) * 1000) / 1000,
        perfect: accepted.filter((x) => x === 1).length,
      });
      plans[variant] = (await explainSearch(
        explainDb,
        notices,
        () => asUser(explainDb, data.userId, (tx) => run(tx, variant, slowest)),
        { buffers: true },
      )).plans;
    };
    await measure("exact");
    await measure("budget");
    // Last: the planner would use the RUM index for the other variants' plain matches too.
    const [{ rum }] = await db.query<{ rum: boolean }>(
      "select exists (select 1 from pg_available_extensions where name = 'rum') as rum",
    );
    let rumBuild: number | null = null;
    if (rum) {
      const started = performance.now();
      await db.exec(RUM_SETUP);
      rumBuild = (performance.now() - started) / 1000;
      await db.exec("analyze public.memories");
      await measure("rum");
    }
    return { backend, rows: data.rows, results, slowest, plans, rumBuild };
  } finally {
    await close();
  }
}

const HEADER = [
  "backend",
  "memories",
  "variant",
  "p50",
  "p95",
  "max",
  "pool accepted",
  "queries fully accepted",
];

const tableRows = (backends: BackendResult[], queries: number) =>
  backends.flatMap((b) =>
    b.results.map((r) => [
      b.backend,
      b.rows,
      r.variant,
      r.latency.p50,
      r.latency.p95,
      r.latency.max,
      r.quality.toFixed(3),
      `${r.perfect}/${queries}`,
    ])
  );

function markdown(r: {
  command: string;
  json: string;
  machine: string;
  queries: number;
  backends: BackendResult[];
}): string {
  const pg = r.backends[0];
  return [
    "## Keyword side at 100k",
    "",
    r.machine,
    "",
    `Command: \`${r.command}\` (raw figures: \`${r.json}\`).`,
    "",
    "Data: the search benchmark's memories (one user reads 80%). Each variant returns the keyword",
    `candidates (pool ${POOL}, as for 10 results) of ${r.queries} generated queries, as the user;`,
    "latencies in ms (nearest rank, one call per query after a warm-up). _exact_ is the ranking",
    "before migration 20261206000100 (every match ranked by ts_rank_cd, then cut), _budget_ is",
    "`private.keyword_matches` now, _rum_ orders by a RUM index's own rank (`fts <=> query`;",
    pg.rumBuild === null
      ? "not run: no rum extension here)."
      : `index built in ${pg.rumBuild.toFixed(1)} s; PostgreSQL only).`,
    "_Pool accepted_: the share of a variant's pool that scores at least the exact pool's last row",
    "(ties count: the generated memories repeat templates, so a common query has up to 180 rows tied",
    "at the 40th score, and which of them the exact variant keeps is decided by id).",
    "",
    markdownTable(HEADER, tableRows(r.backends, r.queries)),
    "",
    `<details><summary>Plans on ${pg.backend}, ${pg.rows} memories, for "${pg.slowest}" (the exact variant's slowest query)</summary>`,
    "",
    ...Object.entries(pg.plans).flatMap(([variant, plans]) => [
      `${variant}:`,
      "",
      "```",
      ...plans.map((p) => p.trim()),
      "```",
      "",
    ]),
    "</details>",
  ].join("\n");
}
