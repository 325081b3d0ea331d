import * as z from "zod";
import { projectRef, shortText, storable } from "../memory/schemas.ts";
import { MAX_QUERY_CHARS } from "../search/schemas.ts";

/** Limits of a brief request (REST and MCP validate the same shape). */
export const MAX_BRIEF_PATHS = 50;
export const MIN_BRIEF_TOKENS = 200;
export const MAX_BRIEF_TOKENS = 8000;
export const DEFAULT_BRIEF_TOKENS = 1500;

/** Descriptions are written for a model choosing arguments (MCP clients show them verbatim). */
export const briefShape = {
  project: projectRef.optional().describe(
    "Project ref from list_projects (your slug, or a shared project's id). Omitted: the project of yours whose slug is the repo's name, if any.",
  ),
  repo: shortText(500).optional().describe(
    "The repository you work in, in any usual form: 'github.com/acme/api', 'https://github.com/acme/api', 'git@github.com:acme/api.git'.",
  ),
  paths: z.array(shortText(1000)).max(MAX_BRIEF_PATHS).optional().describe(
    `Files you are about to touch, relative to the repository root, e.g. ['src/auth/jwt.ts'] (≤ ${MAX_BRIEF_PATHS}); a path ending in '/' means everything under that directory.`,
  ),
  task: storable(z.string().trim().min(1).max(MAX_QUERY_CHARS)).optional().describe(
    "What you are about to do, in plain words: the memories closest to it in meaning are included.",
  ),
  max_tokens: z.coerce.number().int().min(MIN_BRIEF_TOKENS).max(MAX_BRIEF_TOKENS).optional()
    .describe(
      `Size budget of the brief in tokens (${MIN_BRIEF_TOKENS}..${MAX_BRIEF_TOKENS}, default ${DEFAULT_BRIEF_TOKENS}); sections are trimmed to fit and the brief says so.`,
    ),
};

export const AT_LEAST_ONE = "pass at least one of project, repo, paths or task";

export const briefSchema = z.strictObject(briefShape).refine(
  (b) => b.project !== undefined || b.repo !== undefined || !!b.paths?.length || !!b.task,
  AT_LEAST_ONE,
);
export type BriefInput = z.infer<typeof briefSchema>;

export const BRIEF_SECTIONS = ["conventions", "files", "decisions", "task"] as const;
export type BriefSection = typeof BRIEF_SECTIONS[number];

export const briefItemSchema = z.object({
  id: z.string(),
  section: z.enum(BRIEF_SECTIONS),
  kind: z.string(),
  title: z.string().nullable(),
});
export type BriefItem = z.infer<typeof briefItemSchema>;

/** The answer of POST /memories/brief and get_session_brief's structuredContent. */
export const briefOutputShape = {
  project: z.string().nullable().describe("The project the brief is about (its ref), or null."),
  text: z.string().describe("The brief as markdown for a model's context, stored text fenced."),
  tokens: z.number().int().describe("Estimated size of text in tokens (characters / 4)."),
  truncated: z.boolean().describe("True when items were left out to fit max_tokens."),
  items: z.array(briefItemSchema).describe("Every memory in the brief, in order: get_memory(id)."),
};
export const briefOutputSchema = z.object(briefOutputShape);
export type Brief = z.infer<typeof briefOutputSchema>;
