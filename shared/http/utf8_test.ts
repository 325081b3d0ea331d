import assert from "node:assert/strict";
import { isUtf8, utf8Text } from "./utf8.ts";

Deno.test("isUtf8: well-formed UTF-8 only", () => {
  const bytes = (...b: number[]) => new Uint8Array(b);
  assert.equal(isUtf8(new TextEncoder().encode("plain, é, 漢字, 😀")), true);
  assert.equal(isUtf8(bytes()), true);
  assert.equal(isUtf8(bytes(0x00)), true, "NUL is valid UTF-8 (the schemas refuse it)");
  assert.equal(isUtf8(bytes(0xff, 0xfe)), false, "bytes that never occur in UTF-8");
  assert.equal(isUtf8(bytes(0xc3)), false, "a truncated sequence");
  assert.equal(isUtf8(bytes(0xc0, 0xaf)), false, "an overlong encoding of '/'");
  assert.equal(isUtf8(bytes(0xed, 0xa0, 0x80)), false, "an encoded surrogate (CESU-8)");
  assert.equal(isUtf8(bytes(0xf4, 0x90, 0x80, 0x80)), false, "beyond U+10FFFF");
  assert.equal(isUtf8(bytes(0xef, 0xbb, 0xbf, 0x41)), true, "a BOM is valid");
  assert.equal(isUtf8(bytes(0x41, 0x42).buffer), true, "an ArrayBuffer too");
});

Deno.test("utf8Text: the text of valid UTF-8 (without a leading BOM), else null", () => {
  const bytes = (...b: number[]) => new Uint8Array(b);
  assert.equal(utf8Text(new TextEncoder().encode('{"é":"漢字😀"}')), '{"é":"漢字😀"}');
  assert.equal(utf8Text(bytes()), "");
  assert.equal(utf8Text(bytes(0xef, 0xbb, 0xbf, 0x41)), "A", "as Request.text() decodes it");
  assert.equal(utf8Text(bytes(0x41, 0xc3)), null);
});
