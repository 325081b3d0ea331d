import * as z from "zod";
import {
  MAX_CONTENT_BYTES,
  MAX_LIST_LIMIT,
  MAX_METADATA_BYTES,
  MAX_METADATA_DEPTH,
  MAX_TAG_CHARS,
  MAX_TAGS,
  MAX_TITLE_CHARS,
  MEMORY_KINDS,
} from "./limits.ts";
import { UUID } from "./uuid.ts";

/**
 * Input schemas shared by the REST API and the MCP tools. Descriptions are written for a model
 * choosing arguments, since MCP clients show them verbatim.
 */

const utf8Bytes = (s: string) => new TextEncoder().encode(s).length;
const noNul = (s: string) => !s.includes("\0");

/**
 * Text as Postgres stores it faithfully: no NUL (text cannot hold it) and no unpaired UTF-16
 * surrogate (it would be written as U+FFFD). Both are refused with a clear message instead of a
 * driver error or a silently changed value. The path in the error names the field.
 */
export const storable = <T extends z.ZodString>(s: T): T =>
  s.refine(noNul, "must not contain NUL characters")
    .refine(
      (v) => v.isWellFormed(),
      "must not contain unpaired UTF-16 surrogates (invalid Unicode)",
    );

export const uuid = z.uuid({ message: "must be a UUID like 123e4567-e89b-12d3-a456-426614174000" });

export const content = storable(
  z.string().refine((s) => s.trim().length > 0, "content must not be empty"),
).refine(
  (s) => utf8Bytes(s) <= MAX_CONTENT_BYTES,
  `content must be at most ${MAX_CONTENT_BYTES} bytes (UTF-8); split it into several memories`,
);

/** Optional, but never blank: omit it rather than send "" (surrounding whitespace is trimmed). */
export const title = storable(
  z.string().trim().min(1, "title must not be empty; omit it instead").max(MAX_TITLE_CHARS),
);

