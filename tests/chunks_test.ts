import assert from "node:assert/strict";
import { embeddingTexts, splitContent } from "../shared/embeddings/chunks.ts";

Deno.test("chunks: a text that fits one window is one chunk, exactly as before", () => {
  assert.deepEqual(splitContent("short note", { size: 50, overlap: 10 }), ["short note"]);
  assert.deepEqual(embeddingTexts({ title: "T", content: "short note" }), ["T\n\nshort note"]);
  assert.deepEqual(embeddingTexts({ title: null, content: "short note" }), ["short note"]);
});

Deno.test("chunks: long text splits at sentence ends with overlap, title on each chunk", () => {
  const content = "One two three. Four five six. Seven eight nine. Ten eleven twelve.";
  // 30 characters per chunk, 10 repeated: breaks after "three." / "six." / "nine.".
  assert.deepEqual(splitContent(content, { size: 30, overlap: 10 }), [
    "One two three. Four five six.",
    "five six. Seven eight nine.",
    "nine. Ten eleven twelve.",
  ]);
  assert.deepEqual(embeddingTexts({ title: "Numbers", content }, { size: 30, overlap: 10 }), [
    "Numbers\n\nOne two three. Four five six.",
    "Numbers\n\nfive six. Seven eight nine.",
    "Numbers\n\nnine. Ten eleven twelve.",
  ]);
});

Deno.test("chunks: paragraphs are preferred breaks; unbroken text is cut hard", () => {
  const paragraphs = "aaaa bbbb cccc\n\ndddd eeee ffff\n\ngggg hhhh";
  assert.deepEqual(splitContent(paragraphs, { size: 20, overlap: 0 }), [
    "aaaa bbbb cccc",
    "dddd eeee ffff",
    "gggg hhhh",
  ]);
  assert.deepEqual(splitContent("x".repeat(25), { size: 10, overlap: 0 }), [
    "xxxxxxxxxx",
    "xxxxxxxxxx",
    "xxxxx",
  ]);
  // A surrogate pair on the boundary stays whole.
  assert.deepEqual(splitContent("abcdefghi😀jk", { size: 10, overlap: 0 }), ["abcdefghi", "😀jk"]);
});

Deno.test("chunks: every word of a long memory lands in some chunk", () => {
  const words = Array.from({ length: 2000 }, (_, i) => `w${i}`);
  const chunks = splitContent(words.join(" "));
  assert.ok(chunks.length > 10, `${chunks.length} chunks`);
  const seen = new Set(chunks.flatMap((c) => c.split(" ")));
  assert.deepEqual(words.filter((w) => !seen.has(w)), []);
  assert.ok(chunks.every((c) => c.length <= 900));
});

Deno.test("chunks: bad options are refused", () => {
  assert.throws(() => splitContent("x", { size: 10, overlap: 10 }), RangeError);
  assert.throws(() => splitContent("x", { size: 0, overlap: 0 }), RangeError);
});
