/** Turns per-query rankings into metric summaries and plain-text tables. */
import type { EvalQuery, QueryType } from "../../shared/eval/dataset.ts";
import { QUERY_TYPES } from "../../shared/eval/dataset.ts";
import {
  meanMetrics,
  METRIC_NAMES,
  type QueryMetrics,
  scoreQuery,
} from "../../shared/eval/metrics.ts";
import { textTable } from "../lib/tables.ts";
import type { QueryRun, SearchConfig } from "./search.ts";

export interface RunSummary {
  mode: SearchConfig["mode"];
  keyword_query: SearchConfig["keywordQuery"];
  /** Embedding provider; null for keyword mode, which uses none. */
  provider: string | null;
  model: string | null;
  rrf_k: number;
  full_text_weight: number;
  semantic_weight: number;
  queries: number;
  metrics: QueryMetrics;
  by_type: Partial<Record<QueryType, QueryMetrics & { queries: number }>>;
  latency_ms: { mean: number; p95: number };
  per_query?: { id: string; type: QueryType; ranking: string[]; metrics: QueryMetrics }[];
}

export function summarise(
  config: SearchConfig,
  provider: string | null,
  queries: EvalQuery[],
  runs: QueryRun[],
  keepPerQuery: boolean,
): RunSummary {
  const scored = queries.map((q, i) => ({
    id: q.id,
    type: q.type,
    ranking: runs[i].ranking,
    metrics: scoreQuery(runs[i].ranking, q.relevant),
  }));
  const byType: RunSummary["by_type"] = {};
  for (const type of QUERY_TYPES) {
    const rows = scored.filter((s) => s.type === type).map((s) => s.metrics);
    if (rows.length) byType[type] = { ...meanMetrics(rows), queries: rows.length };
  }
  const ms = runs.map((r) => r.ms).sort((a, b) => a - b);
  return {
    mode: config.mode,
    keyword_query: config.keywordQuery,
    provider,
    model: config.model,
    rrf_k: config.rrfK,
    full_text_weight: config.weights.fullText,
    semantic_weight: config.weights.semantic,
    queries: queries.length,
    metrics: meanMetrics(scored.map((s) => s.metrics)),
    by_type: byType,
    latency_ms: {
      mean: ms.reduce((a, b) => a + b, 0) / Math.max(ms.length, 1),
      p95: ms[Math.min(ms.length - 1, Math.floor(ms.length * 0.95))] ?? 0,
    },
    ...(keepPerQuery ? { per_query: scored } : {}),
  };
}

const HEADERS = ["R@5", "R@10", "MRR", "nDCG@10"];
const fmt = (m: QueryMetrics) => METRIC_NAMES.map((name) => m[name].toFixed(3));

/** E.g. "hybrid / local", "keyword (or)". */
const label = (s: RunSummary) =>
  `${s.mode}${s.provider ? ` / ${s.provider}` : ""}${s.keyword_query === "or" ? " (or)" : ""}`;

export function mainTable(summaries: RunSummary[]): string {
  return textTable(
    ["mode / provider", "queries", ...HEADERS, "ms/query"],
    summaries.map((s) => [
      label(s),
      String(s.queries),
      ...fmt(s.metrics),
      s.latency_ms.mean.toFixed(1),
    ]),
  );
}

export function typeTable(summaries: RunSummary[]): string {
  const rows: string[][] = [];
  for (const type of QUERY_TYPES) {
    for (const s of summaries) {
      const m = s.by_type[type];
      if (m) rows.push([`${type}: ${label(s)}`, String(m.queries), ...fmt(m)]);
    }
  }
  return textTable(["query type: mode / provider", "queries", ...HEADERS], rows);
}

export function sweepTable(summaries: RunSummary[]): string {
  return textTable(
    ["provider", "rrf_k", "ft:sem", ...HEADERS],
    summaries.map((s) => [
      `${s.provider ?? "-"}${s.keyword_query === "or" ? " (or)" : ""}`,
      String(s.rrf_k),
      `${s.full_text_weight}:${s.semantic_weight}`,
      ...fmt(s.metrics),
    ]),
  );
}
