/**
 * What a memory's vectors cover. Sentence encoders read a bounded window (MiniLM 256 tokens,
 * gte-small 512) and ignore the rest, so a memory longer than one window is embedded as
 * overlapping chunks, each prefixed with the title (the summary that says what the chunk is
 * about); search ranks the memory by its best chunk. Sizes are in characters so that every
 * provider (Edge Functions included) chunks alike without a tokenizer; they were chosen on the
 * eval's long memories (docs/eval.md, "Chunking").
 */

export interface ChunkOptions {
  /** Characters of content per chunk. */
  size: number;
  /** Characters each chunk repeats from the end of the previous one. */
  overlap: number;
}

/**
 * ~900 characters are ~200–250 MiniLM tokens for prose and ~250–300 for code: one window,
 * with the title on top. 200 characters of overlap (a sentence or two) keep a fact that
 * straddles a boundary whole in one of the two chunks.
 */
export const CHUNK_DEFAULTS: ChunkOptions = { size: 900, overlap: 200 };

/** Where a chunk may end: after a paragraph, a line, a sentence, or else a space. */
const BREAKS = [/\n\s*\n/g, /\n/g, /[.!?;:](?=\s)/g, /\s/g];

/**
 * The end (exclusive) of a chunk starting at `start`: the last natural break in the second
 * half of the window, else the hard limit (never splitting a surrogate pair).
 */
function chunkEnd(text: string, start: number, size: number): number {
  const limit = start + size;
  if (limit >= text.length) return text.length;
  const window = text.slice(start, limit);
  for (const pattern of BREAKS) {
    let best = -1;
    for (const match of window.matchAll(pattern)) {
      const end = match.index + match[0].length;
      if (end > size / 2) best = end;
    }
    if (best > 0) return start + best;
  }
  const code = text.charCodeAt(limit - 1);
  return code >= 0xd800 && code <= 0xdbff ? limit - 1 : limit;
}

/** Content split into overlapping windows; one window when it fits. */
export function splitContent(content: string, opts: ChunkOptions = CHUNK_DEFAULTS): string[] {
  if (!(opts.size > 0) || !(opts.overlap >= 0) || opts.overlap >= opts.size) {
    throw new RangeError(`chunk size ${opts.size} must exceed overlap ${opts.overlap} >= 0`);
  }
  const parts: string[] = [];
  let start = 0;
  for (;;) {
    const end = chunkEnd(content, start, opts.size);
    parts.push(content.slice(start, end).trim());
    if (end >= content.length) break;
    // Step back by the overlap, then forward to a word start, so chunks begin on a word.
    let next = Math.max(end - opts.overlap, start + 1);
    const space = content.slice(next, end).search(/\s/);
    if (space >= 0) next += space + 1;
    start = next;
  }
  return parts.filter((p) => p !== "");
}

/**
 * The texts to embed for one memory, chunk 0 first. A memory that fits one window gets exactly
 * one text, the same as before chunking existed: title, blank line, content.
 */
export function embeddingTexts(
  m: { title?: string | null; content: string },
  opts: ChunkOptions = CHUNK_DEFAULTS,
): string[] {
  const parts = splitContent(m.content, opts);
  if (parts.length <= 1) return [m.title ? `${m.title}\n\n${m.content}` : m.content];
  return parts.map((part) => (m.title ? `${m.title}\n\n${part}` : part));
}
