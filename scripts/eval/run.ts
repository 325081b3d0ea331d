/** The evaluation pipeline behind `deno task eval`: set → database → searches → summaries. */
import { migrate } from "../../shared/db/migrate.ts";
import { openPglite } from "../local/pglite.ts";
import { openPostgres } from "../../shared/db/postgres.ts";
import type { Database } from "../../shared/db/types.ts";
import { createEmbeddingProvider } from "../../shared/embeddings/index.ts";
import { LOCAL_PROVIDERS } from "../local/embeddings/index.ts";
import { loadUseLite } from "../local/embeddings/use_lite.ts";
import type { EmbeddingProvider, ProviderName } from "../../shared/embeddings/types.ts";
import { type EvalSet, loadEvalSet, QUERY_TYPES } from "../../shared/eval/dataset.ts";
import { DEFAULT_RRF_K, DEFAULT_WEIGHTS, type EvalArgs } from "./args.ts";
import { dropFixture, embedFixture, type Fixture, lexicalOverlap, loadFixture } from "./fixture.ts";
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
  providers: { name: string; model: string; embed_s: number }[];
  skipped_providers: { name: string; reason: string }[];
  /** keyword once, then semantic and hybrid (defaults) per provider. */
  runs: RunSummary[];
  /** Hybrid runs of the --rrf-k × --weights sweep (empty without those flags). */
  sweep: RunSummary[];
}

type Log = (line: string) => void;

/** Providers to evaluate: the requested ones, else every one that works offline here. */
async function chooseProviders(
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
      try {
        await loadUseLite();
      } catch (err) {
        if (requested) throw err;
        const reason = `model did not load: ${(err as Error).message}`;
        log(`skipping local: ${reason}`);
        skipped.push({ name, reason });
        continue;
      }
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
  try {
    await migrate(db);
    fixture = await loadFixture(db, memories);
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
    const providerInfo: EvalResult["providers"] = [];
    for (const provider of providers) {
      const t0 = performance.now();
      await embedFixture(db, fixture, provider);
      const vectors = await provider.embed(queries.map((q) => q.query));
      const embedS = (performance.now() - t0) / 1000;
      providerInfo.push({ name: provider.name, model: provider.model, embed_s: embedS });
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
      if (!args.sweep) continue;
      for (const keywordQuery of variants) {
        for (const rrfK of args.rrfKs) {
          for (const weights of args.weights) {
            const config = { mode: "hybrid" as const, keywordQuery, model, rrfK, weights };
            sweep.push(await run(config, provider.name, vectors, false));
          }
        }
      }
      log(`${provider.name}: swept ${sweep.length} hybrid settings so far`);
    }

    const byType: Record<string, number> = {};
    const overlapByType: Record<string, number> = {};
    for (const type of QUERY_TYPES) {
      const of = overlap.filter((_, i) => queries[i].type === type);
      byType[type] = of.length;
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
    };
  } finally {
    if (fixture && db.kind === "postgres") await dropFixture(db, fixture);
    await db.close();
  }
}
