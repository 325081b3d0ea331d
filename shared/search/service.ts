import type { Cache } from "../cache/types.ts";
import { asUser } from "../db/as_user.ts";
import type { Database, Queryable } from "../db/types.ts";
import type { EmbeddingProvider } from "../embeddings/types.ts";
import { log } from "../log.ts";
import { resolveProject } from "../memory/projects.ts";
import { AccessTracker } from "./access.ts";
import { normalizeQuery, sha256Hex, stableJson } from "./fingerprint.ts";
import { type Generations, readGenerations, sameGenerations } from "./generations.ts";
import { embedQuery } from "./query_embedding.ts";
import { searchRpc, type SearchRpcArgs } from "./rpc.ts";
import { DEFAULT_SEARCH_LIMIT, type SearchInput, type SearchMode } from "./schemas.ts";
import type { SearchHit, SearchResult } from "./types.ts";

/** Scoring knobs of the RPC; unset ones keep the SQL defaults. */
export type Scoring = Pick<
  SearchRpcArgs,
  | "full_text_weight"
  | "semantic_weight"
  | "rrf_k"
  | "full_text_coverage_power"
  | "recency_half_life_days"
  | "importance_weight"
>;

export interface SearchServiceOptions {
  db: Database;
  embedder: EmbeddingProvider;
  /** Results and query embeddings; see shared/cache (resilient: never throws). */
  cache: Cache;
  /** Lifetime of cached results; 0 turns the results cache off (query embeddings stay). */
  ttlSeconds: number;
  scoring?: Scoring;
  /** Defaults to one over `db` that flushes every second. */
  access?: AccessTracker;
}

/** What the results cache stores: the result and the generations it was computed under. */
interface CachedSearch {
  gens: Generations;
  result: Omit<SearchResult, "cached">;
}

/** Said when the relevance floor (or the filters) left nothing: no hit is better than noise. */
export const NOTHING_FOUND =
  "Nothing relevant found: no memory is close enough in meaning or contains all of the query's words. Try other words, fewer filters, or min_similarity: 0 for the nearest memories anyway.";

/** Results larger than this are not cached (Upstash caps request sizes; most are ~10 kB). */
const MAX_CACHED_CHARS = 256 * 1024;

/** A request with defaults applied and every list in a canonical order: one cache key each. */
function canonical(input: SearchInput) {
  const sorted = <T>(list: T[] | undefined) => list && [...new Set(list)].sort();
  const projects = input.project === undefined ? undefined : sorted(
    (Array.isArray(input.project) ? input.project : [input.project]).map((p) => p.toLowerCase()),
  );
  const time = (t: string | undefined) => t && new Date(t).toISOString();
  return {
    query: normalizeQuery(input.query),
    limit: input.limit ?? DEFAULT_SEARCH_LIMIT,
    mode: input.mode ?? "hybrid" as SearchMode,
    projects,
    kinds: sorted(input.kinds),
    tags: sorted(input.tags),
    tags_mode: input.tags_mode ?? "any",
    since: time(input.since),
    until: time(input.until),
    repo: input.repo,
    file_path: input.file_path,
    min_similarity: input.min_similarity,
    include_superseded: input.include_superseded || undefined,
  };
}

/**
 * Search for the service layer (REST and MCP): query embedding (cached), the search_memories
 * RPC as the user, a results cache invalidated by generation counters, and access statistics
 * recorded after the response.
 *
 * Mode fallbacks (never an error, always explained in `notes`): `semantic` with a provider that
 * is not semantic (hash) runs as keyword; when the query cannot be embedded (provider down),
 * hybrid and semantic run as keyword and that degraded result is not cached.
 */
export class SearchService {
  readonly #opts: SearchServiceOptions;
  readonly #access: AccessTracker;

  constructor(opts: SearchServiceOptions) {
    this.#opts = opts;
    this.#access = opts.access ?? new AccessTracker(opts.db);
  }

