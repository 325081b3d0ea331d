import * as z from "zod";
import { kind, projectRef, shortText, storable, tags, timestamp } from "../memory/schemas.ts";

/** Limits of a search request (REST and MCP validate the same shape). */
export const MAX_QUERY_CHARS = 2000;
export const DEFAULT_SEARCH_LIMIT = 10;
export const MAX_SEARCH_LIMIT = 50;
/** Several projects may be searched at once, up to this many. */
export const MAX_SEARCH_PROJECTS = 20;

export const SEARCH_MODES = ["hybrid", "semantic", "keyword"] as const;
export type SearchMode = typeof SEARCH_MODES[number];

/** Descriptions are written for a model choosing arguments (MCP clients show them verbatim). */
export const searchShape = {
  // Storable: the query is recorded for analytics, and an unpaired surrogate is invalid JSON there.
  query: storable(z.string().trim().min(1, "query must not be empty").max(MAX_QUERY_CHARS))
    .describe(
      `What you are looking for, in plain words or keywords (≤ ${MAX_QUERY_CHARS} chars). Memories match by meaning or by words (those containing every word rank first); "quoted phrase" works. An empty result means nothing relevant is stored.`,
    ),
  limit: z.coerce.number().int().min(1).max(MAX_SEARCH_LIMIT).optional().describe(
    `How many results (1..${MAX_SEARCH_LIMIT}, default ${DEFAULT_SEARCH_LIMIT}).`,
  ),
  project: z.union([projectRef, z.array(projectRef).min(1).max(MAX_SEARCH_PROJECTS)]).optional()
    .describe(
      "Only this project, or these projects (refs from list_projects: your slug, a shared project's id). Omit to search all projects.",
    ),
  kinds: z.array(kind).min(1).max(10).optional().describe(
    "Only memories of these kinds, e.g. ['decision', 'bug'].",
  ),
  tags: tags.optional().describe("Only memories carrying these tags (see tags_mode)."),
  tags_mode: z.enum(["any", "all"]).optional().describe(
    "'any' (default): at least one of the tags; 'all': every tag.",
  ),
  since: timestamp.optional().describe("Only memories created at or after this time (ISO 8601)."),
  until: timestamp.optional().describe("Only memories created before this time (ISO 8601)."),
  repo: shortText(500).optional().describe("Only memories of this repository, exactly as saved."),
  file_path: shortText(1000).optional().describe(
    "Only memories whose file path starts with this, e.g. 'src/auth/'.",
  ),
  min_similarity: z.coerce.number().min(0).max(1).optional().describe(
    "Relevance floor (0..1): leave out memories less similar in meaning than this unless they contain every query word. The default suits the embedding model; 0 returns the nearest memories however unrelated.",
  ),
  include_superseded: z.boolean().optional().describe(
    "Also return memories that a newer memory supersedes (left out by default).",
  ),
  mode: z.enum(SEARCH_MODES).optional().describe(
    "hybrid (default): meaning and keywords combined; semantic: meaning only; keyword: exact words only. Without a semantic embedding model, semantic runs as keyword and says so in a note.",
  ),
};
export const searchSchema = z.strictObject(searchShape);
export type SearchInput = z.infer<typeof searchSchema>;
