import assert from "node:assert/strict";
import { parseEvalArgs } from "../scripts/eval/args.ts";
import { mainTable, sweepTable } from "../scripts/eval/report.ts";
import { textTable as table } from "../scripts/lib/tables.ts";
import { runEval } from "../scripts/eval/run.ts";
import { orQuery } from "../scripts/eval/search.ts";
import { applyFloor, type DeepRun, standout, tradeoff } from "../scripts/eval/floor.ts";
import type { EvalQuery } from "../shared/eval/dataset.ts";
import { testEachBackend } from "./helpers/db.ts";

Deno.test("parseEvalArgs: defaults, sweep lists and clear errors", () => {
  const d = parseEvalArgs([]);
  assert.equal(d.data, "eval/data");
  assert.equal(d.pg, false);
  assert.equal(d.providers, undefined);
  assert.deepEqual(d.rrfKs, [10]);
  assert.deepEqual(d.weights, [{ fullText: 1, semantic: 5 }]);
  assert.equal(d.sweep, false);
  assert.deepEqual(d.coveragePowers, [undefined]);
  assert.equal(d.floorSweep, false);
  assert.equal(d.chunks, undefined);
  assert.equal(d.out, "bench-results");

  const s = parseEvalArgs(["--rrf-k", "10, 30", "--weights", "1:2,0.5:1", "--providers", "Hash"]);
  assert.deepEqual(s.rrfKs, [10, 30]);
  assert.deepEqual(s.weights, [{ fullText: 1, semantic: 2 }, { fullText: 0.5, semantic: 1 }]);
  assert.deepEqual(s.providers, ["hash"]);
  assert.equal(s.sweep, true);
  assert.equal(parseEvalArgs(["--weights", "2:1"]).sweep, true);
  const b = parseEvalArgs(["--coverage-power", "0,1.5", "--chunks", "600:150", "--floor-sweep"]);
  assert.deepEqual(b.coveragePowers, [0, 1.5]);
  assert.equal(b.sweep, true);
  assert.deepEqual(b.chunks, { size: 600, overlap: 150 });
  assert.equal(b.floorSweep, true);

  assert.throws(() => parseEvalArgs(["--rrf-k", "ten"]), /--rrf-k: "ten"/);
  assert.throws(() => parseEvalArgs(["--weights", "1"]), /full_text:semantic/);
  assert.throws(() => parseEvalArgs(["--providers", "supabase"]), /--providers/);
  assert.throws(() => parseEvalArgs(["--coverage-power=-1"]), /--coverage-power: "-1"/);
  assert.throws(() => parseEvalArgs(["--chunks", "100:100"]), /--chunks: "100:100"/);
  assert.throws(() => parseEvalArgs(["--nope"]));
});

Deno.test("orQuery ORs the words and drops websearch operators", () => {
  assert.equal(orQuery("which package manager"), "which or package or manager");
  assert.equal(
    orQuery("all goroutines are asleep - deadlock!"),
    [
      "all",
      "goroutines",
      "are",
      "asleep",
      "deadlock!",
    ].join(" or "),
  );
  assert.equal(orQuery(`"exact phrase" or -not`), "exact or phrase or not");
  assert.equal(orQuery("  "), "");
});

Deno.test("table aligns columns", () => {
  assert.equal(table(["a", "bb"], [["xyz", "1"]]), "a    bb\n---  --\nxyz   1");
});

const MEMORIES = [
  { id: "a", content: "Use pnpm; npm install breaks the lockfile", project: "web" },
  { id: "b", content: "ECONNREFUSED 127.0.0.1:5432 in CI: connect to host postgres" },
  { id: "c", content: "Dockerfiles are multi-stage and run as the node user", kind: "convention" },
  { id: "d", content: "Never log tokens or passwords", tags: ["logging"] },
];
const QUERIES = [
  { id: "q1", query: "ECONNREFUSED", relevant: { b: 2 }, type: "keyword" },
  { id: "q2", query: "pnpm lockfile", relevant: { a: 2 }, type: "mixed" },
  {
    id: "q3",
    query: "which tokens must not be logged",
    relevant: { d: 2, c: 1 },
    type: "paraphrase",
  },
  { id: "q4", query: "kafka consumer group rebalancing", relevant: {}, type: "none" },
];

