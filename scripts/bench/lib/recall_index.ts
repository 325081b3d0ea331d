/**
 * The HNSW settings search runs with, read from and written to the catalog: the index build
 * options of memories_embedding_idx and the hnsw.* settings private.semantic_matches() runs with.
 */
import type { Database, Queryable } from "../../../shared/db/types.ts";

export interface HnswSettings {
  /** Index build options (reloptions of public.memories_embedding_idx). */
  m: number;
  ef_construction: number;
  /** Function-level settings of private.semantic_matches() (its `set` clauses). */
  ef_search: number;
  iterative_scan: string | null;
}

/** `name=value` items (reloptions, proconfig) as a map. */
const options = (items: string[] | null) =>
  new Map((items ?? []).map((item) => {
    const at = item.indexOf("=");
    return [item.slice(0, at), item.slice(at + 1)] as const;
  }));

export async function hnswSettings(db: Queryable): Promise<HnswSettings> {
  const [row] = await db.query<{ reloptions: string[] | null; proconfig: string[] | null }>(
    `select (select reloptions from pg_catalog.pg_class
               where oid = 'public.memories_embedding_idx'::regclass) as reloptions,
            (select proconfig from pg_catalog.pg_proc
               where oid = 'private.semantic_matches'::regproc) as proconfig`,
  );
  const index = options(row.reloptions);
  const fn = options(row.proconfig);
  return {
    m: Number(index.get("m")),
    ef_construction: Number(index.get("ef_construction")),
    ef_search: Number(fn.get("hnsw.ef_search")),
    iterative_scan: fn.get("hnsw.iterative_scan") ?? null,
  };
}

/** Makes every search run with this ef_search (the function's own setting, as a migration would). */
export async function setSearchEfSearch(db: Queryable, efSearch: number): Promise<void> {
  await db.exec(
    `alter function private.semantic_matches set hnsw.ef_search = ${Math.trunc(efSearch)}`,
  );
}

/**
 * Rebuilds memories_embedding_idx with other build options (same definition otherwise) and
 * returns its build time and size on disk.
 */
export async function rebuildHnswIndex(
  db: Database,
  m: number,
  efConstruction: number,
): Promise<{ build_ms: number; size_bytes: number }> {
  const [{ indexdef }] = await db.query<{ indexdef: string }>(
    "select indexdef from pg_indexes where schemaname = 'public' and indexname = 'memories_embedding_idx'",
  );
  const definition = indexdef.replace(
    /WITH \(.*\)$/,
    `WITH (m = ${Math.trunc(m)}, ef_construction = ${Math.trunc(efConstruction)})`,
  );
  await db.exec("drop index public.memories_embedding_idx");
  const started = performance.now();
  await db.transaction(async (tx) => {
    // As the bulk loader does: build the graph in memory (~300 MB at 100k 512-d vectors).
    await tx.query("select set_config('maintenance_work_mem', '512MB', true)");
    await tx.exec(definition);
  });
  const build_ms = performance.now() - started;
  const [{ size }] = await db.query<{ size: string }>(
    "select pg_relation_size('public.memories_embedding_idx')::text as size",
  );
  return { build_ms, size_bytes: Number(size) };
}
