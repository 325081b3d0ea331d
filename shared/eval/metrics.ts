/**
 * Retrieval-quality metrics over one ranked list of ids and graded judgements (pure functions).
 *
 * Grades: 2 = the answer, 1 = related/useful, absent = not relevant. Definitions:
 * - recall@k: share of the judged documents (grade ≥ 1) that appear in the top k.
 * - MRR: 1 / rank of the first grade-2 document (the answer), 0 when none is in the ranking.
 *   Grade-1 documents do not count: a merely related hit on top has not answered the question.
 * - nDCG@k: DCG = Σ_{i=1..k} (2^grade_i − 1) / log2(i + 1), divided by the DCG of the ideal
 *   ordering of all judged documents (so missing the answer is penalised even when the list
 *   is short).
 * Duplicated ids in a ranking count once, at their first position.
 */

/** Document id → grade (1 or 2). */
export type Judgements = Readonly<Record<string, number>>;

/** The ranking with repeated ids removed (first occurrence wins). */
function dedupe(ranking: readonly string[]): string[] {
  return [...new Set(ranking)];
}

export function recallAt(ranking: readonly string[], relevant: Judgements, k: number): number {
  const judged = Object.keys(relevant).filter((id) => relevant[id] >= 1);
  if (judged.length === 0) return 0;
  const top = new Set(dedupe(ranking).slice(0, k));
  return judged.filter((id) => top.has(id)).length / judged.length;
}

export function reciprocalRank(ranking: readonly string[], relevant: Judgements): number {
  const index = dedupe(ranking).findIndex((id) => (relevant[id] ?? 0) >= 2);
  return index < 0 ? 0 : 1 / (index + 1);
}

const gain = (grade: number) => 2 ** grade - 1;
const discount = (rank: number) => Math.log2(rank + 1); // rank is 1-based

function dcg(grades: readonly number[], k: number): number {
  let sum = 0;
  grades.slice(0, k).forEach((g, i) => sum += gain(g) / discount(i + 1));
  return sum;
}

export function ndcgAt(ranking: readonly string[], relevant: Judgements, k: number): number {
  const ideal = dcg(Object.values(relevant).filter((g) => g > 0).sort((a, b) => b - a), k);
  if (ideal === 0) return 0;
  return dcg(dedupe(ranking).map((id) => relevant[id] ?? 0), k) / ideal;
}

/** The metrics the eval reports for one query. */
export interface QueryMetrics {
  recall5: number;
  recall10: number;
  mrr: number;
  ndcg10: number;
}

export const METRIC_NAMES: readonly (keyof QueryMetrics)[] = [
  "recall5",
  "recall10",
  "mrr",
  "ndcg10",
];

export function scoreQuery(ranking: readonly string[], relevant: Judgements): QueryMetrics {
  return {
    recall5: recallAt(ranking, relevant, 5),
    recall10: recallAt(ranking, relevant, 10),
    mrr: reciprocalRank(ranking, relevant),
    ndcg10: ndcgAt(ranking, relevant, 10),
  };
}

/** Arithmetic mean of each metric over queries (macro average); all zeros for no queries. */
export function meanMetrics(rows: readonly QueryMetrics[]): QueryMetrics {
  const out: QueryMetrics = { recall5: 0, recall10: 0, mrr: 0, ndcg10: 0 };
  if (rows.length === 0) return out;
  for (const row of rows) for (const name of METRIC_NAMES) out[name] += row[name];
  for (const name of METRIC_NAMES) out[name] /= rows.length;
  return out;
}
