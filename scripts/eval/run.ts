/** The evaluation pipeline behind `deno task eval`: set → database → searches → summaries. */
import { migrate } from "../../shared/db/migrate.ts";
import { openPglite } from "../local/pglite.ts";
import { openPostgres } from "../../shared/db/postgres.ts";
import type { Database } from "../../shared/db/types.ts";
import { createEmbeddingProvider } from "../../shared/embeddings/index.ts";
import { LOCAL_PROVIDERS } from "../local/embeddings/index.ts";
import type { EmbeddingProvider, ProviderName } from "../../shared/embeddings/types.ts";
import { MiniLMEmbeddingProvider } from "../local/embeddings/minilm.ts";
import { type EvalSet, loadEvalSet, QUERY_TYPES } from "../../shared/eval/dataset.ts";
import { DEFAULT_RRF_K, DEFAULT_WEIGHTS, type EvalArgs } from "./args.ts";
import {
  addCoverage,
  dropFixture,
  embedFixture,
  type Fixture,
  lexicalOverlap,
  loadFixture,
} from "./fixture.ts";
import { type IngestStats, ingestThroughApi } from "./ingest_api.ts";
import { calibrateFloor, type DeepRun, type FloorCalibration } from "./floor.ts";
import { type RunSummary, summarise } from "./report.ts";
import { type KeywordQuery, MATCH_COUNT, runQueries, type SearchConfig } from "./search.ts";

export interface EvalResult {
  started_at: string;
  duration_s: number;
  command: string;
  machine: { cpus: number; os: string; deno: string };
  backend: Database["kind"];
  data: {
    dir: string;
    memories: number;
    queries: number;
    by_type: Record<string, number>;
    /** Mean share of a query's stemmed words found in its answer, per query type. */
    lexical_overlap: Record<string, number>;
  };
  match_count: number;
  providers: {
    name: string;
    model: string;
    embed_s: number;
    /** One query at a time, as a search embeds it (no cache). */
    query_embedding_ms: { p50: number; p95: number };
  }[];
  skipped_providers: { name: string; reason: string }[];
  /** keyword once, then semantic and hybrid (defaults) per provider. */
  runs: RunSummary[];
  /** Hybrid runs of the --rrf-k × --weights sweep (empty without those flags). */
  sweep: RunSummary[];
  /** --ingest api: how long the bulk import and the embedding of everything took. */
  ingest: IngestStats | null;
  /** Relevance-floor calibration per provider (--floor-sweep). */
  floors: ({ provider: string; model: string; runs: DeepRun[] } & FloorCalibration)[];
}

/** Every hit either side found, as before the floor existed. */
const NO_FLOOR = { minSimilarity: 0, minKeywordCoverage: 0, standoutWeight: 0 };

export type Log = (line: string) => void;

/** Providers to evaluate: the requested ones, else every one that works offline here. */
export async function chooseProviders(
  requested: ProviderName[] | undefined,
  log: Log,
  skipped: EvalResult["skipped_providers"],
): Promise<EmbeddingProvider[]> {
  const env = Deno.env.toObject();
  const openaiConfigured = Boolean(env.OPENAI_API_KEY || env.OPENAI_BASE_URL);
  const names: ProviderName[] = requested ??
    ["hash", "local", ...(openaiConfigured ? ["openai" as const] : [])];
  if (!requested && !openaiConfigured) {
    skipped.push({ name: "openai", reason: "OPENAI_API_KEY / OPENAI_BASE_URL not set" });
  }
  const providers: EmbeddingProvider[] = [];
  for (const name of names) {
    if (name === "local") {
      const local = new MiniLMEmbeddingProvider();
      try {
        await local.ready();
      } catch (err) {
        if (requested) throw err;
        const reason = `model did not load: ${(err as Error).message}`;
        log(`skipping local: ${reason}`);
        skipped.push({ name, reason });
        continue;
      }
      providers.push(local);
      continue;
    }
    providers.push(createEmbeddingProvider({
      provider: name,
      openai: {
        apiKey: env.OPENAI_API_KEY,
        baseURL: env.OPENAI_BASE_URL,
        model: env.EMBEDDING_MODEL,
      },
    }, LOCAL_PROVIDERS));
  }
  return providers;
}

