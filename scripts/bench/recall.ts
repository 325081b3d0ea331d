/**
 * Recall benchmark: `deno task bench recall [--sizes 10000,100000] [--pglite-sizes 10000]
 * [--local-size 2000] [--backends pglite,postgres] [--queries 100] [--ef 10,20,40,80,100,200,400]
 * [--grid 8:32,16:64,16:200,24:200] [--grid-ef N] [--out bench-results]
 * [--doc docs/benchmarks.md]`, or `--report bench-results/recall-….json` to rewrite the doc
 * section from saved figures.
 *
 * For each backend and size, on the search benchmark's generated memories (same seed, hash
 * vectors; plus a small set embedded with the offline semantic model, `--local-size`):
 *   - exact top 10 by cosine distance (no index: sequential scan + sort; plans checked) and its
 *     latency, per path (bare index query; search_memories semantic as the user; the same
 *     narrowed to one project);
 *   - per ef_search: HNSW recall@10 against it, latency and speedup, per path;
 *   - keyword-only search: latency, and how much of the exact semantic top 10 it finds;
 *   - per m:ef_construction: index build time and size, recall and latency at one ef_search.
 */
import { parseArgs } from "node:util";
import { HashEmbeddingProvider } from "../../shared/embeddings/hash.ts";
import type { EmbeddingProvider } from "../../shared/embeddings/types.ts";
import { MiniLMEmbeddingProvider } from "../local/embeddings/minilm.ts";
import { generateQueries } from "./lib/code_memory_generator.ts";
import { parseBackends } from "./lib/bench_stack.ts";
import { explainSearch, openExplainableDb } from "./lib/explain.ts";
import { loadBenchData } from "./lib/load_memories.ts";
import { hnswSettings, rebuildHnswIndex, setSearchEfSearch } from "./lib/recall_index.ts";
import {
  type Access,
  explainIndexPath,
  keywordTop,
  nearest,
  type Neighbour,
  overlapAtK,
  type PathName,
  PATHS,
  planAccess,
  type Query,
  recallAtK,
} from "./lib/recall_paths.ts";
import {
  printRun,
  type RecallReport,
  type RecallRun,
  type Sweep,
  updateRecallDoc,
  writeRecallReport,
} from "./lib/recall_report.ts";
import { redacted } from "./lib/scratch_db.ts";
import { machineInfo } from "./lib/search_report.ts";
import { type Latency, measure } from "./lib/stats.ts";

const WARMUP = 10;

interface Plan {
  backend: RecallRun["backend"];
  rows: number;
  provider: EmbeddingProvider;
}

export async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      sizes: { type: "string", default: "10000,100000" },
      "pglite-sizes": { type: "string", default: "10000" },
      "local-size": { type: "string", default: "2000" },
      backends: { type: "string" },
      queries: { type: "string", default: "100" },
      ef: { type: "string", default: "10,20,40,80,100,200,400" },
      grid: { type: "string", default: "8:32,16:64,16:200,24:200" },
      "grid-ef": { type: "string" },
      out: { type: "string", default: "bench-results" },
      doc: { type: "string", default: "docs/benchmarks.md" },
      report: { type: "string" },
    },
  });
  if (values.report) {
    // Re-renders the doc section from saved figures (e.g. after rewording it), measuring nothing.
    const saved = JSON.parse(await Deno.readTextFile(values.report)) as RecallReport;
    return await updateRecallDoc(saved, values.report, values.doc);
  }
  const databaseUrl = Deno.env.get("DATABASE_URL");
  const backends = parseBackends(values.backends, databaseUrl);
  const numbers = (list: string) => list.split(",").map(Number).filter((n) => n > 0);
  const efs = numbers(values.ef);
  const grid = values.grid.split(",").filter(Boolean).map((cell) => {
    const [m, efc] = cell.split(":").map(Number);
    if (!(m > 1 && efc > 0)) throw new Error(`bad --grid cell ${cell} (want m:ef_construction)`);
    return { m, ef_construction: efc };
  });
  const gridEf = values["grid-ef"] ? Number(values["grid-ef"]) : undefined;
  const queryCount = Number(values.queries);
  const localSize = Number(values["local-size"]);

  const hash = new HashEmbeddingProvider();
  // One model, its vectors computed once for every backend.
  const local = memoized(new MiniLMEmbeddingProvider());
  const plan: Plan[] = [];
  for (const backend of backends) {
    const sizes = numbers(backend === "pglite" ? values["pglite-sizes"] : values.sizes);
    for (const rows of sizes) plan.push({ backend, rows, provider: hash });
    if (localSize > 0) plan.push({ backend, rows: localSize, provider: local });
  }

  const texts = generateQueries(queryCount);
  const runs: RecallRun[] = [];
  for (const p of plan) {
    console.log(`\n== ${p.backend}, ${p.rows} memories, ${p.provider.model} vectors`);
    const vectors = await p.provider.embed(texts);
    const queries = texts.map((text, i) => ({ text, vector: vectors[i] }));
    const run = await benchOne(p, queries, efs, grid, gridEf, databaseUrl);
    printRun(run);
    runs.push(run);
  }
  const env = databaseUrl ? `DATABASE_URL=${redacted(databaseUrl)} ` : "";
  const command = `${env}deno task bench recall ${args.join(" ")}`.trim();
  const machine = await machineInfo(databaseUrl);
  await writeRecallReport({ command, machine, queries: queryCount, runs }, values.out, values.doc);
}

