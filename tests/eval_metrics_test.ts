import assert from "node:assert/strict";
import {
  meanMetrics,
  ndcgAt,
  recallAt,
  reciprocalRank,
  scoreQuery,
} from "../shared/eval/metrics.ts";

const close = (actual: number, expected: number, msg?: string) =>
  assert.ok(Math.abs(actual - expected) < 1e-9, `${msg ?? ""} ${actual} != ${expected}`);

// One worked example: b is the answer, e and z are related; z is never retrieved.
const ranking = ["a", "b", "c", "d", "e", "f"];
const relevant = { b: 2, e: 1, z: 1 };

Deno.test("recall@k counts judged documents (grade ≥ 1) in the top k", () => {
  assert.equal(recallAt(ranking, relevant, 1), 0);
  close(recallAt(ranking, relevant, 2), 1 / 3);
  close(recallAt(ranking, relevant, 5), 2 / 3);
  close(recallAt(ranking, relevant, 10), 2 / 3, "z is missing, so never 1");
  assert.equal(recallAt([], relevant, 5), 0);
  assert.equal(recallAt(ranking, {}, 5), 0, "no judgements: 0, not NaN");
  assert.equal(recallAt(["b", "e", "z"], relevant, 3), 1);
});

Deno.test("MRR uses the first grade-2 document only", () => {
  assert.equal(reciprocalRank(ranking, relevant), 1 / 2);
  assert.equal(reciprocalRank(["e", "x", "b"], relevant), 1 / 3, "grade-1 on top does not count");
  assert.equal(reciprocalRank(["e", "z"], relevant), 0);
  assert.equal(reciprocalRank(["b"], relevant), 1);
  assert.equal(reciprocalRank(["x", "x", "b"], relevant), 1 / 2, "repeats count once");
});

Deno.test("nDCG@k: gains 2^g − 1, log2 discount, ideal over all judged documents", () => {
  // DCG: b (gain 3) at rank 2, e (gain 1) at rank 5. Ideal: 2, 1, 1 at ranks 1..3.
  const dcg = 3 / Math.log2(3) + 1 / Math.log2(6);
  const ideal = 3 / 1 + 1 / Math.log2(3) + 1 / Math.log2(4);
  close(ndcgAt(ranking, relevant, 10), dcg / ideal);
  assert.ok(Math.abs(ndcgAt(ranking, relevant, 10) - 0.5519) < 1e-4);
  // k = 2 cuts e off; the ideal is cut at 2 too.
  close(ndcgAt(ranking, relevant, 2), (3 / Math.log2(3)) / (3 + 1 / Math.log2(3)));
  close(ndcgAt(["b", "e", "z"], relevant, 10), 1, "ideal order");
  close(ndcgAt(["b", "z", "e"], relevant, 10), 1, "ties among grade 1 are still ideal");
  assert.equal(ndcgAt(["x", "y"], relevant, 10), 0);
  assert.equal(ndcgAt(ranking, {}, 10), 0, "no judgements: 0, not NaN");
  // The answer just outside the cut-off earns nothing.
  const eleventh = [...Array(10).keys()].map((i) => `x${i}`).concat("b");
  assert.equal(ndcgAt(eleventh, { b: 2 }, 10), 0);
  close(ndcgAt(["b", "b", "e"], relevant, 10), ndcgAt(["b", "e"], relevant, 10), "dedup");
});

Deno.test("scoreQuery and meanMetrics macro-average over queries", () => {
  const perfect = scoreQuery(["b", "e", "z"], relevant);
  assert.deepEqual(perfect, { recall5: 1, recall10: 1, mrr: 1, ndcg10: 1 });
  const miss = scoreQuery(["x"], relevant);
  assert.deepEqual(miss, { recall5: 0, recall10: 0, mrr: 0, ndcg10: 0 });
  const mean = meanMetrics([perfect, miss, scoreQuery(ranking, relevant)]);
  close(mean.recall5, (1 + 0 + 2 / 3) / 3);
  close(mean.mrr, (1 + 0 + 0.5) / 3);
  assert.deepEqual(meanMetrics([]), { recall5: 0, recall10: 0, mrr: 0, ndcg10: 0 });
});