/** Latency of embedding one query text, as search does on a cache miss. */
async function queryEmbeddingMs(provider: EmbeddingProvider, texts: string[]) {
  const ms: number[] = [];
  for (const text of texts) {
    const t0 = performance.now();
    await provider.embed([text]);
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  const at = (q: number) => ms[Math.min(ms.length - 1, Math.floor(ms.length * q))] ?? 0;
  return { p50: at(0.5), p95: at(0.95) };
}

async function openDb(pg: boolean): Promise<Database> {
  if (!pg) return await openPglite();
  const url = Deno.env.get("DATABASE_URL");
  if (!url) throw new Error("--pg needs DATABASE_URL");
  return openPostgres(url, { max: 2 });
}

export async function runEval(
  args: EvalArgs,
  log: Log = (line) => console.error(line),
): Promise<EvalResult> {
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const set: EvalSet = await loadEvalSet(args.data);
  const { memories, queries } = set;
  log(`loaded ${memories.length} memories, ${queries.length} queries from ${args.data}`);
  const skipped: EvalResult["skipped_providers"] = [];
  const providers = await chooseProviders(args.providers, log, skipped);

  const db = await openDb(args.pg);
  let fixture: Fixture | undefined;
  let ingest: IngestStats | null = null;
  try {
    await migrate(db);
    if (args.ingest === "api") {
      const loaded = await ingestThroughApi(db, memories);
      fixture = loaded.fixture;
      ingest = loaded.stats;
      log(`ingest: ${JSON.stringify(ingest)}`);
    } else {
      fixture = await loadFixture(db, memories);
    }
    log(`saved ${fixture.rowId.size} memories as one user (${db.kind})`);
    const overlap = await lexicalOverlap(db, fixture, queries);

    const base = { rrfK: DEFAULT_RRF_K, weights: DEFAULT_WEIGHTS };
    const variants: KeywordQuery[] = args.keywordOr ? ["as-is", "or"] : ["as-is"];
    const run = async (
      config: SearchConfig,
      provider: string | null,
      vectors: number[][] | null,
      keepPerQuery: boolean,
    ) =>
      summarise(
        config,
        provider,
        queries,
        await runQueries(fixture!, queries, vectors, config),
        keepPerQuery,
      );

    const runs: RunSummary[] = [];
    for (const keywordQuery of variants) {
      runs.push(
        await run({ mode: "keyword", keywordQuery, model: null, ...base }, null, null, true),
      );
    }
    const sweep: RunSummary[] = [];
    const floors: EvalResult["floors"] = [];
    const providerInfo: EvalResult["providers"] = [];
    for (const provider of providers) {
      const t0 = performance.now();
      // Through the API the stack's pipeline has embedded them with its model already.
      if (ingest?.model !== provider.model) await embedFixture(db, fixture, provider, args.chunks);
      const vectors = await provider.embed(queries.map((q) => q.query));
      const embedS = (performance.now() - t0) / 1000;
      const queryMs = await queryEmbeddingMs(provider, queries.slice(0, 50).map((q) => q.query));
      providerInfo.push({
        name: provider.name,
        model: provider.model,
        embed_s: embedS,
        query_embedding_ms: queryMs,
      });
      log(`${provider.name}: embedded memories and queries in ${embedS.toFixed(1)} s`);
      const model = provider.model;
      runs.push(
        await run(
          { mode: "semantic", keywordQuery: "as-is", model, ...base },
          provider.name,
          vectors,
          true,
        ),
      );
      for (const keywordQuery of variants) {
        const config = { mode: "hybrid" as const, keywordQuery, model, ...base };
        runs.push(await run(config, provider.name, vectors, true));
      }
      runs.push(
        await run(
          { mode: "hybrid", keywordQuery: "as-is", model, ...base, floor: NO_FLOOR },
          provider.name,
          vectors,
          true,
        ),
      );
      if (args.floorSweep) {
        const config = {
          mode: "hybrid" as const,
          keywordQuery: "as-is" as const,
          model,
          ...base,
          floor: NO_FLOOR,
          depth: 30,
        };
        const deep = await runQueries(fixture, queries, vectors, config);
        const withCoverage = await addCoverage(db, fixture, queries, deep);
        const calibration = calibrateFloor(queries, withCoverage);
        floors.push({ provider: provider.name, model, ...calibration, runs: withCoverage });
        log(`${provider.name}: floor ${JSON.stringify(calibration.chosen)}`);
      }
      if (!args.sweep) continue;
      for (const keywordQuery of variants) {
        for (const rrfK of args.rrfKs) {
          for (const weights of args.weights) {
            for (const coveragePower of args.coveragePowers) {
              // The floor only removes hits: ranking is compared without it.
              const config = {
                mode: "hybrid" as const,
                keywordQuery,
                model,
                rrfK,
                weights,
                floor: NO_FLOOR,
                coveragePower,
              };
              sweep.push(await run(config, provider.name, vectors, false));
            }
          }
        }
      }
      log(`${provider.name}: swept ${sweep.length} hybrid settings so far`);
    }

    const byType: Record<string, number> = {};
    const overlapByType: Record<string, number> = {};
    for (const type of QUERY_TYPES) {
      const of = overlap.filter((_, i) => queries[i].type === type);
      if (of.length) byType[type] = of.length;
      if (of.length) overlapByType[type] = of.reduce((a, b) => a + b, 0) / of.length;
    }
    return {
      started_at: startedAt,
      duration_s: (performance.now() - started) / 1000,
      command: ["deno", "task", "eval", ...Deno.args].join(" "),
      machine: {
        cpus: navigator.hardwareConcurrency,
        os: `${Deno.build.os}-${Deno.build.arch}`,
        deno: Deno.version.deno,
      },
      backend: db.kind,
      data: {
        dir: args.data,
        memories: memories.length,
        queries: queries.length,
        by_type: byType,
        lexical_overlap: overlapByType,
      },
      match_count: MATCH_COUNT,
      providers: providerInfo,
      skipped_providers: skipped,
      runs,
      sweep,
      floors,
      ingest,
    };
  } finally {
    if (fixture && db.kind === "postgres") await dropFixture(db, fixture);
    await db.close();
  }
}
