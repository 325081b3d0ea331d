import type { Queryable } from "../db/types.ts";
import { notFound } from "../errors.ts";
import { iso } from "./rows.ts";
import type { Memory, MemoryLinks, MemoryVersion } from "./types.ts";

// Run inside asUser(): memory_versions rows are visible exactly where their memory is (RLS).

const VERSION_COLUMNS = `v.version, v.kind, v.title, v.content, v.tags, v.metadata, v.repo,
  v.file_path, v.language, v.symbol, v.commit_sha, v.importance, v.written_by, v.written_at,
  v.replaced_at`;

function toVersion(row: Record<string, unknown>): MemoryVersion {
  return {
    ...(row as unknown as MemoryVersion),
    version: Number(row.version),
    importance: Number(row.importance),
    written_at: iso(row.written_at)!,
    replaced_at: iso(row.replaced_at)!,
  };
}

/** Earlier versions of a memory, newest first. */
export async function versions(tx: Queryable, memoryId: string): Promise<MemoryVersion[]> {
  const rows = await tx.query(
    `select ${VERSION_COLUMNS} from memory_versions v where v.memory_id = $1
     order by v.version desc`,
    [memoryId],
  );
  return rows.map(toVersion);
}

/** One earlier version, or a 404 that lists the versions there are. */
export async function version(
  tx: Queryable,
  memoryId: string,
  n: number,
): Promise<MemoryVersion> {
  const [row] = await tx.query(
    `select ${VERSION_COLUMNS} from memory_versions v where v.memory_id = $1 and v.version = $2`,
    [memoryId, n],
  );
  if (row) return toVersion(row);
  const kept = await tx.query<{ version: number }>(
    "select version from memory_versions where memory_id = $1 order by version",
    [memoryId],
  );
  const list = kept.length
    ? `earlier versions: ${kept.map((k) => k.version).join(", ")}`
    : "no earlier versions";
  throw notFound(`Memory ${memoryId} has no earlier version ${n} (${list})`);
}

/** The fields of a version that restoring it writes back. */
export function restorable(v: MemoryVersion) {
  const { kind, title, content, tags, metadata, repo, file_path, language, symbol, commit_sha } = v;
  return {
    kind,
    title,
    content,
    tags,
    metadata,
    repo,
    file_path,
    language,
    symbol,
    commit_sha,
    importance: v.importance,
  };
}

/** A memory's supersedes links both ways (superseded_by: same project, visible). */
export async function links(tx: Queryable, memory: Memory): Promise<MemoryLinks> {
  const [row] = await tx.query<{ supersedes: string | null; updated_by: string | null }>(
    "select supersedes, coalesce(updated_by, user_id) as updated_by from memories where id = $1",
    [memory.id],
  );
  const newer = await tx.query<{ id: string }>(
    `select s.id from memories s where s.supersedes = $1 and s.project_id = $2
     order by s.created_at desc, s.id`,
    [memory.id, memory.project_id],
  );
  return {
    supersedes: row?.supersedes ?? null,
    superseded_by: newer.map((n) => n.id),
    updated_by: row?.updated_by ?? memory.user_id,
  };
}
