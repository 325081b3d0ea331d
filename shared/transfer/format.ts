/**
 * The export format: JSON Lines, one memory per line, UTF-8. JSON escapes every control
 * character (CR, LF, TAB, …), so content of any shape round-trips byte for byte and a line
 * break always ends a record. Each line names its project by slug (with name and description
 * to recreate it), so a file moves between users and deployments; ids and timestamps travel
 * as they are. `user_id`, `project_id`, `content_hash` and `embedding_status` describe the
 * source and are informational: import recomputes or reassigns them.
 */
import * as z from "zod";
import { sha256Hex } from "../auth/api_keys.ts";
import { EMBEDDING_DIMENSIONS } from "../embeddings/types.ts";
import { AppError } from "../errors.ts";
import { MAX_CONTENT_BYTES, MAX_TAGS, MAX_TITLE_CHARS, MEMORY_KINDS } from "../memory/limits.ts";
import { formatIssues, metadata, storable, uuid } from "../memory/schemas.ts";

/** Bumped on incompatible changes; import refuses versions it does not know. */
export const FORMAT_VERSION = 1;

// Validation mirrors the table's own checks, not the stricter API rules: every row the database
// holds must export and import again, and a line that passes never fails inside the insert.
/**
 * Text exactly as stored: no trimming or case folding, so the round trip is exact; and only
 * text the database can hold as it is (no NUL, no unpaired surrogate: no silent U+FFFD).
 */
const text = (max: number) => storable(z.string().max(max));
const optionalText = (max: number) => text(max).nullable().default(null);
// Microsecond precision (Postgres' own); Date would round to milliseconds.
const timestamp = z.iso.datetime({ offset: true, message: "must be an ISO 8601 date-time" });

export const memoryRecordSchema = z.object({
  format: z.literal(FORMAT_VERSION).default(FORMAT_VERSION),
  id: uuid,
  user_id: uuid.optional(),
  project_id: uuid.optional(),
  project: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, "must be a project slug"),
  project_name: text(100).min(1),
  project_description: optionalText(2000),
  project_is_default: z.boolean().default(false),
  kind: z.enum(MEMORY_KINDS),
  title: optionalText(MAX_TITLE_CHARS),
  content: storable(z.string().min(1)).refine(
    (s) => new TextEncoder().encode(s).length <= MAX_CONTENT_BYTES,
    `must be at most ${MAX_CONTENT_BYTES} bytes (UTF-8)`,
  ),
  tags: z.array(storable(z.string())).max(MAX_TAGS).default([]),
  metadata: metadata.default({}),
  repo: optionalText(500),
  file_path: optionalText(1000),
  language: optionalText(50),
  symbol: optionalText(300),
  commit_sha: optionalText(64),
  importance: z.number().min(0).max(1).default(0.5),
  content_hash: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  embedding_status: z.enum(["pending", "ready", "failed"]).optional(),
  embedding_model: z.string().min(1).nullable().default(null),
  embedding: z.array(z.number().finite()).length(EMBEDDING_DIMENSIONS).nullable().optional(),
  version: z.number().int().min(1).default(1),
  created_at: timestamp,
  updated_at: timestamp,
  last_accessed_at: timestamp.nullable().default(null),
  access_count: z.number().int().min(0).default(0),
  expires_at: timestamp.nullable().default(null),
});

export type MemoryRecord = z.infer<typeof memoryRecordSchema>;

/** A bad line: the message names the line so the user can fix the file. */
export const lineError = (line: number, message: string) =>
  new AppError({
    status: 400,
    code: "bad_request",
    message: `line ${line}: ${message}`,
    details: { line },
  });

/** One record as one line (with its trailing newline). */
export function formatRecord(record: MemoryRecord): string {
  return JSON.stringify(record) + "\n";
}

export interface ParsedLine {
  line: number;
  record: MemoryRecord;
}

/**
 * Parses and validates a whole JSONL text before anything is written, so a bad line stops the
 * import with its number. Blank lines are skipped; a UTF-8 BOM and CRLF line ends are accepted.
 * `firstLine` numbers the lines of a chunk as they are numbered in the whole file.
 */
export async function parseRecords(jsonl: string, firstLine = 1): Promise<ParsedLine[]> {
  const lines = jsonl.replace(/^\uFEFF/, "").split("\n");
  const parsed: ParsedLine[] = [];
  const seen = new Map<string, number>();
  for (const [i, raw] of lines.entries()) {
    const line = firstLine + i;
    if (raw.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (err) {
      throw lineError(line, `not valid JSON (${(err as Error).message})`);
    }
    const result = memoryRecordSchema.safeParse(value);
    if (!result.success) throw lineError(line, formatIssues(result.error));
    const record = result.data;
    if (record.content_hash && record.content_hash !== await sha256Hex(record.content)) {
      throw lineError(line, "content does not match content_hash: the file was altered");
    }
    const earlier = seen.get(record.id);
    if (earlier !== undefined) throw lineError(line, `id ${record.id} already on line ${earlier}`);
    seen.set(record.id, line);
    parsed.push({ line, record });
  }
  return parsed;
}
