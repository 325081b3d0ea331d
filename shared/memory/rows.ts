import type { Memory, Project } from "./types.ts";

/**
 * How the caller names project `p` (run as the user): the slug of a project they own, the id of
 * one shared with them. A bare slug always means the caller's own project (projects.ts), so
 * results show every project the way it must be passed back.
 */
export const projectRefSql = (p: string) =>
  `case when ${p}.owner_id = auth.uid() then ${p}.slug else ${p}.id::text end`;

/**
 * Columns selected for a memory (never the embedding or the tsvector), `project` being its
 * project's reference (projectRefSql). `m` = memories, `p` = projects.
 */
export const MEMORY_COLUMNS = `m.id, m.user_id, m.project_id, ${
  projectRefSql("p")
} as project, m.kind, m.title,
  m.content, m.tags, m.metadata, m.repo, m.file_path, m.language, m.symbol, m.commit_sha,
  m.importance, m.content_hash, m.embedding_status, m.embedding_model, m.version, m.created_at,
  m.updated_at, m.last_accessed_at, m.access_count, m.expires_at`;

/** A memory (`m`) that has not expired: expired ones are never shown. */
export const NOT_EXPIRED = `(m.expires_at is null or m.expires_at > now())`;

export const PROJECT_COLUMNS = `p.id, ${projectRefSql("p")} as ref, p.owner_id, p.name, p.slug,
  p.description, p.is_default, pm.role, p.created_at`;

export const iso = (
  v: unknown,
) => (v instanceof Date ? v.toISOString() : v == null ? null : String(v));

/** Both drivers return Dates and numbers slightly differently; normalise to JSON-ready values. */
export function toMemory(row: Record<string, unknown>): Memory {
  return {
    ...(row as unknown as Memory),
    importance: Number(row.importance),
    version: Number(row.version),
    access_count: Number(row.access_count),
    created_at: iso(row.created_at)!,
    updated_at: iso(row.updated_at)!,
    last_accessed_at: iso(row.last_accessed_at),
    expires_at: iso(row.expires_at),
  };
}

export function toProject(row: Record<string, unknown>): Project {
  return { ...(row as unknown as Project), created_at: iso(row.created_at)! };
}