  async search(userId: string, input: SearchInput): Promise<SearchResult> {
    const { cache, embedder, ttlSeconds } = this.#opts;
    const request = canonical(input);
    const notes: string[] = [];
    let mode = request.mode;
    if (mode === "semantic" && !embedder.semantic) {
      mode = "keyword";
      notes.push(
        `The embedding provider '${embedder.name}' is not semantic, so this ran as a keyword search.`,
      );
    }
    const model = mode === "keyword" ? null : embedder.model;
    const key = `search:${userId}:${sha256Hex(stableJson({ v: 1, ...request, model }))}`;

    if (ttlSeconds > 0) {
      const hit = await this.#cached(key, userId);
      if (hit) {
        this.#access.record(hit.hits.map((h) => h.id));
        return { ...hit, cached: true };
      }
    }

    let embedding: number[] | null = null;
    let degraded = false;
    if (mode !== "keyword") {
      try {
        embedding = await embedQuery(cache, embedder, request.query);
      } catch (err) {
        log.warn("search: query embedding failed; falling back to keyword search", err);
        mode = "keyword";
        degraded = true;
        notes.push(
          "Semantic search is unavailable right now (the embedding provider failed); these are keyword matches only.",
        );
      }
    }

    const { hits, gens } = await asUser(this.#opts.db, userId, async (tx) => {
      const scope = await resolveScope(tx, userId, request.projects);
      // Read before searching: a write landing in between then retires this entry.
      const gens = await readGenerations(cache, userId, scope.searched);
      const hits = await searchRpc(tx, {
        ...this.#opts.scoring,
        query_text: request.query,
        query_embedding: embedding,
        match_count: request.limit,
        project_ids: scope.projectIds,
        kinds: request.kinds,
        tags: request.tags,
        tags_mode: request.tags_mode,
        since: request.since,
        until: request.until,
        repo: request.repo,
        file_path_prefix: request.file_path,
        embedding_model: embedding ? embedder.model : undefined,
        mode,
        min_similarity: request.min_similarity,
        include_superseded: request.include_superseded,
      });
      return { hits, gens };
    });

    if (hits.length === 0) notes.push(NOTHING_FOUND);
    const result = {
      query: request.query,
      mode: request.mode,
      effective_mode: mode,
      model: embedding ? embedder.model : null,
      hits,
      notes,
    };
    if (ttlSeconds > 0 && !degraded) await this.#store(key, { gens, result }, ttlSeconds);
    this.#access.record(hits.map((h) => h.id));
    return { ...result, cached: false };
  }

  /** Writes pending access statistics; call before closing the database. */
  close(): Promise<void> {
    return this.#access.close();
  }

  async #cached(key: string, userId: string): Promise<CachedSearch["result"] | null> {
    const { cache } = this.#opts;
    const entry = await cache.get<CachedSearch>(key);
    if (!entry?.gens || !entry.result) return null;
    const current = await readGenerations(cache, userId, Object.keys(entry.gens.projects));
    return sameGenerations(entry.gens, current) ? entry.result : null;
  }

  async #store(key: string, entry: CachedSearch, ttlSeconds: number): Promise<void> {
    if (JSON.stringify(entry).length > MAX_CACHED_CHARS) return;
    await this.#opts.cache.set(key, entry, ttlSeconds);
  }
}

/**
 * The projects a search covers: the named ones (resolved like everywhere else, 404 when not
 * visible), or every project the user can read (RLS) — the RPC then gets null.
 */
async function resolveScope(
  tx: Queryable,
  userId: string,
  refs: string[] | undefined,
): Promise<{ projectIds: string[] | null; searched: string[] }> {
  if (!refs) {
    const rows = await tx.query<{ id: string }>("select id from public.projects");
    return { projectIds: null, searched: rows.map((r) => r.id) };
  }
  const ids: string[] = [];
  for (const ref of refs) ids.push((await resolveProject(tx, userId, ref)).id);
  const unique = [...new Set(ids)];
  return { projectIds: unique, searched: unique };
}

export type { SearchHit, SearchResult };
