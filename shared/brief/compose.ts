import { answer, Fence, firstLine } from "../mcp/format.ts";
import { type Brief, BRIEF_SECTIONS, type BriefSection } from "./schemas.ts";
import type { BriefMemory } from "./sources.ts";

/** The usual estimate for English and code: about four characters per token. */
export const estimateTokens = (text: string) => Math.ceil(text.length / 4);

const HEADINGS: Record<BriefSection, string> = {
  conventions: "Conventions and preferences",
  files: "Known about the files you named (bugs and fixes first)",
  decisions: "Recent decisions",
  task: "Closest to your task",
};

/** Content shown per item; the whole memory is one get_memory away. */
const SNIPPET_CHARS: Record<BriefSection, number> = {
  conventions: 400,
  files: 300,
  decisions: 300,
  task: 300,
};

/** Items every section gets before any section gets more (while the budget lasts). */
const FIRST_PASS_ITEMS = 2;

interface Candidate {
  section: BriefSection;
  memory: BriefMemory;
}

export interface ComposeInput {
  /** The project's ref, or null (a repository only, or all projects). */
  project: string | null;
  sections: Record<BriefSection, BriefMemory[]>;
  maxTokens: number;
}

/**
 * The brief within its budget: sections in a fixed order, each memory once (in the first
 * section that has it); every section first gets its best FIRST_PASS_ITEMS, then the rest fill
 * what is left in section order. What did not fit is counted in a closing line.
 */
export function composeBrief(input: ComposeInput): Brief {
  const seen = new Set<string>();
  const candidates: Candidate[] = [];
  for (const section of BRIEF_SECTIONS) {
    for (const memory of input.sections[section]) {
      if (seen.has(memory.id)) continue;
      seen.add(memory.id);
      candidates.push({ section, memory });
    }
  }
  if (candidates.length === 0) return emptyBrief(input.project, "stored");

  const fence = new Fence();
  const budget = input.maxTokens * 4;
  const chosen = new Set<Candidate>();
  // Each item is rendered once; trying a selection only joins strings.
  const rendered = new Map(candidates.map((c) => [c, renderItem(fence, c)]));
  const render = () => renderBrief(fence, input.project, candidates, chosen, rendered);
  const tryAdd = (c: Candidate) => {
    chosen.add(c);
    if (render().length > budget) chosen.delete(c);
  };
  const firsts = BRIEF_SECTIONS.flatMap((s) =>
    candidates.filter((c) => c.section === s).slice(0, FIRST_PASS_ITEMS)
  );
  for (const c of firsts) tryAdd(c);
  for (const c of candidates) if (!chosen.has(c)) tryAdd(c);

  const text = render();
  const items = candidates.filter((c) => chosen.has(c)).map(({ section, memory: m }) => ({
    id: m.id,
    section,
    kind: m.kind,
    title: m.title,
  }));
  return {
    project: input.project,
    text,
    tokens: estimateTokens(text),
    truncated: chosen.size < candidates.length,
    items,
  };
}

function renderBrief(
  fence: Fence,
  project: string | null,
  candidates: Candidate[],
  chosen: Set<Candidate>,
  rendered: Map<Candidate, string>,
): string {
  const lines = [
    `# Session brief (${project === null ? "all your projects" : `project ${project}`})`,
    "What Code Memory knows that matters here. Follow the conventions; get_memory(id) gives any item in full.",
  ];
  for (const section of BRIEF_SECTIONS) {
    const shown = candidates.filter((c) => c.section === section && chosen.has(c));
    if (shown.length === 0) continue;
    lines.push("", `## ${HEADINGS[section]}`);
    for (const c of shown) lines.push(rendered.get(c)!);
  }
  const left = candidates.filter((c) => !chosen.has(c));
  if (left.length) {
    const bySection = BRIEF_SECTIONS.map((s) => [s, left.filter((c) => c.section === s).length])
      .filter(([, n]) => n).map(([s, n]) => `${s} ${n}`).join(", ");
    lines.push(
      "",
      `Trimmed to fit the token budget: ${left.length} more memor${
        left.length === 1 ? "y" : "ies"
      } left out (${bySection}). Ask for a larger max_tokens, or use search_memories.`,
    );
  }
  return answer(fence, lines);
}

function renderItem(fence: Fence, { section, memory: m }: Candidate): string {
  const limit = SNIPPET_CHARS[section];
  const cut = m.content_chars > limit;
  const snippet = cut ? `${m.content.slice(0, limit)}…` : m.content;
  return [
    `- ${m.id} | ${m.kind} | project: ${m.project}${cut ? " | cut: get_memory for all" : ""}`,
    fence.fields([
      ["title", m.title ?? firstLine(m.content)],
      ["file", m.file_path],
      ["symbol", m.symbol],
    ], snippet),
  ].join("\n");
}

/** A brief with nothing in it: the scope is unknown, or nothing is stored for it yet. */
export function emptyBrief(project: string | null, why: "unknown" | "stored"): Brief {
  const text = why === "unknown"
    ? "Nothing is known yet about this project or repository: no memories of yours match it. Save its conventions, decisions and fixes with save_memory (with repo and file_path) and later sessions get them here."
    : `Nothing stored yet that matches (${
      project === null ? "all your projects" : `project ${project}`
    }). Save conventions, decisions and fixes with save_memory (with repo and file_path) and later sessions get them here.`;
  return { project, text, tokens: estimateTokens(text), truncated: false, items: [] };
}
