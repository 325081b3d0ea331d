import type { Queryable } from "../db/types.ts";
import type { EmbeddingProvider } from "../embeddings/types.ts";

/**
 * Failures after which a row is marked 'failed' and the sweep stops retrying it; the same as
 * the max_attempts default of private.embedding_retry_due (migration 20261124000200).
 */
export const MAX_EMBED_ATTEMPTS = 5;

/**
 * Rows embedded and stored together. Small enough that a function killed midway (e.g. at an
 * Edge Function's time limit) keeps most of its work, large enough for few provider calls
 * (32 is also the local model's own batch).
 */
const EMBED_CHUNK_SIZE = 32;

/** Where each requested id ended up; `embed` returns it and pg_net records it. */
export interface EmbedOutcome {
  model: string;
  /** Embedded and written now. */
  embedded: string[];
  /** Already embedded (by any model: moving to another model is a backfill, not a webhook's
   * job), or changed while we worked (the newer content has its own webhook). */
  skipped: string[];
  /** No such row: deleted since, or an insert that never committed. */
  missing: string[];
  /** The provider failed; attempts were counted and the sweep will retry. */
  failed: string[];
  error?: string;
}

interface MemoryText {
  id: string;
  title: string | null;
  content: string;
  content_hash: string;
  embedding_status: string;
}

/** What a memory's vector represents: its title (a summary, when given) and its content. */
export function embeddingText(m: { title?: string | null; content: string }): string {
  return m.title ? `${m.title}\n\n${m.content}` : m.content;
}

/** pgvector's text form, cast with ::extensions.vector in SQL. */
export const toVectorLiteral = (vec: number[]) => `[${vec.join(",")}]`;

/**
 * Embeds the given memories and stores the vectors. `db` must be the privileged connection:
 * this runs for the database (a webhook), not for a user, and must see every row.
 *
 * Idempotent and safe under races: rows already embedded are skipped, and every write is
 * conditional on the row still waiting and on the title and content_hash that were embedded, so
 * a vector computed for text that changed meanwhile, or for a row another writer embedded
 * meanwhile, is dropped instead of overwriting the newer state.
 */
export async function embedMemories(
  db: Queryable,
  embedder: EmbeddingProvider,
  ids: string[],
  opts: { maxAttempts?: number } = {},
): Promise<EmbedOutcome> {
  const outcome: EmbedOutcome = {
    model: embedder.model,
    embedded: [],
    skipped: [],
    missing: [],
    failed: [],
  };
  const rows = await db.query<MemoryText>(
    `select id, title, content, content_hash, embedding_status
     from public.memories where id = any($1::uuid[])`,
    [ids],
  );
  const found = new Set(rows.map((r) => r.id));
  outcome.missing = ids.filter((id) => !found.has(id));
  const todo = rows.filter((r) => {
    if (r.embedding_status === "ready") outcome.skipped.push(r.id);
    return r.embedding_status !== "ready";
  });
  if (todo.length === 0) return outcome;

  // Chunk by chunk, each stored as soon as it is embedded: if the function dies midway (a
  // platform time limit, a crash), the rows done so far are kept and a retry has less to do.
  for (let start = 0; start < todo.length; start += EMBED_CHUNK_SIZE) {
    const chunk = todo.slice(start, start + EMBED_CHUNK_SIZE);
    let vectors: number[][];
    try {
      vectors = await embedder.embed(chunk.map(embeddingText));
    } catch (err) {
      // The provider is failing: the rest would most likely fail too, so count the attempt
      // for all of it and leave it to the sweep's backoff.
      const rest = todo.slice(start);
      outcome.failed = rest.map((r) => r.id);
      outcome.error = err instanceof Error ? err.message : String(err);
      await recordFailure(db, rest, outcome.error, opts.maxAttempts ?? MAX_EMBED_ATTEMPTS);
      return outcome;
    }
    const written = await storeVectors(db, embedder.model, chunk, vectors);
    for (const r of chunk) (written.has(r.id) ? outcome.embedded : outcome.skipped).push(r.id);
  }
  return outcome;
}

/** Writes each row's vector unless its text changed or another writer embedded it meanwhile. */
async function storeVectors(
  db: Queryable,
  model: string,
  rows: MemoryText[],
  vectors: number[][],
): Promise<Set<string>> {
  const written = await db.query<{ id: string }>(
    `update public.memories m
     set embedding = u.embedding::extensions.vector, embedding_model = $4,
         embedding_status = 'ready', embedding_error = null, embedded_at = now()
     from unnest($1::uuid[], $2::text[], $3::text[], $5::text[])
       as u(id, content_hash, embedding, title)
     where m.id = u.id and m.content_hash = u.content_hash
       and m.title is not distinct from u.title and m.embedding_status <> 'ready'
     returning m.id`,
    [
      rows.map((r) => r.id),
      rows.map((r) => r.content_hash),
      vectors.map(toVectorLiteral),
      model,
      rows.map((r) => r.title),
    ],
  );
  return new Set(written.map((r) => r.id));
}

/** Counts a failed attempt: 'failed' at maxAttempts, else still 'pending' for the sweep. */
async function recordFailure(
  db: Queryable,
  rows: MemoryText[],
  error: string,
  maxAttempts: number,
): Promise<void> {
  await db.query(
    `update public.memories m
     set embedding_attempts = m.embedding_attempts + 1, embedding_error = left($3, 1000),
         embedding_status = case when m.embedding_attempts + 1 >= $4 then 'failed' else 'pending' end
     from unnest($1::uuid[], $2::text[]) as u(id, content_hash)
     where m.id = u.id and m.content_hash = u.content_hash and m.embedding_status <> 'ready'`,
    [rows.map((r) => r.id), rows.map((r) => r.content_hash), error, maxAttempts],
  );
}
