/**
 * The nearest-neighbour queries the recall benchmark compares, each runnable exactly (no index:
 * sequential scan + sort) or through the HNSW index:
 *   - `index`: the bare index query over every row, as the database owner;
 *   - `search`: public.search_memories mode semantic as the user (RLS, visible projects,
 *     model filter, candidate pool, iterative scan): what users get;
 *   - `search, 1 project`: the same narrowed to one project (8% of the rows).
 * Plus the keyword-only search over the same data, for comparison.
 */
import { asUser } from "../../../shared/db/as_user.ts";
import type { Database, Queryable } from "../../../shared/db/types.ts";
import { toVectorLiteral } from "../../../shared/embed/worker.ts";
import { searchRpc } from "../../../shared/search/rpc.ts";
import type { BenchData } from "./load_memories.ts";

export interface Neighbour {
  id: string;
  distance: number;
}

export interface Query {
  text: string;
  vector: number[];
}

/** `exact`: index scans disabled; else the HNSW index with this ef_search (searches: its own). */
export type Access = { exact: true } | { exact: false; efSearch: number };

export type PathName = "index" | "search" | "search, 1 project";
export const PATHS: PathName[] = ["index", "search", "search, 1 project"];

export const K = 10;

const NEAREST_SQL = `select id, (embedding <=> $1::extensions.vector)::float8 as distance
  from public.memories where embedding is not null
  order by embedding <=> $1::extensions.vector limit ${K}`;

/**
 * Session settings for one transaction. Exact: `enable_indexscan = off` leaves the planner no
 * way to serve `order by <=>` but a sequential scan and a sort (HNSW has no bitmap scans).
 */
async function applyAccess(tx: Queryable, access: Access) {
  if (access.exact) await tx.query("select set_config('enable_indexscan', 'off', true)");
  else await tx.query("select set_config('hnsw.ef_search', $1, true)", [String(access.efSearch)]);
}

/** Top K of one path for one query. `access.efSearch` only reaches the bare index query: the
 * search function runs with its own `set hnsw.ef_search` (see setSearchEfSearch). */
export function nearest(
  db: Database,
  data: BenchData,
  path: PathName,
  query: Query,
  access: Access,
): Promise<Neighbour[]> {
  if (path === "index") {
    return db.transaction(async (tx) => {
      await applyAccess(tx, access);
      return await tx.query<Neighbour>(NEAREST_SQL, [toVectorLiteral(query.vector)]);
    });
  }
  return asUser(db, data.userId, async (tx) => {
    if (access.exact) await applyAccess(tx, access);
    const hits = await searchRpc(tx, {
      query_text: query.text,
      query_embedding: query.vector,
      embedding_model: data.model,
      match_count: K,
      mode: "semantic",
      project_ids: path === "search" ? null : [data.projectIds[3]],
    });
    return hits.map((h) => ({ id: h.id, distance: 1 - h.semantic_score! }));
  });
}

/** Ids of the keyword-only search's top K, as the user. */
export function keywordTop(db: Database, data: BenchData, query: Query): Promise<string[]> {
  return asUser(db, data.userId, async (tx) => {
    const hits = await searchRpc(tx, { query_text: query.text, match_count: K, mode: "keyword" });
    return hits.map((h) => h.id);
  });
}

/** EXPLAIN of the bare index query (the search paths' plans come from auto_explain). */
export function explainIndexPath(db: Database, query: Query, access: Access): Promise<string> {
  return db.transaction(async (tx) => {
    await applyAccess(tx, access);
    const rows = await tx.query<Record<string, string>>(
      `explain (costs off) ${NEAREST_SQL}`,
      [toVectorLiteral(query.vector)],
    );
    return rows.map((r) => Object.values(r)[0]).join("\n");
  });
}

/**
 * How a nearest-neighbour plan finds its rows: walking the HNSW index, or reading the candidate
 * rows (all, or those an index on the filters finds) and sorting them by distance: exact.
 */
export function planAccess(plan: string): string {
  if (/memories_embedding_idx/.test(plan)) return "hnsw";
  const scan = plan.match(/(Seq Scan|Bitmap Heap Scan) on memories/)?.[1];
  return scan && /Sort/.test(plan) ? `${scan.toLowerCase()} + sort` : "other";
}

/**
 * recall@K: the share of the exact top K that the approximate top K found. A neighbour counts
 * when it is no farther than the exact K-th one, so equidistant rows (duplicate vectors) that
 * either side may pick are not counted as misses.
 */
export function recallAtK(exact: Neighbour[], approximate: Neighbour[]): number {
  const k = Math.min(K, exact.length);
  if (k === 0) return 1;
  const radius = exact[k - 1].distance + 1e-6;
  return approximate.slice(0, k).filter((n) => n.distance <= radius).length / k;
}

/** Share of the exact top K whose ids also appear in `ids` (the keyword top K). */
export function overlapAtK(exact: Neighbour[], ids: string[]): number {
  const k = Math.min(K, exact.length);
  if (k === 0) return 0;
  const found = new Set(ids.slice(0, K));
  return exact.slice(0, k).filter((n) => found.has(n.id)).length / k;
}