testEachBackend("runEval end to end on a tiny set with the hash provider", async (backend) => {
  const dir = await Deno.makeTempDir();
  try {
    const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join("\n");
    await Deno.writeTextFile(`${dir}/memories.jsonl`, jsonl(MEMORIES));
    await Deno.writeTextFile(`${dir}/queries.jsonl`, jsonl(QUERIES));
    const args = parseEvalArgs([
      "--data",
      dir,
      "--providers",
      "hash",
      "--keyword-or",
      "--rrf-k",
      "10,60",
      "--floor-sweep",
      ...(backend === "postgres" ? ["--pg"] : []),
    ]);
    const result = await runEval(args, () => {});

    assert.equal(result.backend, backend);
    assert.deepEqual(result.data.by_type, { paraphrase: 1, keyword: 1, mixed: 1, none: 1 });
    assert.equal(result.data.lexical_overlap.keyword, 1);
    const labels = result.runs.map((r) => `${r.mode}/${r.provider}/${r.keyword_query}`);
    assert.deepEqual(labels, [
      "keyword/null/as-is",
      "keyword/null/or",
      "semantic/hash/as-is",
      "hybrid/hash/as-is",
      "hybrid/hash/or",
      "hybrid/hash/as-is", // the floor off
    ]);
    assert.equal(result.runs.at(-1)?.floor?.minSimilarity, 0);
    // No memory shares a word with the unanswerable query: only the floor-off run answers it.
    assert.deepEqual(result.runs.map((r) => r.no_answer.returned_any), [0, 0, 0, 0, 0, 1]);
    assert.equal(result.runs[0].queries, 3, "metrics average the answerable queries");
    const [floor] = result.floors;
    assert.equal(floor.provider, "hash");
    assert.deepEqual(floor.results.map((r) => r.half), ["calibration", "check", "all"]);
    assert.equal(result.sweep.length, 4, "2 rrf_k × 1 weight × 2 keyword variants");

    const keyword = result.runs[0];
    assert.deepEqual(keyword.per_query?.[0].ranking, ["b"], "exact identifier found alone");
    assert.equal(keyword.by_type.keyword?.mrr, 1);
    for (const run of [...result.runs, ...result.sweep]) {
      for (const value of Object.values(run.metrics)) assert.ok(value >= 0 && value <= 1);
      assert.ok(run.per_query === undefined || run.per_query.length === 4);
    }
    assert.match(mainTable(result.runs), /hybrid \/ hash \(or\)/);
    assert.match(sweepTable(result.sweep), /hash \(or\)\s+10\s+1:5/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("floor calibration: the standout lifts every hit of a query by the same amount", () => {
  // Hits a..c by fused rank; d is keyword-only, holding every query term.
  const run: DeepRun = {
    ranking: ["a", "b", "c", "d"],
    semantic: [0.5, 0.25, 0.25, null],
    keyword: [false, false, true, true],
    coverage: [null, null, 0.5, 1],
    ms: 0,
  };
  assert.equal(standout(run), 0.25); // 0.5 - mean(0.25, 0.25)
  const floor = (minSimilarity: number, standoutWeight: number, minKeywordCoverage = 1) =>
    applyFloor(run, { minSimilarity, standoutWeight, minKeywordCoverage });
  assert.deepEqual(floor(0.4, 0), ["a", "d"]);
  // Lifted by 0.25: a 0.75, b and c 0.5.
  assert.deepEqual(floor(0.5, 1), ["a", "b", "c", "d"]);
  assert.deepEqual(floor(0.7, 1), ["a", "d"]);
  assert.deepEqual(floor(0.7, 1, 0.5), ["a", "c", "d"]);
  assert.deepEqual(floor(0.8, 1), ["d"]);
  // A flat list (standout 0) gets no lift.
  const flat: DeepRun = { ...run, semantic: [0.3, 0.3, 0.3, null] };
  assert.equal(standout(flat), 0);
  assert.deepEqual(
    applyFloor(flat, { minSimilarity: 0.4, standoutWeight: 2, minKeywordCoverage: 1 }),
    [
      "d",
    ],
  );
});

Deno.test("floor calibration: the trade-off curve keeps the best nDCG within each no-answer level", () => {
  const queries: EvalQuery[] = [
    { id: "q1", query: "answered", relevant: { a: 2 }, type: "paraphrase" },
    { id: "q2", query: "unanswered", relevant: {}, type: "none" },
  ];
  const runs: DeepRun[] = [
    {
      ranking: ["b", "a"],
      semantic: [0.5, 0.45],
      keyword: [false, false],
      coverage: [null, null],
      ms: 0,
    },
    { ranking: ["c"], semantic: [0.3], keyword: [false], coverage: [null], ms: 0 },
  ];
  const byLevel = (w: number) =>
    tradeoff(queries, runs).filter((p) => p.standoutWeight === w)
      .map((p) => [p.level, p.best?.minSimilarity ?? null, p.best?.ndcg10 ?? null]);
  // Any floor up to 0.30 returns c for q2 (no-answer 1: within no level); 0.32..0.44 keeps b and a
  // (nDCG 1/log2(3)), 0.46..0.50 only b (nDCG 0), past 0.50 nothing.
  const withA = Math.round((1 / Math.log2(3)) * 1e6) / 1e6;
  assert.deepEqual(
    byLevel(0).map(([l, t, n]) => [l, t, n === null ? null : Math.round(Number(n) * 1e6) / 1e6]),
    [0.85, 0.75, 0.6, 0.45, 0.3, 0.15].map((l) => [l, 0.32, withA]),
  );
});
