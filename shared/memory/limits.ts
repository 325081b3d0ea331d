/** Limits shared by validation and the database checks (see the foundation migration). */
export const MAX_CONTENT_BYTES = 32 * 1024;
export const MAX_TITLE_CHARS = 300;
export const MAX_TAGS = 32;
export const MAX_TAG_CHARS = 50;
export const MAX_METADATA_BYTES = 16 * 1024;
/** jsonb parses recursively: PGlite overflows its stack on JSON a few thousand levels deep. */
export const MAX_METADATA_DEPTH = 32;
export const DEFAULT_LIST_LIMIT = 20;
export const MAX_LIST_LIMIT = 100;
export const DEFAULT_PROJECT_SLUG = "default";

export const MEMORY_KINDS = [
  "decision",
  "fact",
  "solution",
  "snippet",
  "preference",
  "note",
  "qa",
  "convention",
  "bug",
  "todo",
] as const;
export type MemoryKind = typeof MEMORY_KINDS[number];
