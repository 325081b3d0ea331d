import type { Memory } from "../memory/types.ts";
import type { SearchMode } from "./schemas.ts";

/** A memory found by search with its scores (see migration 20261124000300 for the formula). */
export interface SearchHit extends Memory {
  /** Fused reciprocal-rank score with boosts; only comparable within one result list. */
  score: number;
  /** Cosine similarity to the query, or null when the semantic side did not return the row. */
  semantic_score: number | null;
  /** ts_rank_cd normalised to [0, 1), or null when the keyword side did not return the row. */
  keyword_score: number | null;
}

export interface SearchResult {
  /** The query as it was run (whitespace normalised). */
  query: string;
  /** The mode asked for, and the one that ran (keyword when no query embedding was possible). */
  mode: SearchMode;
  effective_mode: SearchMode;
  /** Embedding model of the semantic side, or null when it did not run. */
  model: string | null;
  hits: SearchHit[];
  /** Why the search ran differently from what was asked, for the caller to relay. */
  notes: string[];
  /** True when served from the results cache. */
  cached: boolean;
}
