import * as z from "zod";
import { MEMORY_KINDS } from "../memory/limits.ts";
import { ROLES } from "../memory/teams.ts";
import { SEARCH_MODES } from "../search/schemas.ts";

/**
 * Output schemas of the MCP tools: what `structuredContent` holds, for clients that act on
 * results instead of reading the fenced text (the SDK validates every result against them, on
 * the server and in the client). Objects are open (z.looseObject): a field added later is not a
 * breaking change for a client built against an older list.
 */

const id = z.string().describe("A UUID.");
const time = z.string().describe("ISO 8601 date-time.");
const nullableText = z.string().nullable();
const kind = z.enum(MEMORY_KINDS);
const role = z.enum(ROLES);

/** What a memory's author writes, in a memory and in each of its earlier versions. */
const authoredFields = {
  kind,
  title: nullableText,
  content: z.string(),
  tags: z.array(z.string()),
  metadata: z.record(z.string(), z.unknown()),
  repo: nullableText,
  file_path: nullableText,
  language: nullableText,
  symbol: nullableText,
  commit_sha: nullableText,
  importance: z.number(),
};

export const memoryOutput = z.looseObject({
  id,
  user_id: id,
  project_id: id,
  project: z.string().describe("The project's ref: your own project's slug, a shared one's id."),
  ...authoredFields,
  content_hash: z.string(),
  embedding_status: z.enum(["pending", "ready", "failed"]),
  embedding_model: nullableText,
  version: z.number().int(),
  created_at: time,
  updated_at: time,
  last_accessed_at: time.nullable(),
  access_count: z.number().int(),
  expires_at: time.nullable(),
});

export const memoryVersionOutput = z.looseObject({
  version: z.number().int(),
  ...authoredFields,
  written_by: id.nullable(),
  written_at: time,
  replaced_at: time,
});

export const nearDuplicateOutput = z.looseObject({
  id,
  project: z.string(),
  kind,
  title: nullableText,
  similarity: z.number().describe("Cosine similarity to the saved text (0..1)."),
  updated_at: time,
});

export const duplicateCheckOutput = z.union([
  z.looseObject({ status: z.literal("checked"), model: z.string(), threshold: z.number() }),
  z.looseObject({ status: z.literal("skipped"), reason: z.string() }),
]);

export const searchHitOutput = memoryOutput.extend({
  score: z.number(),
  semantic_score: z.number().nullable(),
  keyword_score: z.number().nullable(),
});

export const projectOutput = z.looseObject({
  id,
  ref: z.string().describe("What to pass as `project`."),
  owner_id: id,
  name: z.string(),
  slug: z.string(),
  description: nullableText,
  is_default: z.boolean(),
  role,
  created_at: time,
});

export const listedProjectOutput = projectOutput.extend({
  memory_count: z.number().int(),
  pending_embeddings: z.number().int(),
  failed_embeddings: z.number().int(),
});

export const memberOutput = z.looseObject({
  user_id: id,
  email: nullableText,
  role,
  added_at: time,
});

export const invitationOutput = z.looseObject({
  id,
  project_id: id,
  email: z.string(),
  role,
  created_at: time,
  expires_at: time,
});

export const incomingInvitationOutput = z.looseObject({
  id,
  project_id: id,
  project_name: z.string(),
  project_slug: z.string(),
  role,
  invited_by_email: nullableText,
  created_at: time,
  expires_at: time,
});

// One per tool --------------------------------------------------------------------------------

export const saveOutput = z.looseObject({
  memory: memoryOutput,
  duplicate: z.boolean().describe("The identical content was already stored: that memory."),
  merged: z.boolean().describe("on_duplicate 'merge' updated the closest near-duplicate."),
  near_duplicates: z.array(nearDuplicateOutput),
  duplicate_check: duplicateCheckOutput,
  project_created: z.boolean(),
  notes: z.array(z.string()),
});

export const getOutput = z.looseObject({
  memory: memoryOutput,
  supersedes: id.nullable().describe("The older memory this one replaces."),
  superseded_by: z.array(id).describe("Newer memories that replace this one, newest first."),
  updated_by: id.describe("Who wrote the current version."),
  history: z.array(memoryVersionOutput).optional().describe(
    "Earlier versions, newest first (with include_history).",
  ),
});

export const memoryResultOutput = z.looseObject({ memory: memoryOutput });

export const restoreOutput = z.looseObject({
  memory: memoryOutput,
  restored_version: z.number().int(),
});

export const deleteOutput = z.looseObject({
  id,
  deleted: z.literal(true),
  versions_deleted: z.number().int().describe("Earlier versions deleted with it (none is kept)."),
});

export const searchOutput = z.looseObject({
  query: z.string(),
  mode: z.enum(SEARCH_MODES),
  effective_mode: z.enum(SEARCH_MODES),
  model: nullableText,
  hits: z.array(searchHitOutput),
  notes: z.array(z.string()),
  cached: z.boolean(),
});

export const listOutput = z.looseObject({
  memories: z.array(memoryOutput),
  next_cursor: nullableText,
});

export const listProjectsOutput = z.looseObject({
  projects: z.array(listedProjectOutput),
  invitations: z.array(incomingInvitationOutput),
});

export const createProjectOutput = z.looseObject({ project: projectOutput });

export const membersOutput = z.looseObject({ project_id: id, members: z.array(memberOutput) });

// Tool output schemas are objects at the top (MCP requires `type: object`): alternatives are
// optional fields.
export const shareOutput = z.looseObject({
  project_id: id,
  project: projectOutput,
  invitation: invitationOutput.optional().describe("A new invitation (not yet a member)."),
  member: memberOutput.optional().describe("An existing member, with their new role."),
});

export const unshareOutput = z.looseObject({
  removed: z.literal(true).optional().describe("A member was removed (project_id, user_id)."),
  project_id: id.optional(),
  user_id: id.optional(),
  withdrawn: z.literal(true).optional().describe("A pending invitation was withdrawn (id)."),
  id: id.optional(),
});

export const acceptOutput = z.looseObject({ project: projectOutput, member: memberOutput });

export const declineOutput = z.looseObject({ id, declined: z.literal(true) });
