/**
 * The labelled evaluation set: two JSONL files in one directory (format in eval/README.md).
 * Parsing is strict and reports every problem with its file and line, so a hand-edited or
 * external set fails loudly instead of quietly scoring against a broken key.
 */
import { MEMORY_KINDS } from "../memory/limits.ts";

/**
 * paraphrase, keyword and mixed queries are answered by short memories; `long` ones only by the
 * second half of a long memory; `none` queries have no relevant memory at all (the right
 * answer is an empty result).
 */
export const QUERY_TYPES = ["paraphrase", "keyword", "mixed", "long", "none"] as const;
export type QueryType = typeof QUERY_TYPES[number];
/** Query types that have an answer (ranked metrics apply to these). */
export const ANSWERABLE_TYPES: readonly QueryType[] = ["paraphrase", "keyword", "mixed", "long"];

export interface EvalMemory {
  id: string;
  content: string;
  title?: string;
  kind?: typeof MEMORY_KINDS[number];
  tags?: string[];
  project?: string;
}

export interface EvalQuery {
  id: string;
  query: string;
  /** Memory id → grade: 2 = the answer, 1 = related/useful. Empty for type `none`. */
  relevant: Record<string, number>;
  type: QueryType;
}

export interface EvalSet {
  memories: EvalMemory[];
  queries: EvalQuery[];
}

export class EvalSetError extends Error {
  constructor(readonly problems: string[]) {
    super(
      `invalid evaluation set:\n  ${problems.slice(0, 20).join("\n  ")}${
        problems.length > 20 ? `\n  … and ${problems.length - 20} more` : ""
      }`,
    );
  }
}

/** Non-blank lines parsed as JSON objects; blank lines are skipped, line numbers kept. */
function* jsonLines(text: string, file: string, problems: string[]) {
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() === "") continue;
    try {
      const value = JSON.parse(lines[i]);
      if (typeof value !== "object" || value === null || Array.isArray(value)) {
        problems.push(`${file}:${i + 1}: not a JSON object`);
      } else yield { line: i + 1, value: value as Record<string, unknown> };
    } catch (err) {
      problems.push(`${file}:${i + 1}: ${(err as Error).message}`);
    }
  }
}

const isString = (v: unknown): v is string => typeof v === "string" && v.trim() !== "";
const SLUG = /^[a-z0-9][a-z0-9_-]{0,62}$/;

function checkMemory(v: Record<string, unknown>, where: string, problems: string[]) {
  if (!isString(v.id)) problems.push(`${where}: "id" must be a non-empty string`);
  if (!isString(v.content)) problems.push(`${where}: "content" must be a non-empty string`);
  if (v.title !== undefined && typeof v.title !== "string") {
    problems.push(`${where}: "title" must be a string`);
  }
  if (v.kind !== undefined && !(MEMORY_KINDS as readonly unknown[]).includes(v.kind)) {
    problems.push(`${where}: "kind" must be one of ${MEMORY_KINDS.join(", ")}`);
  }
  if (v.tags !== undefined && !(Array.isArray(v.tags) && v.tags.every(isString))) {
    problems.push(`${where}: "tags" must be an array of strings`);
  }
  if (v.project !== undefined && !(typeof v.project === "string" && SLUG.test(v.project))) {
    problems.push(`${where}: "project" must be a slug like "web-app"`);
  }
}

function checkQuery(v: Record<string, unknown>, where: string, problems: string[]) {
  if (!isString(v.id)) problems.push(`${where}: "id" must be a non-empty string`);
  if (!isString(v.query)) problems.push(`${where}: "query" must be a non-empty string`);
  if (!(QUERY_TYPES as readonly unknown[]).includes(v.type)) {
    problems.push(`${where}: "type" must be one of ${QUERY_TYPES.join(", ")}`);
  }
  const rel = v.relevant;
  if (typeof rel !== "object" || rel === null || Array.isArray(rel)) {
    problems.push(`${where}: "relevant" must be an object {memoryId: grade}`);
    return;
  }
  const grades = Object.values(rel);
  if (grades.some((g) => g !== 1 && g !== 2)) {
    problems.push(`${where}: grades must be 1 or 2`);
  }
  if (v.type === "none") {
    if (grades.length > 0) problems.push(`${where}: a "none" query has no relevant memory`);
  } else if (!grades.includes(2)) problems.push(`${where}: needs at least one grade-2 memory`);
}

/** Parses and checks both files' text; throws EvalSetError listing every problem. */
export function parseEvalSet(memoriesText: string, queriesText: string): EvalSet {
  const problems: string[] = [];
  const memories: EvalMemory[] = [];
  const queries: EvalQuery[] = [];
  const memoryIds = new Set<string>();
  for (const { line, value } of jsonLines(memoriesText, "memories.jsonl", problems)) {
    const where = `memories.jsonl:${line}`;
    checkMemory(value, where, problems);
    const id = value.id as string;
    if (memoryIds.has(id)) problems.push(`${where}: duplicate id ${id}`);
    memoryIds.add(id);
    memories.push(value as unknown as EvalMemory);
  }
  // The service merges exact duplicates within a project, which would silently drop an id.
  const seen = new Map<string, string>();
  for (const m of memories) {
    const key = `${m.project ?? ""}\n${m.content}`;
    const other = seen.get(key);
    if (other !== undefined) problems.push(`memories.jsonl: ${m.id} duplicates ${other}`);
    else seen.set(key, m.id);
  }
  const queryIds = new Set<string>();
  for (const { line, value } of jsonLines(queriesText, "queries.jsonl", problems)) {
    const where = `queries.jsonl:${line}`;
    checkQuery(value, where, problems);
    const id = value.id as string;
    if (queryIds.has(id)) problems.push(`${where}: duplicate id ${id}`);
    queryIds.add(id);
    for (const ref of Object.keys((value.relevant ?? {}) as object)) {
      if (!memoryIds.has(ref)) problems.push(`${where}: unknown memory id ${ref}`);
    }
    queries.push(value as unknown as EvalQuery);
  }
  if (memories.length === 0) problems.push("memories.jsonl: no memories");
  if (queries.length === 0) problems.push("queries.jsonl: no queries");
  if (problems.length > 0) throw new EvalSetError(problems);
  return { memories, queries };
}

/** Reads `<dir>/memories.jsonl` and `<dir>/queries.jsonl`. */
export async function loadEvalSet(dir: string): Promise<EvalSet> {
  const read = (name: string) => Deno.readTextFile(`${dir.replace(/\/+$/, "")}/${name}`);
  return parseEvalSet(await read("memories.jsonl"), await read("queries.jsonl"));
}
