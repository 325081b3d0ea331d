/**
 * Relevance-floor calibration (`deno task eval --floor-sweep`). Hybrid search runs once per
 * query with the floor off and a deep list (30); every (standout weight, cosine floor,
 * term-coverage floor) triple is then applied to those lists offline, as the RPC would (a hit
 * stays when its cosine plus standout weight × the query's standout is at least the floor or, for
 * a keyword hit, its share of the query's terms is), and cut to the top 10. The standout is how
 * far the query's nearest memory stands above the query's background: top-1 cosine minus the
 * mean cosine of semantic ranks 2–10 (private.semantic_standout).
 *
 * Choice rule: on the calibration half (queries at even positions within each type), among the
 * floors that keep at least MIN_ANSWER_KEPT of the answers search found without a floor, take the
 * one with the best Youden's J = share of answers kept − share of no-answer queries that return
 * anything (ties: higher nDCG@10). A missed memory costs an agent more than a weak extra hit it
 * can ignore, so the floor may cost at most 3% of the answers (what the plain cosine floor of
 * 20261204000200 cost); within that budget it removes as much noise as it can. The other half only reports how the choice generalises; the best J
 * without the budget is reported too, to show the trade-off.
 */
import type { EvalQuery } from "../../shared/eval/dataset.ts";
import { meanMetrics, scoreQuery } from "../../shared/eval/metrics.ts";
import type { QueryRun } from "./search.ts";

export interface Floor {
  minSimilarity: number;
  minKeywordCoverage: number;
  /** Weight of the query's standout added to each hit's cosine (0: a plain cosine floor). */
  standoutWeight: number;
}

/** A floor-off run of one query with each hit's term coverage (null: not a keyword hit). */
export interface DeepRun extends QueryRun {
  coverage: (number | null)[];
}

export interface FloorScore extends Floor {
  half: "calibration" | "check" | "all";
  /** Answerable queries whose grade-2 answer, in the floor-off top 10, is still there. */
  answer_kept: number;
  /** Share of no-answer queries returning at least one hit. */
  none_returned: number;
  youden_j: number;
  ndcg10: number;
}

/** The answer-loss budget of the choice rule (see above). */
export const MIN_ANSWER_KEPT = 0.97;

export const SIMILARITY_GRID = Array.from({ length: 46 }, (_, i) => Math.round(i * 2) / 100);
export const COVERAGE_GRID = [0, 0.5, 0.67, 0.75, 1];
export const STANDOUT_GRID = [0, 0.5, 1, 2];

/**
 * Top-1 cosine minus the mean of ranks 2–10 of the semantic side (0 with fewer than two
 * candidates), as private.semantic_standout computes it; the deep fused list holds every
 * semantic top-10 hit (at weights 1:5 any of them outscores every keyword-only hit past rank 3).
 */
export function standout(run: QueryRun): number {
  const sims = run.semantic.filter((s): s is number => s !== null).sort((a, b) => b - a);
  const rest = sims.slice(1, 10);
  if (rest.length === 0) return 0;
  return sims[0] - rest.reduce((a, b) => a + b, 0) / rest.length;
}

/** The top 10 a floor leaves. */
export function applyFloor(run: DeepRun, floor: Floor, k = 10): string[] {
  const lift = floor.standoutWeight * standout(run);
  return run.ranking.filter((_, i) =>
    (run.semantic[i] !== null && run.semantic[i]! + lift >= floor.minSimilarity) ||
    (run.keyword[i] && (floor.minKeywordCoverage <= 0 ||
      (run.coverage[i] ?? 0) >= floor.minKeywordCoverage))
  ).slice(0, k);
}

const hasAnswer = (ranking: string[], q: EvalQuery) =>
  ranking.slice(0, 10).some((id) => (q.relevant[id] ?? 0) >= 2);

/** Positions of each type's queries alternate between the halves. */
export function halves(queries: EvalQuery[]): ("calibration" | "check")[] {
  const seen = new Map<string, number>();
  return queries.map((q) => {
    const n = seen.get(q.type) ?? 0;
    seen.set(q.type, n + 1);
    return n % 2 === 0 ? "calibration" : "check";
  });
}

