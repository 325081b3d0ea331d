/**
 * Reads a tool answer's text the way a strict reader of the fences would (shared/mcp/format.ts):
 * the nonce from the first opening tag, then lines alternating between the outside (server
 * text) and fenced blocks (stored data). Asserts the structure on the way: every fence opens
 * and closes on a line of its own, and no `memory-content` tag appears anywhere else.
 */
import assert from "node:assert/strict";

export interface Fenced {
  nonce: string | null;
  /** The server's own text: everything outside the fences, the fence lines excluded. */
  outside: string;
  /** The stored text of each fence, in order. */
  blocks: string[];
}

const OPENING = /<memory-content-([0-9a-f]{16})>/;

export function parseFenced(text: string): Fenced {
  const nonce = text.match(OPENING)?.[1] ?? null;
  if (nonce === null) {
    assert.ok(!/memory-content/i.test(text), `a fence tag without a proper fence:\n${text}`);
    return { nonce, outside: text, blocks: [] };
  }
  const open = `<memory-content-${nonce}>`;
  const close = `</memory-content-${nonce}>`;
  const outside: string[] = [];
  const blocks: string[] = [];
  let block: string[] | null = null;
  for (const line of text.split("\n")) {
    if (line === open) {
      assert.equal(block, null, `a fence opens inside another:\n${text}`);
      block = [];
    } else if (line === close) {
      assert.notEqual(block, null, `a fence closes that never opened:\n${text}`);
      blocks.push(block!.join("\n"));
      block = null;
    } else if (block) {
      assert.ok(!/<\s*\/?\s*memory-content/i.test(line), `an undefused tag in a fence: ${line}`);
      block.push(line);
    } else {
      outside.push(line);
    }
  }
  assert.equal(block, null, `a fence never closes:\n${text}`);
  // Outside, the tag appears only where the note names the two fence lines.
  const rest = outside.join("\n").replaceAll(open, "").replaceAll(close, "");
  assert.ok(!/memory-content/i.test(rest), `a fence tag outside the fences:\n${text}`);
  return { nonce, outside: outside.join("\n"), blocks };
}
