import assert from "node:assert/strict";
import { EvalSetError, loadEvalSet, parseEvalSet, QUERY_TYPES } from "../shared/eval/dataset.ts";
import { saveMemorySchema } from "../shared/memory/schemas.ts";

const DATA_DIR = new URL("../eval/data", import.meta.url).pathname;

Deno.test("the bundled evaluation set is large, consistent and mixed", async () => {
  const { memories, queries } = await loadEvalSet(DATA_DIR); // throws on any problem
  assert.ok(memories.length >= 300, `${memories.length} memories`);
  assert.ok(queries.length >= 100, `${queries.length} queries`);

  const memoryIds = new Set(memories.map((m) => m.id));
  assert.equal(memoryIds.size, memories.length, "memory ids are unique");
  assert.equal(new Set(queries.map((q) => q.id)).size, queries.length, "query ids are unique");

  for (const q of queries) {
    const grades = Object.entries(q.relevant);
    for (const [id, grade] of grades) {
      assert.ok(memoryIds.has(id), `${q.id}: unknown memory ${id}`);
      assert.ok(grade === 1 || grade === 2, `${q.id}: grade ${grade}`);
    }
    if (q.type === "none") assert.equal(grades.length, 0, `${q.id}: "none" but judged`);
    else assert.ok(grades.some(([, g]) => g === 2), `${q.id} has no grade-2 memory`);
  }

  // A real mix: every type is well represented (at least 30 long and 30 unanswerable).
  for (const type of QUERY_TYPES) {
    const n = queries.filter((q) => q.type === type).length;
    assert.ok(n >= 30, `only ${n} ${type} queries`);
  }
  // Long memories are 2-30 KB, and each long query's answer is one of them.
  const size = (id: string) =>
    new TextEncoder().encode(memories.find((m) => m.id === id)!.content).length;
  for (const q of queries.filter((q) => q.type === "long")) {
    const long = Object.keys(q.relevant).filter((id) => size(id) >= 2048);
    assert.ok(long.length > 0 && long.every((id) => size(id) <= 30 * 1024), q.id);
  }
  // Every memory can be saved through the normal service (same validation as the API).
  for (const { id: _, ...input } of memories) {
    const parsed = saveMemorySchema.safeParse(input);
    assert.ok(parsed.success, `${_}: ${parsed.error?.message}`);
  }
});

Deno.test("parseEvalSet reports every problem with file and line", () => {
  const memories = [
    `{"id":"m1","content":"a"}`,
    `{"id":"m1","content":"b"}`,
    `{"id":"m3","content":"a"}`,
    `not json`,
    `{"id":"m4","content":"c","kind":"essay"}`,
  ].join("\n");
  const queries = [
    `{"id":"q1","query":"x","relevant":{"m1":3},"type":"keyword"}`,
    `{"id":"q2","query":"y","relevant":{"m1":1,"zz":2},"type":"other"}`,
    ``,
    `{"id":"q3","query":"z","relevant":{"m1":1},"type":"mixed"}`,
    `{"id":"q4","query":"w","relevant":{"m1":2},"type":"none"}`,
  ].join("\n");
  let problems = "";
  try {
    parseEvalSet(memories, queries);
    assert.fail("accepted an invalid set");
  } catch (err) {
    assert.ok(err instanceof EvalSetError, String(err));
    problems = err.problems.join("\n");
  }
  for (
    const expected of [
      /memories\.jsonl:2: duplicate id m1/,
      /m3 duplicates m1/,
      /memories\.jsonl:4: /,
      /memories\.jsonl:5: "kind"/,
      /queries\.jsonl:1: grades must be 1 or 2/,
      /queries\.jsonl:2: "type"/,
      /queries\.jsonl:2: unknown memory id zz/,
      /queries\.jsonl:4: needs at least one grade-2/,
      /queries\.jsonl:5: a "none" query has no relevant memory/,
    ]
  ) assert.match(problems, expected);
});

Deno.test("parseEvalSet accepts a minimal valid set", () => {
  const set = parseEvalSet(
    `{"id":"a","content":"use pnpm"}\n{"id":"b","content":"use pnpm","project":"other"}\n`,
    `{"id":"q","query":"package manager","relevant":{"a":2,"b":1},"type":"paraphrase"}\n` +
      `{"id":"n","query":"kafka consumer groups","relevant":{},"type":"none"}`,
  );
  assert.equal(set.memories.length, 2);
  assert.deepEqual(set.queries[0].relevant, { a: 2, b: 1 });
});
