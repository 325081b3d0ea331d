/**
 * Runs evaluation queries through public.search_memories as the fixture's user (RLS on), with
 * the RPC call of shared/search: the same SQL the functions run, minus caching.
 */
import type { EvalQuery } from "../../shared/eval/dataset.ts";
import { searchRpc } from "../../shared/search/rpc.ts";
import type { SearchMode } from "../../shared/search/schemas.ts";
import type { Fixture } from "./fixture.ts";
import type { Weights } from "./args.ts";
import type { Floor } from "./floor.ts";

export type Mode = SearchMode;

/** Results per query: enough for recall@10 and nDCG@10, and what MRR sees. */
export const MATCH_COUNT = 10;

/** How query text reaches websearch_to_tsquery: verbatim (every word required) or OR-ed. */
export type KeywordQuery = "as-is" | "or";

export interface SearchConfig {
  mode: Mode;
  keywordQuery: KeywordQuery;
  /** Model whose vectors are compared; null for keyword mode. */
  model: string | null;
  rrfK: number;
  weights: Weights;
  /** Exponent of the keyword side's term coverage (undefined: the RPC's default). */
  coveragePower?: number;
  /** Relevance floor; undefined = the RPC's defaults (the model's cosine floor, every term). */
  floor?: Floor;
  /** Results asked for (default MATCH_COUNT); deeper lists feed the floor calibration. */
  depth?: number;
}

/**
 * The query's words joined with websearch_to_tsquery's `or`, so a memory matching any word
 * is a keyword candidate (ts_rank_cd still prefers those matching more). A leading `-` or
 * quote is dropped: websearch would read it as negation or a phrase.
 */
export function orQuery(text: string): string {
  return text.split(/\s+/).map((word) => word.replace(/^[-"]+|"+$/g, ""))
    .filter((word) => word !== "" && word.toLowerCase() !== "or").join(" or ");
}

export interface QueryRun {
  /** Eval memory ids, best first. */
  ranking: string[];
  /** Each ranked hit's cosine similarity (null: not a semantic candidate). */
  semantic: (number | null)[];
  /** Whether each ranked hit came from the keyword side. */
  keyword: boolean[];
  ms: number;
}

/**
 * One search per query, in order (timings stay comparable). `vectors[i]` is the embedding of
 * `queries[i]` with `config.model`; unused in keyword mode.
 */
export async function runQueries(
  fixture: Fixture,
  queries: EvalQuery[],
  vectors: number[][] | null,
  config: SearchConfig,
): Promise<QueryRun[]> {
  const runs: QueryRun[] = [];
  for (const [i, q] of queries.entries()) {
    const started = performance.now();
    const hits = await fixture.service.asUser(fixture.userId, (tx) =>
      searchRpc(tx, {
        query_text: config.keywordQuery === "or" ? orQuery(q.query) : q.query,
        query_embedding: config.mode === "keyword" || !vectors ? null : vectors[i],
        match_count: config.depth ?? MATCH_COUNT,
        mode: config.mode,
        min_similarity: config.floor?.minSimilarity,
        min_keyword_coverage: config.floor?.minKeywordCoverage,
        standout_weight: config.floor?.standoutWeight,
        embedding_model: config.model,
        full_text_weight: config.weights.fullText,
        semantic_weight: config.weights.semantic,
        rrf_k: config.rrfK,
        full_text_coverage_power: config.coveragePower,
      }));
    const ms = performance.now() - started;
    runs.push({
      ranking: hits.map((h) => fixture.evalId.get(h.id) ?? `?${h.id}`),
      semantic: hits.map((h) => h.semantic_score),
      keyword: hits.map((h) => h.keyword_score !== null),
      ms,
    });
  }
  return runs;
}
