/**
 * Search benchmark: `deno task bench search [--sizes 10000,100000] [--pglite-sizes 10000]
 * [--backends pglite,postgres] [--runs 200] [--out bench-results] [--doc docs/benchmarks.md]`.
 *
 * For each backend and size: a fresh database with generated code memories (hash-provider
 * vectors, bulk-loaded), then latency percentiles of
 *   - the RPC alone (public.search_memories as the user, in its asUser transaction), per mode;
 *   - end to end through the MCP endpoint (HTTP tools/call search_memories on the embedded
 *     stack), cold (results-cache misses) and cached (the same requests again);
 * plus auto_explain plans proving the HNSW and GIN indexes are used. PostgreSQL runs in a
 * scratch database `<DATABASE_URL's db>_bench` created on the same server and dropped after.
 */
import { parseArgs } from "node:util";
import { auto_explain } from "@electric-sql/pglite/contrib/auto_explain";
import { createApiKey } from "../../shared/auth/api_keys.ts";
import { loadConfig } from "../../shared/config.ts";
import { asUser } from "../../shared/db/as_user.ts";
import { migrate } from "../../shared/db/migrate.ts";
import { openPglite } from "../../shared/db/pglite.ts";
import { openPostgres } from "../../shared/db/postgres.ts";
import type { Database } from "../../shared/db/types.ts";
import { hashEmbed } from "../../shared/embeddings/hash.ts";
import { searchRpc, type SearchRpcArgs } from "../../shared/search/rpc.ts";
import { startStack } from "../local/stack.ts";
import { generateQueries } from "./lib/code_memory_generator.ts";
import { type ExplainResult, explainSearch, noticeCollector } from "./lib/explain.ts";
import { type BenchData, loadBenchData } from "./lib/load_memories.ts";
import { redacted, scratchDatabase } from "./lib/scratch_db.ts";
import { machineInfo, writeReport } from "./lib/search_report.ts";
import { type Latency, measure } from "./lib/stats.ts";

export interface SizeResult {
  backend: "pglite" | "postgres";
  rows: number;
  load: BenchData["timings"];
  rpc: Record<string, Latency & { avg_hits: number }>;
  e2e: { cold: Latency; cached: Latency };
  explain: ExplainResult;
}

const QUERIES = 50;
const WARMUP = 20;

/** RPC variants measured: the three modes, and hybrid narrowed by project and kinds. */
const VARIANTS: Record<string, (data: BenchData) => Partial<SearchRpcArgs>> = {
  hybrid: () => ({ mode: "hybrid" }),
  keyword: () => ({ mode: "keyword" }),
  semantic: () => ({ mode: "semantic" }),
  "hybrid + project + kinds": (data) => ({
    mode: "hybrid",
    project_ids: [data.projectIds[3]],
    kinds: ["bug", "decision", "solution"],
  }),
};

export async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      sizes: { type: "string", default: "10000,100000" },
      "pglite-sizes": { type: "string", default: "10000" },
      backends: { type: "string" },
      runs: { type: "string", default: "200" },
      out: { type: "string", default: "bench-results" },
      doc: { type: "string", default: "docs/benchmarks.md" },
    },
  });
  const databaseUrl = Deno.env.get("DATABASE_URL");
  const backends = (values.backends ?? (databaseUrl ? "pglite,postgres" : "pglite")).split(",");
  const runs = Number(values.runs);
  const sizes = (list: string) => list.split(",").map(Number).filter((n) => n > 0);
  const plan: [SizeResult["backend"], number][] = [];
  for (const backend of backends) {
    if (backend !== "pglite" && backend !== "postgres") {
      throw new Error(`unknown backend ${backend}`);
    }
    if (backend === "postgres" && !databaseUrl) throw new Error("postgres needs DATABASE_URL");
    const list = backend === "pglite" ? sizes(values["pglite-sizes"]) : sizes(values.sizes);
    for (const rows of list) plan.push([backend, rows]);
  }

  const results: SizeResult[] = [];
  for (const [backend, rows] of plan) {
    console.log(`\n== ${backend}, ${rows} memories`);
    results.push(await benchOne(backend, rows, runs, databaseUrl));
  }
  const env = databaseUrl ? `DATABASE_URL=${redacted(databaseUrl)} ` : "";
  const command = `${env}deno task bench search ${args.join(" ")}`.trim();
  const machine = await machineInfo(databaseUrl);
  await writeReport({ command, machine, runs, results }, values.out, values.doc);
}

