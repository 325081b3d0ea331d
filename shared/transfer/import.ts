import { asUser } from "../db/as_user.ts";
import type { Database, Queryable } from "../db/types.ts";
import { embeddingTexts } from "../embeddings/chunks.ts";
import type { MemoryRecord, ParsedLine } from "./format.ts";

export interface ImportOptions {
  /**
   * The target's embedding model. A vector travels only when it was made by this model; any
   * other memory arrives `pending` and the embedding webhook (or its sweep) embeds it here.
   */
  embeddingModel?: string;
}

export interface ImportSummary {
  /** Lines read. */
  records: number;
  /** New rows, with the file's ids. */
  inserted: number;
  /** New rows under a fresh id: the file's id belongs to a memory this user cannot see. */
  reassigned: number;
  /** Already here with the same id: left exactly as they are (re-importing changes nothing). */
  unchanged: number;
  /** Same content already in that project under another id (exact dedup, as on save). */
  duplicates: number;
  /** Inserted with their vector; the other inserted rows wait for the embedding webhook. */
  embedded: number;
  projects_created: string[];
}

const CHUNK = 200;

/**
 * Imports validated records for one user in one transaction, as that user (row level security
 * applies): all of it lands, or nothing does. Never updates or deletes: a memory that is already
 * there (same id, or same content in the same project) is left untouched, which is what makes
 * importing the same file twice a no-op. Projects are found or created by slug for this user.
 */
export async function importRecords(
  db: Database,
  userId: string,
  lines: ParsedLine[],
  opts: ImportOptions = {},
): Promise<ImportSummary> {
  const records = lines.map((l) => l.record);
  return await asUser(db, userId, async (tx) => {
    const { projectIds, created } = await ensureProjects(tx, userId, records);
    const summary: ImportSummary = {
      records: records.length,
      inserted: 0,
      reassigned: 0,
      unchanged: 0,
      duplicates: 0,
      embedded: 0,
      projects_created: created,
    };
    for (let i = 0; i < records.length; i += CHUNK) {
      const chunk = records.slice(i, i + CHUNK);
      const rows = chunk.map((r) => toRow(r, projectIds.get(r.project)!, opts.embeddingModel));
      const inserted = await insertRows(tx, userId, rows);
      const rest = rows.filter((r) => !inserted.has(r.id));
      const visible = await visibleIds(tx, rest.map((r) => r.id));
      // An id we cannot see is someone else's memory (or a dangling export): keep the content
      // under a new id rather than lose it. Content conflicts are skipped as duplicates.
      const retry = rest.filter((r) => !visible.has(r.id)).map((r) => ({
        ...r,
        id: crypto.randomUUID(),
      }));
      const reinserted = await insertRows(tx, userId, retry);
      summary.inserted += inserted.size;
      summary.reassigned += reinserted.size;
      summary.unchanged += visible.size;
      summary.duplicates += retry.length - reinserted.size;
      summary.embedded += [...rows, ...retry].filter((r) =>
        r.embedding && (inserted.has(r.id) || reinserted.has(r.id))
      ).length;
    }
    return summary;
  });
}

/** The user's own project per slug, created (with the file's name and description) if missing. */
async function ensureProjects(tx: Queryable, userId: string, records: MemoryRecord[]) {
  const projectIds = new Map<string, string>();
  const created: string[] = [];
  for (const r of records) {
    if (projectIds.has(r.project)) continue;
    const [found] = await tx.query<{ id: string }>(
      "select id from projects where owner_id = $1 and slug = $2",
      [userId, r.project],
    );
    let id = found?.id;
    if (!id) {
      id = crypto.randomUUID();
      // The file's default project stays the default, unless the user already has one.
      await tx.query(
        `insert into projects (id, owner_id, name, slug, description, is_default)
         values ($1, $2, $3, $4, $5,
           $6 and not exists (select 1 from projects where owner_id = $2 and is_default))`,
        [id, userId, r.project_name, r.project, r.project_description, r.project_is_default],
      );
      created.push(r.project);
    }
    projectIds.set(r.project, id);
  }
  return { projectIds, created };
}

type Row = ReturnType<typeof toRow>;

function toRow(r: MemoryRecord, projectId: string, embeddingModel: string | undefined) {
  // A long memory also needs its chunks, which exports do not carry: it is re-embedded here.
  const keep = r.embedding != null && embeddingModel !== undefined &&
    r.embedding_model === embeddingModel && embeddingTexts(r).length === 1;
  const {
    format: _f,
    user_id: _u,
    project_id: _p,
    content_hash: _h,
    embedding_status: _s,
    ...row
  } = r;
  return {
    ...row,
    project_id: projectId,
    embedding: keep ? JSON.stringify(r.embedding) : null,
    embedding_model: keep ? r.embedding_model : null,
  };
}

/**
 * One statement per chunk (one round trip, and one embedding webhook per 100 rows), with every
 * row passed as JSON. ON CONFLICT DO NOTHING covers both the id and the per-project content hash.
 */
async function insertRows(tx: Queryable, userId: string, rows: Row[]): Promise<Set<string>> {
  if (rows.length === 0) return new Set();
  const inserted = await tx.query<{ id: string }>(
    `insert into memories (id, user_id, project_id, kind, title, content, tags, metadata, repo,
       file_path, language, symbol, commit_sha, importance, embedding, embedding_model,
       embedding_status, embedded_at, version, created_at, updated_at, last_accessed_at,
       access_count, expires_at)
     select r.id, $2::uuid, r.project_id, r.kind, r.title, r.content, r.tags, r.metadata, r.repo,
       r.file_path, r.language, r.symbol, r.commit_sha, r.importance,
       r.embedding::extensions.vector, r.embedding_model,
       case when r.embedding is null then 'pending' else 'ready' end,
       case when r.embedding is null then null else now() end,
       r.version, r.created_at, r.updated_at, r.last_accessed_at, r.access_count, r.expires_at
     from jsonb_to_recordset($1::jsonb) as r(id uuid, project_id uuid, kind text, title text,
       content text, tags text[], metadata jsonb, repo text, file_path text, language text,
       symbol text, commit_sha text, importance real, embedding text, embedding_model text,
       version int, created_at timestamptz, updated_at timestamptz,
       last_accessed_at timestamptz, access_count int, expires_at timestamptz)
     on conflict do nothing
     returning id`,
    // As a value, not a string: both drivers serialise it for the jsonb parameter themselves.
    [rows, userId],
  );
  return new Set(inserted.map((r) => r.id));
}

async function visibleIds(tx: Queryable, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await tx.query<{ id: string }>(
    "select id from memories where id = any($1::uuid[])",
    [ids],
  );
  return new Set(rows.map((r) => r.id));
}
