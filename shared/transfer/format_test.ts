import assert from "node:assert/strict";
import { AppError } from "../errors.ts";
import { formatRecord, parseRecords } from "./format.ts";

const line = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    id: "123e4567-e89b-12d3-a456-426614174000",
    project: "my-app",
    project_name: "My app",
    kind: "note",
    content: "line one\r\nline two\u2028 ok",
    created_at: "2024-05-06T07:08:09.123456Z",
    updated_at: "2024-05-06T07:08:09.123456Z",
    ...extra,
  });

/** Asserts parseRecords refuses `jsonl` with a 400 naming `lineNo` and matching `pattern`. */
async function refuses(jsonl: string, lineNo: number, pattern: RegExp) {
  await assert.rejects(parseRecords(jsonl), (err) => {
    assert.ok(err instanceof AppError);
    assert.equal(err.status, 400);
    assert.deepEqual(err.details, { line: lineNo });
    assert.match(err.message, new RegExp(`^line ${lineNo}: `));
    assert.match(err.message, pattern);
    return true;
  });
}

Deno.test("transfer format: one JSON line per record, defaults filled, exact text kept", async () => {
  const [parsed] = await parseRecords(`\uFEFF${line()}\r\n\n`);
  assert.equal(parsed.line, 1);
  assert.equal(parsed.record.content, "line one\r\nline two\u2028 ok");
  assert.equal(parsed.record.format, 1);
  assert.equal(parsed.record.importance, 0.5);
  assert.deepEqual(parsed.record.tags, []);
  assert.equal(parsed.record.created_at, "2024-05-06T07:08:09.123456Z", "microseconds kept");
  const out = formatRecord(parsed.record);
  assert.ok(out.endsWith("}\n") && !out.slice(0, -1).includes("\n"), "exactly one line");
  assert.deepEqual((await parseRecords(out))[0].record, parsed.record);
});

Deno.test("transfer format: a bad line is a 400 naming its number, counted from firstLine", async () => {
  await refuses(`${line()}\n{not json`, 2, /not valid JSON/);
  await refuses(`\n\n${line({ kind: "essay" })}`, 3, /kind/);
  await refuses(line({ content: "a\u0000b" }), 1, /NUL/);
  await refuses(line({ content_hash: "0".repeat(64) }), 1, /altered/);
  await refuses(`${line()}\n${line()}`, 2, /already on line 1/);
  await assert.rejects(parseRecords("{", 41), /^AppError: line 41: /);
});