export function scoreFloor(
  queries: EvalQuery[],
  runs: DeepRun[],
  floor: Floor,
  pick: (i: number) => boolean,
  half: FloorScore["half"],
): FloorScore {
  let answerable = 0, kept = 0, none = 0, returned = 0;
  const metrics = [];
  for (const [i, q] of queries.entries()) {
    if (!pick(i)) continue;
    const ranking = applyFloor(runs[i], floor);
    if (q.type === "none") {
      none++;
      if (ranking.length > 0) returned++;
      continue;
    }
    metrics.push(scoreQuery(ranking, q.relevant));
    if (hasAnswer(runs[i].ranking, q)) {
      answerable++;
      if (hasAnswer(ranking, q)) kept++;
    }
  }
  const answerKept = kept / Math.max(answerable, 1);
  const noneReturned = returned / Math.max(none, 1);
  return {
    ...floor,
    half,
    answer_kept: answerKept,
    none_returned: noneReturned,
    youden_j: answerKept - noneReturned,
    ndcg10: meanMetrics(metrics).ndcg10,
  };
}

/** No-answer levels of the trade-off curve (docs/eval.md, "Relevance floor"). */
export const TRADEOFF_LEVELS = [0.85, 0.75, 0.6, 0.45, 0.3, 0.15];

/** One point of the curve: the best floor of one standout weight within a no-answer level. */
export interface TradeoffPoint {
  standoutWeight: number;
  /** At most this share of no-answer queries returns anything (all queries). */
  level: number;
  /** The floor (keyword coverage 1) with the best nDCG@10 there; null: none reaches it. */
  best: FloorScore | null;
}

/** nDCG@10 against the no-answer rate, per standout weight, over all queries. */
export function tradeoff(queries: EvalQuery[], runs: DeepRun[]): TradeoffPoint[] {
  const thresholds = Array.from({ length: 61 }, (_, i) => Math.round(i * 2) / 100);
  const points: TradeoffPoint[] = [];
  for (const standoutWeight of STANDOUT_GRID) {
    const cells = thresholds.map((minSimilarity) =>
      scoreFloor(
        queries,
        runs,
        { minSimilarity, minKeywordCoverage: 1, standoutWeight },
        () => true,
        "all",
      )
    );
    for (const level of TRADEOFF_LEVELS) {
      const within = cells.filter((c) => c.none_returned <= level + 1e-9);
      const best = within.length ? within.reduce((a, b) => (b.ndcg10 > a.ndcg10 ? b : a)) : null;
      points.push({ standoutWeight, level, best });
    }
  }
  return points;
}

export interface FloorCalibration {
  chosen: Floor;
  /** The chosen floor on each half and on all queries. */
  results: FloorScore[];
  /** Every grid cell on the calibration half. */
  grid: FloorScore[];
  /** The best J without the answer-loss budget, on the calibration and the check half. */
  unconstrained: FloorScore[];
  tradeoff: TradeoffPoint[];
}

export function calibrateFloor(queries: EvalQuery[], runs: DeepRun[]): FloorCalibration {
  const half = halves(queries);
  const grid: FloorScore[] = [];
  for (const standoutWeight of STANDOUT_GRID) {
    for (const minKeywordCoverage of COVERAGE_GRID) {
      for (const minSimilarity of SIMILARITY_GRID) {
        grid.push(scoreFloor(
          queries,
          runs,
          { minSimilarity, minKeywordCoverage, standoutWeight },
          (i) => half[i] === "calibration",
          "calibration",
        ));
      }
    }
  }
  const bestOf = (cells: FloorScore[]) =>
    cells.reduce((a, b) =>
      b.youden_j > a.youden_j + 1e-12 ||
        (Math.abs(b.youden_j - a.youden_j) <= 1e-12 && b.ndcg10 > a.ndcg10)
        ? b
        : a
    );
  const best = bestOf(grid.filter((c) => c.answer_kept >= MIN_ANSWER_KEPT));
  const unconstrained = bestOf(grid);
  const floorOf = (c: FloorScore) => ({
    minSimilarity: c.minSimilarity,
    minKeywordCoverage: c.minKeywordCoverage,
    standoutWeight: c.standoutWeight,
  });
  const chosen = floorOf(best);
  const on = (floor: Floor, half: "check" | "all", pick: (i: number) => boolean) =>
    scoreFloor(queries, runs, floor, pick, half);
  return {
    chosen,
    grid,
    results: [
      best,
      on(chosen, "check", (i) => half[i] === "check"),
      on(chosen, "all", () => true),
    ],
    unconstrained: [
      unconstrained,
      on(floorOf(unconstrained), "check", (i) => half[i] === "check"),
    ],
    tradeoff: tradeoff(queries, runs),
  };
}
