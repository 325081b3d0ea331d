/**
 * Search benchmark: `deno task bench search [--sizes 1000,10000,100000] [--pglite-sizes 1000,10000]
 * [--backends pglite,postgres] [--runs 200] [--out bench-results] [--doc docs/benchmarks.md]`.
 *
 * For each backend and size: a fresh database with generated code memories (hash-provider
 * vectors, bulk-loaded), then latency percentiles of
 *   - the RPC alone (public.search_memories as the user, in its asUser transaction), per mode;
 *   - end to end on the embedded stack, through REST (POST /functions/v1/memories/search) and
 *     MCP (HTTP tools/call search_memories), cold (results-cache misses) and cached (the same
 *     requests again);
 * plus auto_explain plans proving the HNSW and GIN indexes are used. PostgreSQL runs in a
 * scratch database `<DATABASE_URL's db>_bench` created on the same server and dropped after.
 */
import { parseArgs } from "node:util";
import { createApiKey } from "../../shared/auth/api_keys.ts";
import { asUser } from "../../shared/db/as_user.ts";
import type { Database } from "../../shared/db/types.ts";
import { hashEmbed } from "../../shared/embeddings/hash.ts";
import { searchRpc, type SearchRpcArgs } from "../../shared/search/rpc.ts";
import { memoryClient, type Transport, TRANSPORTS } from "./lib/api_client.ts";
import { type Backend, parseBackends, startBenchStack } from "./lib/bench_stack.ts";
import { generateQueries } from "./lib/code_memory_generator.ts";
import { type ExplainResult, explainSearch, openExplainableDb } from "./lib/explain.ts";
import { type BenchData, loadBenchData } from "./lib/load_memories.ts";
import { commandLine, machineInfo, writeReport } from "./lib/search_report.ts";
import { type Latency, measure } from "./lib/stats.ts";
import { searchRequests, slotOf } from "./lib/workload.ts";

export interface SizeResult {
  backend: Backend;
  rows: number;
  load: BenchData["timings"];
  rpc: Record<string, Latency & { avg_hits: number }>;
  e2e: Record<Transport, { cold: Latency; cached: Latency }>;
  explain: ExplainResult;
}

const QUERIES = 50;
const WARMUP = 20;

/**
 * RPC variants measured: the three modes, hybrid narrowed by project and kinds, and hybrid under
 * the kinds and tags filters the end-to-end requests use (they correlate with the text, so they
 * take their own paths: docs/benchmarks.md, "Filtered searches").
 */
const VARIANTS: Record<string, (data: BenchData) => Partial<SearchRpcArgs>> = {
  hybrid: () => ({ mode: "hybrid" }),
  keyword: () => ({ mode: "keyword" }),
  semantic: () => ({ mode: "semantic" }),
  "hybrid + project + kinds": (data) => ({
    mode: "hybrid",
    project_ids: [data.projectIds[3]],
    kinds: ["bug", "decision", "solution"],
  }),
  "hybrid + kind": () => ({ mode: "hybrid", kinds: ["bug"] }),
  "hybrid + two kinds": () => ({ mode: "hybrid", kinds: ["decision", "convention"] }),
  "hybrid + tag": () => ({ mode: "hybrid", tags: ["postgres"] }),
};

export async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      sizes: { type: "string", default: "1000,10000,100000" },
      "pglite-sizes": { type: "string", default: "1000,10000" },
      backends: { type: "string" },
      runs: { type: "string", default: "200" },
      out: { type: "string", default: "bench-results" },
      doc: { type: "string", default: "docs/benchmarks.md" },
    },
  });
  const databaseUrl = Deno.env.get("DATABASE_URL");
  const runs = Number(values.runs);
  const sizes = (list: string) => list.split(",").map(Number).filter((n) => n > 0);
  const plan: [Backend, number][] = [];
  for (const backend of parseBackends(values.backends, databaseUrl)) {
    const list = backend === "pglite" ? sizes(values["pglite-sizes"]) : sizes(values.sizes);
    for (const rows of list) plan.push([backend, rows]);
  }

  const results: SizeResult[] = [];
  for (const [backend, rows] of plan) {
    console.log(`\n== ${backend}, ${rows} memories`);
    results.push(await benchOne(backend, rows, runs, databaseUrl));
  }
  const command = commandLine("search", args, databaseUrl);
  const machine = await machineInfo(databaseUrl);
  await writeReport({ command, machine, runs, results }, values.out, values.doc);
}

async function benchOne(
  backend: Backend,
  rows: number,
  runs: number,
  databaseUrl: string | undefined,
): Promise<SizeResult> {
  const { db, explainDb, notices, close } = await openExplainableDb(
    backend,
    databaseUrl,
    "bench",
    4,
  );
  try {
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

    const e2e = await endToEnd(db, data, runs);
    for (const [transport, { cold, cached }] of Object.entries(e2e)) {
      console.log(`${transport} cold: ${line(cold)}\n${transport} cached: ${line(cached)}`);
    }

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
    await close();
  }
}

/**
 * Sequential searches over HTTP against the embedded stack, through each transport. Cold: every
 * request distinct (query × filter, and REST's never repeated by MCP), so each misses the
 * results cache; cached: the same ones again.
 */
async function endToEnd(db: Database, data: BenchData, runs: number): Promise<SizeResult["e2e"]> {
  const stack = await startBenchStack(db);
  try {
    const { key } = await createApiKey(db, data.userId, { name: "bench" });
    const searches = searchRequests((WARMUP + runs) * TRANSPORTS.length);
    const e2e = {} as SizeResult["e2e"];
    for (const [t, transport] of TRANSPORTS.entries()) {
      const client = memoryClient(transport, stack.url, key);
      const mine = slotOf(searches, TRANSPORTS.length, t);
      const call = async (j: number, expectCached: boolean) => {
        const result = await client.search(mine(j));
        if (result.cached !== expectCached) {
          throw new Error(`${transport}: expected cached=${expectCached}, got ${result.cached}`);
        }
      };
      // Warm the process (JIT, connections) with requests the measured ones never repeat.
      await measure(WARMUP, (j) => call(j, false));
      const cold = await measure(runs, (j) => call(WARMUP + j, false));
      const cached = await measure(runs, (j) => call(WARMUP + j, true));
      e2e[transport] = { cold, cached };
    }
    return e2e;
  } finally {
    await stack.close();
  }
}

const ms = (x: number) => `${(x / 1000).toFixed(1)} s`;
const line = (l: Latency) => `p50 ${l.p50} ms, p95 ${l.p95} ms, p99 ${l.p99} ms`;