async function benchOne(
  { backend, rows, provider }: Plan,
  queries: Query[],
  efs: number[],
  grid: { m: number; ef_construction: number }[],
  gridEf: number | undefined,
  databaseUrl: string | undefined,
): Promise<RecallRun> {
  const { db, explainDb, notices, close } = await openExplainableDb(
    backend,
    databaseUrl,
    "recall",
    2,
  );
  try {
    const data = await loadBenchData(db, rows, undefined, provider);
    const settings = await hnswSettings(db);
    console.log(
      `loaded in ${seconds(data.timings.insert_ms)} + index ${seconds(data.timings.index_ms)}; ` +
        `index m=${settings.m} ef_construction=${settings.ef_construction}, ` +
        `search ef_search=${settings.ef_search} iterative_scan=${settings.iterative_scan}`,
    );
    const defaultAccess: Access = { exact: false, efSearch: settings.ef_search };

    /** How the planner serves `path` (for query 0): HNSW, or an exact scan + sort. */
    const planOf = async (path: PathName, access: Access) => {
      if (path === "index") return planAccess(await explainIndexPath(db, queries[0], access));
      const result = await explainSearch(
        explainDb,
        notices,
        () => nearest(explainDb, data, path, queries[0], access),
      );
      // Only the nearest-neighbour statement inside private.semantic_matches() (its dynamic
      // SQL names the query vector $1).
      return planAccess(
        result.plans.filter((p) => /<=>\) (query_embedding|\$1)/.test(p)).join("\n"),
      );
    };
    const plans = {} as RecallRun["plans"];
    for (const path of PATHS) {
      plans[path] = {
        exact: await planOf(path, { exact: true }),
        hnsw: await planOf(path, defaultAccess),
      };
      if (!plans[path].exact.endsWith("+ sort")) {
        throw new Error(`the exact ${path} path is not an exact scan: ${plans[path].exact}`);
      }
      console.log(`plans, ${path}: exact ${plans[path].exact}, default ${plans[path].hnsw}`);
    }

    // Ground truth, per path.
    const exact = {} as RecallRun["exact"];
    const truth = {} as Record<PathName, Neighbour[][]>;
    for (const path of PATHS) {
      const measured = await timed(queries, (q) => nearest(db, data, path, q, { exact: true }));
      exact[path] = measured.latency;
      truth[path] = measured.results;
    }

    /** recall@10 and latency of every path with the index at `efSearch`. */
    const sweep = async (efSearch: number, paths: PathName[] = PATHS): Promise<Sweep> => {
      await setSearchEfSearch(db, efSearch);
      const result: Sweep = { ef_search: efSearch, paths: {} };
      for (const path of paths) {
        const access: Access = { exact: false, efSearch };
        const { latency, results } = await timed(
          queries,
          (q) => nearest(db, data, path, q, access),
        );
        const recall = mean(results.map((r, i) => recallAtK(truth[path][i], r)));
        const plan = await planOf(path, access);
        result.paths[path] = { recall, latency, speedup: exact[path].p50 / latency.p50, plan };
      }
      return result;
    };
    const efSweep: Sweep[] = [];
    for (const ef of efs) efSweep.push(await sweep(ef));
    await setSearchEfSearch(db, settings.ef_search);

    const kw = await timed(queries, (q) => keywordTop(db, data, q));
    const overlaps = kw.results.map((ids, i) => overlapAtK(truth.search[i], ids));
    const keyword: RecallRun["keyword"] = {
      latency: kw.latency,
      overlap: mean(overlaps),
      no_overlap: overlaps.filter((o) => o === 0).length / overlaps.length,
      avg_hits: mean(kw.results.map((ids) => ids.length)),
    };

    const buildGrid: RecallRun["grid"] = [];
    for (const { m, ef_construction } of grid) {
      const build = await rebuildHnswIndex(db, m, ef_construction);
      const measured = await sweep(gridEf ?? settings.ef_search, ["index", "search"]);
      buildGrid.push({ m, ef_construction, ...build, ...measured });
      console.log(
        `grid m=${m} ef_construction=${ef_construction}: built in ${seconds(build.build_ms)}, ` +
          `${(build.size_bytes / 2 ** 20).toFixed(1)} MB, recall index ${
            measured.paths.index!.recall.toFixed(3)
          } search ${measured.paths.search!.recall.toFixed(3)}`,
      );
    }

    return {
      backend,
      rows,
      model: data.model,
      load: data.timings,
      settings,
      plans,
      exact,
      ef: efSweep,
      keyword,
      grid: buildGrid,
    };
  } finally {
    await close();
  }
}

/** Every query once after a short warm-up: latency and each query's result. */
async function timed<T>(
  queries: Query[],
  fn: (q: Query) => Promise<T>,
): Promise<{ latency: Latency; results: T[] }> {
  await measure(Math.min(WARMUP, queries.length), (i) => fn(queries[i]));
  const results: T[] = [];
  const latency = await measure(queries.length, async (i) => (results[i] = await fn(queries[i])));
  return { latency, results };
}

/** The provider with each text's vector kept, so every backend reuses the slow model's output. */
function memoized(provider: EmbeddingProvider): EmbeddingProvider {
  const cache = new Map<string, number[]>();
  return {
    name: provider.name,
    model: provider.model,
    semantic: provider.semantic,
    async embed(texts) {
      const todo = [...new Set(texts.filter((t) => !cache.has(t)))];
      const vectors = await provider.embed(todo);
      todo.forEach((t, i) => cache.set(t, vectors[i]));
      return texts.map((t) => cache.get(t)!);
    },
  };
}

const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / Math.max(xs.length, 1);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
