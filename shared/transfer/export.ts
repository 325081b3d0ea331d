import { asUser } from "../db/as_user.ts";
import type { Database } from "../db/types.ts";
import { notFound } from "../errors.ts";
import { type MemoryRecord, memoryRecordSchema } from "./format.ts";

export interface ExportOptions {
  /** Include vectors (and their model) of embedded rows; off by default: they are large. */
  withEmbeddings?: boolean;
  /** Only this project (slug of one of the user's projects). */
  project?: string;
  pageSize?: number;
}

// Exact to the microsecond, unlike a JS Date, so imported rows compare equal.
const iso = (column: string) =>
  `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

const columns = (withEmbeddings: boolean) => `
  m.id, m.user_id, m.project_id, p.slug as project, p.name as project_name,
  p.description as project_description, p.is_default as project_is_default, m.kind, m.title,
  m.content, m.tags, m.metadata, m.repo, m.file_path, m.language, m.symbol, m.commit_sha,
  m.importance, m.content_hash, m.embedding_status, m.embedding_model, m.version,
  ${iso("m.created_at")} as created_at, ${iso("m.updated_at")} as updated_at,
  ${iso("m.last_accessed_at")} as last_accessed_at, m.access_count,
  ${iso("m.expires_at")} as expires_at,
  ${withEmbeddings ? "case when m.embedding_status = 'ready' then m.embedding::text end" : "null"}
    as embedding`;

/**
 * Every memory in the projects the user owns (shared projects are exported by their owner),
 * oldest first, read as the user so row level security applies. Pages are separate short
 * transactions: a long export never holds a connection or locks.
 */
export async function* exportRecords(
  db: Database,
  userId: string,
  opts: ExportOptions = {},
): AsyncGenerator<MemoryRecord> {
  const pageSize = opts.pageSize ?? 500;
  const withEmbeddings = opts.withEmbeddings ?? false;
  if (opts.project !== undefined) await assertOwnProject(db, userId, opts.project);
  let after: { t: string; id: string } | null = null;
  while (true) {
    // The cursor's time goes in as text: a driver would round a timestamptz parameter to ms.
    const params: unknown[] = [userId, opts.project ?? null, after?.t ?? null, after?.id ?? null];
    const rows: Record<string, unknown>[] = await asUser(db, userId, (tx) =>
      tx.query(
        `select ${columns(withEmbeddings)}
         from memories m join projects p on p.id = m.project_id
         where p.owner_id = $1 and ($2::text is null or p.slug = $2)
           and ($3::text is null or (m.created_at, m.id) > ($3::text::timestamptz, $4::uuid))
         order by m.created_at, m.id
         limit ${pageSize}`,
        params,
      ));
    for (const row of rows) yield toRecord(row);
    if (rows.length < pageSize) return;
    const last = rows.at(-1)!;
    after = { t: String(last.created_at), id: String(last.id) };
  }
}

async function assertOwnProject(db: Database, userId: string, slug: string): Promise<void> {
  const found = await asUser(
    db,
    userId,
    (tx) => tx.query("select 1 from projects where owner_id = $1 and slug = $2", [userId, slug]),
  );
  if (found.length === 0) throw notFound(`You own no project '${slug}'`);
}

/** Drivers differ (numbers as strings, vectors as text); the schema gives one exact shape. */
function toRecord(row: Record<string, unknown>): MemoryRecord {
  return memoryRecordSchema.parse({
    ...row,
    importance: Number(row.importance),
    version: Number(row.version),
    access_count: Number(row.access_count),
    embedding: row.embedding == null ? undefined : JSON.parse(String(row.embedding)),
    embedding_model: row.embedding == null ? null : row.embedding_model,
  });
}