const TAG = /^[\p{L}\p{N}][\p{L}\p{N}._:/+#-]*$/u;
export const tag = z.string().trim().toLowerCase().min(1).max(MAX_TAG_CHARS).regex(
  TAG,
  "tags are short words: letters, digits and . _ : / + # - (no spaces), starting with a letter or digit",
);
export const tags = z.array(tag).max(MAX_TAGS).transform((t) => [...new Set(t)]);

export const kind = z.enum(MEMORY_KINDS);

/**
 * A project reference: the slug of one of the user's own projects ("my-app"), or the id of any
 * project they belong to (shared projects are named by id); omitted means the default project.
 */
export const projectRef = z.string().trim().min(1).max(100).describe(
  "Project ref from list_projects: your own project's slug (e.g. 'my-app'), or the id of a project shared with you. Omit to use your default project.",
);

/** Nesting depth of a JSON value (a scalar is 0), counted only up to `limit + 1`. */
const depthOver = (v: unknown, limit: number): boolean =>
  limit < 0 ||
  (typeof v === "object" && v !== null && Object.values(v).some((x) => depthOver(x, limit - 1)));

// In JSON.stringify output, NUL and unpaired surrogates are the only \u0000 and \udXXX escapes
// (not preceded by an escaped backslash); jsonb refuses both.
const JSON_NUL = /(?:^|[^\\])(?:\\\\)*\\u0000/;
const JSON_LONE_SURROGATE = /(?:^|[^\\])(?:\\\\)*\\ud[89a-f][0-9a-f]{2}/;
/** A memory's metadata: a JSON object that jsonb stores exactly, within the limits. */
export const metadata = z.preprocess(
  (m, ctx) => {
    // zod drops a top-level "__proto__" key (prototype safety): refuse it rather than lose it.
    if (m !== null && typeof m === "object" && Object.hasOwn(m, "__proto__")) {
      ctx.addIssue({ code: "custom", message: "metadata must not have a '__proto__' key" });
    }
    return m;
  },
  z.record(z.string(), z.unknown()).refine(
    // First, and bounded: JSON.stringify recurses and overflows the stack on very deep values.
    (m) => !depthOver(m, MAX_METADATA_DEPTH),
    { message: `metadata must not nest deeper than ${MAX_METADATA_DEPTH} levels`, abort: true },
  ).refine(
    (m) => utf8Bytes(JSON.stringify(m)) <= MAX_METADATA_BYTES,
    { message: `metadata must be at most ${MAX_METADATA_BYTES} bytes as JSON`, abort: true },
  ).refine(
    (m) => !JSON_NUL.test(JSON.stringify(m)),
    "metadata must not contain NUL characters (in keys or values)",
  ).refine(
    (m) => !JSON_LONE_SURROGATE.test(JSON.stringify(m)),
    "metadata must not contain unpaired UTF-16 surrogates (invalid Unicode, in keys or values)",
  ),
);
export const shortText = (max: number) => storable(z.string().trim().min(1).max(max));
// Years 1 to 9999 in UTC: what ISO 8601 text round-trips through PostgreSQL (year 0 is refused
// there, and a later year no longer prints as four digits).
const EARLIEST = Date.parse("0001-01-01T00:00:00Z");
const LATEST = Date.parse("9999-12-31T23:59:59.999Z");
/** An ISO 8601 date-time with an offset (microseconds kept as text), in years 1–9999 UTC. */
export const timestamp = z.iso.datetime({ offset: true, message: "must be an ISO 8601 date-time" })
  .refine((s) => {
    const t = Date.parse(s);
    return t >= EARLIEST && t <= LATEST;
  }, "must lie between 0001-01-01 and 9999-12-31 (UTC)");

/** Fields a memory can carry besides its content. */
const memoryFields = {
  title: title.optional().describe("Short summary shown in results (≤ 300 chars)."),
  kind: kind.optional().describe(
    "What this is: decision, fact, solution, snippet, preference, note, qa, convention, bug, todo. Default note.",
  ),
  tags: tags.optional().describe("Keywords for filtering, e.g. ['auth', 'postgres']."),
  project: projectRef.optional(),
  metadata: metadata.optional().describe("Any extra JSON object."),
  repo: shortText(500).optional().describe("Repository, e.g. 'github.com/acme/api'."),
  file_path: shortText(1000).optional().describe(
    "File the memory is about, e.g. 'src/auth/jwt.ts'.",
  ),
  language: shortText(50).optional().describe("Programming language, e.g. 'typescript'."),
  symbol: shortText(300).optional().describe("Function/class/symbol name, e.g. 'verifyToken'."),
  commit_sha: shortText(64).optional().describe("Commit the memory refers to."),
  // Stored as a 4-byte real: rounded here, so a tiny value becomes 0 instead of a float4 underflow.
  importance: z.number().min(0).max(1).transform(Math.fround).optional().describe(
    "0..1, how important to recall (default 0.5).",
  ),
  expires_at: timestamp.nullable().optional().describe("When to forget it (ISO 8601), or null."),
};

export const ON_DUPLICATE = ["keep", "merge"] as const;

export const saveMemoryShape = {
  content: content.describe(
    `The knowledge to remember, self-contained (≤ ${MAX_CONTENT_BYTES} bytes). Markdown and code are fine.`,
  ),
  ...memoryFields,
  project: projectRef.optional().describe(
    "Project ref from list_projects, or a new name: a name that is not yet one of your projects creates it (as a slug: 'Backend API' → 'backend-api'). A project shared with you is named by its id. Omit for your default project.",
  ),
  supersedes: uuid.optional().describe(
    "Id of an older memory of the same project that this one replaces (e.g. a decision that changed): it stays readable but search leaves it out.",
  ),
  on_duplicate: z.enum(ON_DUPLICATE).optional().describe(
    "When existing memories of the project are near-duplicates of this one: 'keep' (default) saves it anyway and lists them; 'merge' updates the closest one with this content instead (its previous version stays in its history).",
  ),
};
export const saveMemorySchema = z.strictObject(saveMemoryShape);
export type SaveMemoryInput = z.infer<typeof saveMemorySchema>;

export const updateMemoryShape = {
  content: content.optional().describe(
    "New content; replaces the old content (the previous version stays in the history).",
  ),
  ...memoryFields,
  project: projectRef.optional().describe(
    "Move it to this project (a ref from list_projects, or a new name, which creates your own project of that name).",
  ),
  supersedes: uuid.nullable().optional().describe(
    "Id of an older memory of the same project that this one replaces (search then leaves that one out); null removes the link.",
  ),
  expected_version: z.number().int().min(1).optional().describe(
    "Only update if the memory still has this version (optimistic locking).",
  ),
};
export const updateMemorySchema = z.strictObject(updateMemoryShape);
export type UpdateMemoryInput = z.infer<typeof updateMemorySchema>;

export const listMemoriesShape = {
  project: projectRef.optional().describe(
    "Only this project (its ref from list_projects). Omit for all projects.",
  ),
  kind: kind.optional().describe("Only memories of this kind."),
  tags: tags.optional().describe("Only memories carrying all of these tags."),
  since: timestamp.optional().describe("Only memories created at or after this time."),
  until: timestamp.optional().describe("Only memories created before this time."),
  limit: z.coerce.number().int().min(1).max(MAX_LIST_LIMIT).optional().describe(
    `How many to return (1..${MAX_LIST_LIMIT}, default 20).`,
  ),
  cursor: z.string().max(200).optional().describe("next_cursor from the previous page."),
};
export const listMemoriesSchema = z.strictObject(listMemoriesShape);
export type ListMemoriesInput = z.infer<typeof listMemoriesSchema>;

/** get_memory / GET /memories/:id options. */
export const getMemoryShape = {
  include_history: z.preprocess(
    (v) => (v === "true" ? true : v === "false" ? false : v),
    z.boolean(),
  ).optional().describe("Also list the memory's earlier versions (newest first)."),
};
export const getMemoryQuerySchema = z.strictObject(getMemoryShape);

/** restore_memory / POST /memories/:id/restore. */
export const restoreMemoryShape = {
  version: z.number().int().min(1).describe(
    "The earlier version to bring back (from get_memory with include_history); it becomes a new version, the current one stays in the history.",
  ),
  expected_version: z.number().int().min(1).optional().describe(
    "Only restore if the memory still has this version (optimistic locking).",
  ),
};
export const restoreMemorySchema = z.strictObject(restoreMemoryShape);
export type RestoreMemoryInput = z.infer<typeof restoreMemorySchema>;

/** Tags in a query string: `tags=a,b`, or repeated `tags=a&tags=b` (then a list already). */
const splitTags = (v: unknown) =>
  typeof v === "string" || Array.isArray(v)
    ? [v].flat().flatMap((t) => String(t).split(",")).filter(Boolean)
    : v;

/** `GET /memories`'s query string: the list filters, every value a string. */
export const listMemoriesQuerySchema = z.strictObject({
  ...listMemoriesShape,
  tags: z.preprocess(splitTags, tags).optional(),
});

export const createProjectShape = {
  name: storable(z.string().trim().min(1).max(100)).describe(
    "Human-readable project name.",
  ),
  slug: z.string().trim().regex(
    /^[a-z0-9][a-z0-9_-]{0,62}$/,
    "slug: lowercase letters, digits, '-' or '_', at most 63 chars",
  ).refine((s) => !UUID.test(s), "slug must not look like a project id (a UUID)")
    .optional().describe("URL-safe short name; derived from the name when omitted."),
  description: storable(z.string().max(2000)).optional(),
};
export const createProjectSchema = z.strictObject(createProjectShape);
export type CreateProjectInput = z.infer<typeof createProjectSchema>;

/** One readable line per problem: "tags.0: tags are short words …". */
export function formatIssues(error: z.ZodError): string {
  return error.issues.map((i) => (i.path.length ? `${i.path.join(".")}: ${i.message}` : i.message))
    .join("; ");
}
