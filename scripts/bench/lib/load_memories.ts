/**
 * Bulk-loads generated memories for the search benchmark, the way one would restore a large
 * dataset: privileged multi-row inserts with the vector and full-text indexes dropped, rebuilt
 * afterwards from their own definitions, then VACUUM ANALYZE.
 */
import { ensureUser } from "../../../shared/auth/api_keys.ts";
import type { Database } from "../../../shared/db/types.ts";
import { embeddingText, toVectorLiteral } from "../../../shared/embed/worker.ts";
import { HashEmbeddingProvider } from "../../../shared/embeddings/hash.ts";
import type { EmbeddingProvider } from "../../../shared/embeddings/types.ts";
import { MemoryService } from "../../../shared/memory/service.ts";
import { generateMemory } from "./code_memory_generator.ts";

export interface BenchData {
  userId: string;
  /** The benchmark user's projects; they hold `ownShare` of all rows. */
  projectIds: string[];
  rows: number;
  model: string;
  timings: { insert_ms: number; index_ms: number; analyze_ms: number };
}

const BATCH = 1_000;
const OWN_PROJECTS = 10;
/** Rows of other users: realistic work for row level security, never visible to the user. */
const OTHER_USERS = 20;
const OWN_SHARE = 0.8;
const REBUILT_INDEXES = ["memories_embedding_idx", "memories_fts_idx", "memories_project_fts_idx"];

/** Vectors come from `provider`: the lexical hash provider unless a benchmark asks for another. */
export async function loadBenchData(
  db: Database,
  rows: number,
  seed = 42,
  provider: EmbeddingProvider = new HashEmbeddingProvider(),
): Promise<BenchData> {
  const service = new MemoryService(db);
  const userId = await ensureUser(db, `bench-${crypto.randomUUID()}@bench.local`);
  const projectIds: string[] = [];
  for (let p = 0; p < OWN_PROJECTS; p++) {
    projectIds.push(
      (await service.createProject(userId, { name: `Service ${p}`, slug: `svc-${p}` })).id,
    );
  }
  const others: [string, string][] = [];
  for (let u = 0; u < OTHER_USERS; u++) {
    const other = await ensureUser(db, `bench-other-${crypto.randomUUID()}@bench.local`);
    others.push([
      other,
      (await service.createProject(other, { name: "Theirs", slug: "theirs" })).id,
    ]);
  }

  const definitions = await db.query<{ indexname: string; indexdef: string }>(
    "select indexname, indexdef from pg_indexes where schemaname = 'public' and indexname = any($1)",
    [REBUILT_INDEXES],
  );
  for (const { indexname } of definitions) await db.exec(`drop index public.${indexname}`);

  let started = performance.now();
  for (let start = 0; start < rows; start += BATCH) {
    const batch = Array.from({ length: Math.min(BATCH, rows - start) }, (_, j) => start + j);
    const memories = batch.map((i) => generateMemory(i, seed));
    const vectors = await provider.embed(memories.map(embeddingText));
    const owner = batch.map((i) => {
      // Deterministic split: OWN_SHARE of rows to the user's projects, the rest to others.
      const own = (i * 0.6180339887) % 1 < OWN_SHARE;
      return own ? [userId, projectIds[i % OWN_PROJECTS]] : others[i % OTHER_USERS];
    });
    await db.query(
      `insert into public.memories (user_id, project_id, kind, title, content, tags, repo,
         file_path, language, symbol, embedding, embedding_model, embedding_status, embedded_at,
         created_at, updated_at)
       select u, p, k, t, c, string_to_array(tg, ','), r, f, l, s, e::extensions.vector, $12,
         'ready', now(), now() - d * interval '1 day', now() - d * interval '1 day'
       from unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[],
         $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $13::int[])
         as x(u, p, k, t, c, tg, r, f, l, s, e, d)`,
      [
        owner.map((o) => o[0]),
        owner.map((o) => o[1]),
        memories.map((m) => m.kind),
        memories.map((m) => m.title),
        memories.map((m) => m.content),
        memories.map((m) => m.tags.join(",")),
        memories.map((m) => m.repo),
        memories.map((m) => m.file_path),
        memories.map((m) => m.language),
        memories.map((m) => m.symbol),
        vectors.map(toVectorLiteral),
        provider.model,
        memories.map((m) => m.age_days),
      ],
    );
  }
  const insert_ms = performance.now() - started;

  started = performance.now();
  for (const { indexdef } of definitions) {
    await db.transaction(async (tx) => {
      // The graph of 100k 512-d vectors needs ~300 MB to build in memory instead of on disk.
      await tx.query("select set_config('maintenance_work_mem', '512MB', true)");
      await tx.exec(indexdef);
    });
  }
  const index_ms = performance.now() - started;

  started = performance.now();
  // VACUUM also flushes GIN's pending list: until then the planner shies away from the index.
  await db.exec("vacuum analyze public.memories");
  const analyze_ms = performance.now() - started;

  return {
    userId,
    projectIds,
    rows,
    model: provider.model,
    timings: { insert_ms, index_ms, analyze_ms },
  };
}
