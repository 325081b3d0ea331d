/**
 * The near-duplicate calibration (scripts/eval/duplicates.ts): its scoring of thresholds, and
 * the labelled pairs it reads. The full run (`deno task eval --duplicates`) loads a model and is
 * measured in docs/eval.md, not here.
 */
import assert from "node:assert/strict";
import { bestThreshold, loadPairs, sweepThresholds } from "../scripts/eval/duplicates.ts";
import { PAIRS_FILE } from "../scripts/eval/duplicates_run.ts";

Deno.test("duplicates eval: precision and recall per threshold; best F1, the higher on a tie", () => {
  const scored = [
    { duplicate: true, similarity: 0.95 },
    { duplicate: true, similarity: 0.85 },
    { duplicate: true, similarity: 0.6 },
    { duplicate: false, similarity: 0.7 },
    { duplicate: false, similarity: 0.2 },
  ];
  const sweep = sweepThresholds(scored);
  const at = (t: number) => sweep.find((s) => s.threshold === t)!;
  assert.deepEqual(at(0.5), {
    threshold: 0.5,
    precision: 0.75,
    recall: 1,
    f1: 6 / 7,
    tp: 3,
    fp: 1,
  });
  assert.deepEqual(at(0.8), {
    threshold: 0.8,
    precision: 1,
    recall: 2 / 3,
    f1: 0.8,
    tp: 2,
    fp: 0,
  });
  assert.deepEqual(at(0.99), { threshold: 0.99, precision: 1, recall: 0, f1: 0, tp: 0, fp: 0 });
  // 0.30 … 0.60 all flag the same four pairs (F1 6/7): the highest of them wins.
  assert.equal(bestThreshold(sweep).threshold, 0.6);
  assert.equal(sweep.length, 70);
});

Deno.test("duplicates eval: the labelled set is balanced, with unique ids", async () => {
  const pairs = await loadPairs(PAIRS_FILE);
  assert.equal(pairs.length, 64);
  assert.equal(pairs.filter((p) => p.duplicate).length, 32);
  assert.equal(new Set(pairs.map((p) => p.id)).size, 64);
  assert.deepEqual([...new Set(pairs.map((p) => p.type))].sort(), [
    "added detail",
    "one number",
    "reworded",
    "same topic",
  ]);
  assert.ok(pairs.every((p) => (p.type === "same topic") === !p.duplicate));
});
