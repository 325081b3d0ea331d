import type { Queryable } from "../db/types.ts";
import { batchesBy } from "../embeddings/batch.ts";
import { CHUNK_DEFAULTS, type ChunkOptions, embeddingTexts } from "../embeddings/chunks.ts";
import type { EmbeddingProvider } from "../embeddings/types.ts";

/**
 * Failures after which a row is marked 'failed' and the sweep stops retrying it; the same as
 * the max_attempts default of private.embedding_retry_due (migration 20261124000200).
 */
export const MAX_EMBED_ATTEMPTS = 5;

/**
 * Texts (chunks) embedded and stored together, whole memories at a time. Small enough that a
 * function killed midway (e.g. at an Edge Function's time limit) keeps most of its work, large
 * enough for few provider calls.
 */
const EMBED_TEXTS_PER_BATCH = 32;

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

/**
 * What a memory's first (often only) vector represents: its title (a summary, when given) and
 * its content; long memories get more chunks (shared/embeddings/chunks.ts).
 */
export function embeddingText(m: { title?: string | null; content: string }): string {
  return embeddingTexts(m)[0];
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
  opts: { maxAttempts?: number; chunks?: ChunkOptions } = {},
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

  // Batch by batch, each stored as soon as it is embedded: if the function dies midway (a
  // platform time limit, a crash), the rows done so far are kept and a retry has less to do.
  const texts = todo.map((r) => embeddingTexts(r, opts.chunks ?? CHUNK_DEFAULTS));
  // Whole memories per batch, up to EMBED_TEXTS_PER_BATCH texts (a longer one goes alone).
  const rowIndexes = todo.map((_, i) => i);
  const perBatch = batchesBy(rowIndexes, Infinity, (i) => texts[i].length, EMBED_TEXTS_PER_BATCH);
  for (const batch of perBatch) {
    const rows = batch.map((i) => todo[i]);
    let vectors: number[][];
    try {
      vectors = await embedder.embed(batch.flatMap((i) => texts[i]));
    } catch (err) {
      // The provider is failing: the rest would most likely fail too, so count the attempt
      // for all of it and leave it to the sweep's backoff.
      const rest = todo.slice(batch[0]);
      outcome.failed = rest.map((r) => r.id);
      outcome.error = err instanceof Error ? err.message : String(err);
      await recordFailure(db, rest, outcome.error, opts.maxAttempts ?? MAX_EMBED_ATTEMPTS);
      return outcome;
    }
    let next = 0;
    const perRow = batch.map((i) => vectors.slice(next, next += texts[i].length));
    const written = await storeVectors(db, embedder.model, rows, perRow);
    for (const r of rows) (written.has(r.id) ? outcome.embedded : outcome.skipped).push(r.id);
  }
  return outcome;
}

/**
 * Writes each row's first vector and its further chunks, in one statement, unless its text
 * changed or another writer embedded it meanwhile. Chunks left from a longer earlier text go.
 */
async function storeVectors(
  db: Queryable,
  model: string,
  rows: MemoryText[],
  vectors: number[][][],
): Promise<Set<string>> {
  const chunks = rows.flatMap((r, i) =>
    vectors[i].slice(1).map((v, c) => ({ id: r.id, chunk: c + 1, vector: toVectorLiteral(v) }))
  );
  const written = await db.query<{ id: string }>(
    `with written as (
       update public.memories m
       set embedding = u.embedding::extensions.vector, embedding_model = $4,
           embedding_status = 'ready', embedding_error = null, embedded_at = now()
       from unnest($1::uuid[], $2::text[], $3::text[], $5::text[], $6::int[])
         as u(id, content_hash, embedding, title, chunks)
       where m.id = u.id and m.content_hash = u.content_hash
         and m.title is not distinct from u.title and m.embedding_status <> 'ready'
       returning m.id, u.chunks
     ),
     stale as (
       delete from private.memory_chunks c using written w
       where c.memory_id = w.id and c.chunk > w.chunks
     ),
     added as (
       insert into private.memory_chunks (memory_id, chunk, embedding, embedding_model)
       select x.id, x.chunk, x.embedding::extensions.vector, $4
       from unnest($7::uuid[], $8::int[], $9::text[]) as x(id, chunk, embedding)
       join written w on w.id = x.id
       on conflict (memory_id, chunk) do update
         set embedding = excluded.embedding, embedding_model = excluded.embedding_model
     )
     select id from written`,
    [
      rows.map((r) => r.id),
      rows.map((r) => r.content_hash),
      vectors.map((v) => toVectorLiteral(v[0])),
      model,
      rows.map((r) => r.title),
      vectors.map((v) => v.length - 1),
      chunks.map((c) => c.id),
      chunks.map((c) => c.chunk),
      chunks.map((c) => c.vector),
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