async function benchOne(
  backend: SizeResult["backend"],
  rows: number,
  runs: number,
  databaseUrl: string | undefined,
): Promise<SizeResult> {
  const notices = noticeCollector();
  const scratch = backend === "postgres" ? await scratchDatabase(databaseUrl!, "bench") : null;
  const db: Database = scratch
    ? openPostgres(scratch.url, { max: 4 })
    : await openPglite(undefined, { extensions: { auto_explain }, onNotice: notices.push });
  const explainDb = scratch ? openPostgres(scratch.url, { max: 1, onNotice: notices.push }) : db;
  try {
    await migrate(db);
    const data = await loadBenchData(db, rows);
    console.log(
      `loaded in ${ms(data.timings.insert_ms)} + indexes ${ms(data.timings.index_ms)} + analyze ${
        ms(data.timings.analyze_ms)
      }`,
    );
    const queries = generateQueries(QUERIES);
    const vectors = queries.map(hashEmbed);
    const rpcArgs = (i: number, variant: Partial<SearchRpcArgs>): SearchRpcArgs => ({
      query_text: queries[i % QUERIES],
      query_embedding: vectors[i % QUERIES],
      embedding_model: data.model,
      match_count: 10,
      ...variant,
    });

    const rpc: SizeResult["rpc"] = {};
    for (const [name, variant] of Object.entries(VARIANTS)) {
      const args = variant(data);
      const call = (i: number) => asUser(db, data.userId, (tx) => searchRpc(tx, rpcArgs(i, args)));
      await measure(WARMUP, call);
      let hits = 0;
      const latency = await measure(runs, async (i) => (hits += (await call(i)).length));
      rpc[name] = { ...latency, avg_hits: Math.round((hits / runs) * 10) / 10 };
      console.log(`rpc ${name}: ${line(latency)} (avg ${rpc[name].avg_hits} hits)`);
    }

    const e2e = await endToEnd(db, data, queries, runs);
    console.log(`mcp cold: ${line(e2e.cold)}\nmcp cached: ${line(e2e.cached)}`);

    const explain = await explainSearch(
      explainDb,
      notices,
      () => asUser(explainDb, data.userId, (tx) => searchRpc(tx, rpcArgs(0, { mode: "hybrid" }))),
    );
    console.log(
      `plans: HNSW ${explain.hnsw ? "used" : "NOT used"}, GIN ${explain.gin ? "used" : "NOT used"}`,
    );
    return { backend, rows, load: data.timings, rpc, e2e, explain };
  } finally {
    if (explainDb !== db) await explainDb.close();
    await db.close();
    await scratch?.drop();
  }
}

/**
 * tools/call search_memories over HTTP against the embedded stack, as an MCP client sends it
 * (the endpoint is stateless, so no session handshake is needed per call). Cold: every request
 * distinct (query × filter), so each misses the results cache; cached: the same ones again.
 */
async function endToEnd(
  db: Database,
  data: BenchData,
  queries: string[],
  runs: number,
): Promise<SizeResult["e2e"]> {
  const config = loadConfig({
    EMBEDDING_PROVIDER: "hash",
    RATE_LIMIT_REQUESTS: "0",
    CACHE_TTL_SECONDS: "3600",
  });
  const stack = await startStack({ config, db, port: 0, hostname: "127.0.0.1" });
  try {
    const { key } = await createApiKey(db, data.userId, { name: "bench" });
    const filters = [{}, { kinds: ["bug"] }, { project: "svc-1" }, { tags: ["postgres"] }];
    const request = (i: number, limit?: number) => ({
      query: queries[i % queries.length],
      ...filters[Math.floor(i / queries.length) % filters.length],
      limit,
    });
    let id = 0;
    const call = async (i: number, expectCached: boolean, limit?: number) => {
      const res = await fetch(`${stack.url}/functions/v1/mcp`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${key}`,
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
        },
        body: JSON.stringify({
          jsonrpc: "2.0",
          id: ++id,
          method: "tools/call",
          params: { name: "search_memories", arguments: request(i, limit) },
        }),
      });
      const body = await res.json();
      const cached = body.result?.structuredContent?.cached;
      if (!res.ok || body.result?.isError || cached !== expectCached) {
        throw new Error(
          `unexpected MCP answer (${res.status}): ${JSON.stringify(body).slice(0, 300)}`,
        );
      }
    };
    const distinct = Math.min(runs, queries.length * filters.length);
    // Warm the process (JIT, connections) with requests the measured ones never repeat.
    await measure(WARMUP, (i) => call(i, false, 5));
    const cold = await measure(distinct, (i) => call(i, false));
    const cached = await measure(distinct, (i) => call(i, true));
    return { cold, cached };
  } finally {
    await stack.close();
  }
}

const ms = (x: number) => `${(x / 1000).toFixed(1)} s`;
const line = (l: Latency) => `p50 ${l.p50} ms, p95 ${l.p95} ms, p99 ${l.p99} ms`;
