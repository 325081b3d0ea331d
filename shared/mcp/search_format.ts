import type { SearchHit, SearchResult } from "../search/types.ts";
import { answer, Fence } from "./format.ts";

/** Content shown per hit; longer memories are cut (get_memory returns all of it). */
export const SNIPPET_CHARS = 1_500;

const score = (v: number | null) => (v === null ? "–" : v.toFixed(3));

function formatHit(fence: Fence, h: SearchHit, rank: number): string {
  const cut = h.content.length > SNIPPET_CHARS;
  const body = cut ? `${h.content.slice(0, SNIPPET_CHARS)}…` : h.content;
  return [
    `${rank}. ${h.id} | kind: ${h.kind} | project: ${h.project} | score ${
      h.score.toFixed(4)
    } (semantic ${score(h.semantic_score)}, keyword ${score(h.keyword_score)})${
      cut ? ` | content cut at ${SNIPPET_CHARS} chars: get_memory for all of it` : ""
    }`,
    fence.fields([
      ["title", h.title],
      ["tags", h.tags.join(", ")],
      ["file", h.file_path],
      ["symbol", h.symbol],
    ], body),
  ].join("\n");
}

/** Search results for a model: ranked, scored, every stored text fenced as untrusted data. */
export function formatSearchResults(r: SearchResult): string {
  const fence = new Fence();
  const how = r.effective_mode + (r.model ? `, ${r.model}` : "");
  const notes = r.notes.map((n) => `Note: ${n}`);
  // The query is the caller's own words, not stored text, but it is fenced all the same.
  if (r.hits.length === 0) {
    return answer(fence, [
      `No memories match this query (${how}):`,
      fence.wrap(r.query),
      ...notes,
      "Try other or fewer words, mode 'semantic', or fewer filters.",
    ]);
  }
  return answer(fence, [
    `${r.hits.length} result${r.hits.length === 1 ? "" : "s"} (${how}), best first, for:`,
    fence.wrap(r.query),
    ...notes,
    "",
    r.hits.map((h, i) => formatHit(fence, h, i + 1)).join("\n\n"),
  ]);
}
