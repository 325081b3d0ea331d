import type { SearchHit, SearchResult } from "../search/types.ts";
import { fenceContent, firstLine, UNTRUSTED_NOTE } from "./format.ts";

/** Content shown per hit; longer memories are cut (get_memory returns all of it). */
export const SNIPPET_CHARS = 1_500;

const score = (v: number | null) => (v === null ? "–" : v.toFixed(3));

function formatHit(h: SearchHit, rank: number): string {
  const meta = [
    `id: ${h.id}`,
    `kind: ${h.kind}`,
    `project: ${h.project}`,
    h.tags.length ? `tags: ${h.tags.join(", ")}` : null,
    h.file_path ? `file: ${h.file_path}` : null,
    h.symbol ? `symbol: ${h.symbol}` : null,
  ].filter(Boolean).join(" | ");
  const cut = h.content.length > SNIPPET_CHARS;
  const body = cut ? `${h.content.slice(0, SNIPPET_CHARS)}…` : h.content;
  return [
    `${rank}. ${h.title ?? firstLine(h.content)}`,
    `   ${meta}`,
    `   score ${h.score.toFixed(4)} (semantic ${score(h.semantic_score)}, keyword ${
      score(h.keyword_score)
    })${cut ? ` | content cut at ${SNIPPET_CHARS} chars: get_memory for all of it` : ""}`,
    fenceContent(body),
  ].join("\n");
}

/** Search results for a model: ranked, scored, every stored text fenced as untrusted data. */
export function formatSearchResults(r: SearchResult): string {
  const how = r.effective_mode + (r.model ? `, ${r.model}` : "");
  const notes = r.notes.map((n) => `Note: ${n}`);
  if (r.hits.length === 0) {
    return [
      `No memories match "${r.query}" (${how}).`,
      ...notes,
      "Try other or fewer words, mode 'semantic', or fewer filters.",
    ].join("\n");
  }
  return [
    UNTRUSTED_NOTE,
    "",
    `${r.hits.length} result${
      r.hits.length === 1 ? "" : "s"
    } for "${r.query}" (${how}), best first:`,
    ...notes,
    "",
    r.hits.map((h, i) => formatHit(h, i + 1)).join("\n\n"),
  ].join("\n");
}
