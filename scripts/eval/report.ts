/** Turns per-query rankings into metric summaries and plain-text tables. */
import type { EvalQuery, QueryType } from "../../shared/eval/dataset.ts";
import { ANSWERABLE_TYPES } from "../../shared/eval/dataset.ts";
import {
  meanMetrics,
  METRIC_NAMES,
  type QueryMetrics,
  scoreQuery,
} from "../../shared/eval/metrics.ts";
import { textTable } from "../lib/tables.ts";
import type { QueryRun, SearchConfig } from "./search.ts";
import type { EvalResult } from "./run.ts";
import { halves } from "./floor.ts";

export interface RunSummary {
  mode: SearchConfig["mode"];
  keyword_query: SearchConfig["keywordQuery"];
  /** Embedding provider; null for keyword mode, which uses none. */
  provider: string | null;
  model: string | null;
  rrf_k: number;
  /** The relevance floor used; null = the RPC's defaults. */
  floor: SearchConfig["floor"] | null;
  full_text_weight: number;
  semantic_weight: number;
  full_text_coverage_power: number | null;
  /** Answerable queries; `metrics` averages over them. */
  queries: number;
  metrics: QueryMetrics;
  /** nDCG@10 over the answerable queries of each half (scripts/eval/floor.ts, `halves`). */
  ndcg_by_half: { calibration: number; check: number };
  /** Queries without any relevant memory, and the share of them that returned something. */
  no_answer: { queries: number; returned_any: number };
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
  for (const type of ANSWERABLE_TYPES) {
    const rows = scored.filter((s) => s.type === type).map((s) => s.metrics);
    if (rows.length) byType[type] = { ...meanMetrics(rows), queries: rows.length };
  }
  const answerable = scored.filter((s) => s.type !== "none");
  const half = halves(queries);
  const halfNdcg = (h: string) =>
    meanMetrics(scored.filter((s, i) => s.type !== "none" && half[i] === h).map((s) => s.metrics))
      .ndcg10;
  const unanswerable = scored.filter((s) => s.type === "none");
  const ms = runs.map((r) => r.ms).sort((a, b) => a - b);
  return {
    mode: config.mode,
    keyword_query: config.keywordQuery,
    provider,
    model: config.model,
    rrf_k: config.rrfK,
    floor: config.floor ?? null,
    full_text_weight: config.weights.fullText,
    semantic_weight: config.weights.semantic,
    full_text_coverage_power: config.coveragePower ?? null,
    queries: answerable.length,
    metrics: meanMetrics(answerable.map((s) => s.metrics)),
    ndcg_by_half: { calibration: halfNdcg("calibration"), check: halfNdcg("check") },
    no_answer: {
      queries: unanswerable.length,
      returned_any: unanswerable.filter((s) => s.ranking.length > 0).length /
        Math.max(unanswerable.length, 1),
    },
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
  `${s.mode}${s.provider ? ` / ${s.provider}` : ""}${s.keyword_query === "or" ? " (or)" : ""}${
    s.floor ? ` (floor ${s.floor.minSimilarity}/${s.floor.minKeywordCoverage})` : ""
  }`;

export function mainTable(summaries: RunSummary[]): string {
  return textTable(
    ["mode / provider", "queries", ...HEADERS, "no-answer returned", "ms/query"],
    summaries.map((s) => [
      label(s),
      String(s.queries),
      ...fmt(s.metrics),
      s.no_answer.queries ? s.no_answer.returned_any.toFixed(3) : "-",
      s.latency_ms.mean.toFixed(1),
    ]),
  );
}

export function typeTable(summaries: RunSummary[]): string {
  const rows: string[][] = [];
  for (const type of ANSWERABLE_TYPES) {
    for (const s of summaries) {
      const m = s.by_type[type];
      if (m) rows.push([`${type}: ${label(s)}`, String(m.queries), ...fmt(m)]);
    }
  }
  return textTable(["query type: mode / provider", "queries", ...HEADERS], rows);
}

export function sweepTable(summaries: RunSummary[]): string {
  return textTable(
    ["provider", "rrf_k", "ft:sem", "cov^", ...HEADERS, "calib.", "check", ...ANSWERABLE_TYPES],
    summaries.map((s) => [
      `${s.provider ?? "-"}${s.keyword_query === "or" ? " (or)" : ""}`,
      String(s.rrf_k),
      `${s.full_text_weight}:${s.semantic_weight}`,
      String(s.full_text_coverage_power ?? "-"),
      ...fmt(s.metrics),
      s.ndcg_by_half.calibration.toFixed(3),
      s.ndcg_by_half.check.toFixed(3),
      ...ANSWERABLE_TYPES.map((t) => s.by_type[t]?.ndcg10.toFixed(3) ?? "-"),
    ]),
  );
}

export function floorTable(floors: EvalResult["floors"]): string {
  const rows: string[][] = [];
  for (const f of floors) {
    for (const [rule, list] of [["chosen", f.results], ["best J", f.unconstrained]] as const) {
      for (const r of list) {
        rows.push([
          `${f.provider} (${rule})`,
          r.half,
          `${r.minSimilarity} / ${r.minKeywordCoverage} / ${r.standoutWeight}`,
          r.answer_kept.toFixed(3),
          r.none_returned.toFixed(3),
          r.youden_j.toFixed(3),
          r.ndcg10.toFixed(3),
        ]);
      }
    }
  }
  return textTable(
    [
      "provider",
      "queries",
      "floor / coverage / standout",
      "answer kept",
      "none returned",
      "J",
      "nDCG@10",
    ],
    rows,
  );
}

/** nDCG@10 (floor, answers kept) per standout weight and no-answer level. */
export function tradeoffTable(floors: EvalResult["floors"]): string {
  const rows: string[][] = [];
  for (const f of floors) {
    const weights = [...new Set(f.tradeoff.map((p) => p.standoutWeight))];
    for (const w of weights) {
      rows.push([
        `${f.provider}, standout ${w}`,
        ...f.tradeoff.filter((p) => p.standoutWeight === w).map((p) =>
          p.best
            ? `${p.best.ndcg10.toFixed(3)} (${p.best.minSimilarity}, ${
              p.best.answer_kept.toFixed(2)
            })`
            : "-"
        ),
      ]);
    }
  }
  const levels = floors[0]?.tradeoff.filter((p) => p.standoutWeight === 0).map((p) => p.level) ??
    [];
  return textTable(["provider", ...levels.map((l) => `none <= ${l}`)], rows);
}
