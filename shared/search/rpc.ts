import type { Queryable } from "../db/types.ts";
import { toVectorLiteral } from "../embed/worker.ts";
import { projectRefSql, toMemory } from "../memory/rows.ts";
import type { SearchMode } from "./schemas.ts";
import type { SearchHit } from "./types.ts";

/** Arguments of public.search_memories(); omitted ones take the SQL defaults. */
export interface SearchRpcArgs {
  query_text: string;
  query_embedding?: number[] | null;
  match_count?: number;
  project_ids?: string[] | null;
  kinds?: string[] | null;
  tags?: string[] | null;
  tags_mode?: "any" | "all";
  since?: string | null;
  until?: string | null;
  repo?: string | null;
  file_path_prefix?: string | null;
  embedding_model?: string | null;
  full_text_weight?: number;
  semantic_weight?: number;
  rrf_k?: number;
  recency_half_life_days?: number | null;
  importance_weight?: number;
  mode?: SearchMode;
  /** Relevance floor: cosine similarity (default per model) and share of query terms. */
  min_similarity?: number | null;
  min_keyword_coverage?: number | null;
  /** Keyword contributions × (share of query terms matched) ^ this. */
  full_text_coverage_power?: number;
  /** Also memories that a newer memory of their project supersedes (default false). */
  include_superseded?: boolean;
  /**
   * Weight of the query's standout (top-1 cosine − mean of ranks 2–10) added to each hit's
   * cosine before the floor; default per model when min_similarity is defaulted, else 0.
   */
  standout_weight?: number | null;
}

/**
 * SQL type of each argument. Times travel as text (postgres.js would turn a timestamptz
 * parameter into a Date and drop microseconds); vectors in pgvector's text form.
 */
const ARG_TYPES: Record<keyof SearchRpcArgs, string> = {
  query_text: "text",
  query_embedding: "extensions.vector",
  match_count: "int",
  project_ids: "uuid[]",
  kinds: "text[]",
  tags: "text[]",
  tags_mode: "text",
  since: "text::timestamptz",
  until: "text::timestamptz",
  repo: "text",
  file_path_prefix: "text",
  embedding_model: "text",
  full_text_weight: "float8",
  semantic_weight: "float8",
  rrf_k: "int",
  recency_half_life_days: "float8",
  importance_weight: "float8",
  mode: "text",
  min_similarity: "float8",
  min_keyword_coverage: "float8",
  full_text_coverage_power: "float8",
  include_superseded: "boolean",
  standout_weight: "float8",
};

/**
 * Calls the search RPC with named arguments, exactly as supabase-js `rpc()` does through
 * PostgREST. Run it inside asUser(): the function is SECURITY INVOKER, RLS decides visibility.
 */
export async function searchRpc(tx: Queryable, args: SearchRpcArgs): Promise<SearchHit[]> {
  const params: unknown[] = [];
  const named: string[] = [];
  // Only known names reach the SQL text; values are always parameters.
  for (const name of Object.keys(ARG_TYPES) as (keyof SearchRpcArgs)[]) {
    const value = args[name];
    if (value === undefined) continue;
    const sqlValue = name === "query_embedding" && Array.isArray(value)
      ? toVectorLiteral(value as number[])
      : value;
    params.push(sqlValue);
    named.push(`${name} => $${params.length}::${ARG_TYPES[name]}`);
  }
  // `project` as the caller names it (projectRefSql), in the RPC's order.
  const rows = await tx.query(
    `select h.*, (select ${projectRefSql("p")} from public.projects p where p.id = h.project_id)
       as project_ref
     from public.search_memories(${named.join(", ")}) with ordinality h
     order by h.ordinality`,
    params,
  );
  return rows.map(({ project_ref, ordinality: _, ...row }) =>
    toHit({ ...row, project: project_ref })
  );
}

const numberOrNull = (v: unknown) => (v === null || v === undefined ? null : Number(v));

export function toHit(row: Record<string, unknown>): SearchHit {
  const { score, semantic_score, keyword_score, ...memory } = row;
  return {
    ...toMemory(memory),
    score: Number(score),
    semantic_score: numberOrNull(semantic_score),
    keyword_score: numberOrNull(keyword_score),
  };
}
