import { AnalyticsRecorder } from "../analytics/recorder.ts";
import { BriefService } from "../brief/service.ts";
import { RecordedSearchService } from "../analytics/search.ts";
import type { Authenticator } from "../auth/authenticate.ts";
import type { Cache, RateLimiter } from "../cache/index.ts";
import type { Config } from "../config.ts";
import type { Database } from "../db/types.ts";
import type { EmbeddingProvider, ProviderFactories } from "../embeddings/index.ts";
import { MemoryService } from "../memory/service.ts";
import { TeamService } from "../memory/teams.ts";
import { DuplicateFinder } from "../search/duplicates.ts";
import { bumpGenerations } from "../search/generations.ts";
import type { SearchService } from "../search/service.ts";
import { createAuth } from "./auth.ts";
import { createConfiguredCache, createLimiter } from "./cache.ts";
import { createEmbedder } from "./embedder.ts";

/**
 * Everything the functions need, built once per process and shared by all requests: `mcp` and
 * `memories` use all of it, `embed` and `analytics` a part (see shared/app/functions/).
 */
export interface AppContext {
  config: Config;
  db: Database;
  service: MemoryService;
  auth: Authenticator;
  embedder: EmbeddingProvider;
  /** Upstash Redis when UPSTASH_REDIS_REST_URL/TOKEN are set, else process memory. */
  cache: Cache;
  /** Per-user request budget of every authenticated REST and MCP request. */
  rateLimiter: RateLimiter;
  search: SearchService;
  /** Project members and project administration (shared projects). */
  teams: TeamService;
  /** Usage events (searches, writes), written in batches after responding. */
  analytics: AnalyticsRecorder;
  /** Session briefs for coding agents (over `search` for the task's matches). */
  brief: BriefService;
}

export interface ContextOptions {
  /** Embedding providers beyond the Edge ones: the embedded stack's `local`. */
  providers?: ProviderFactories;
}

export function createContext(
  config: Config,
  db: Database,
  opts: ContextOptions = {},
): AppContext {
  const embedder = createEmbedder(config, opts.providers);
  const cache = createConfiguredCache(config);
  // Near-duplicates at save time: the new text through search's (cached) query embedding.
  const service = new MemoryService(db, new DuplicateFinder(cache, embedder));
  // Every write that can change search results retires the cached ones (shared/search).
  service.onWrite((e) => bumpGenerations(cache, e.userId, e.projectIds));
  // So do membership changes: a removed member must not be served results cached before.
  const teams = new TeamService(db);
  teams.onAccessChange(async (e) => {
    await bumpGenerations(cache, null, [e.projectId]);
    await Promise.all(e.userIds.map((u) => bumpGenerations(cache, u, [])));
  });
  // Usage events: every save, update and delete (searches: RecordedSearchService below).
  const analytics = new AnalyticsRecorder(db);
  service.onWrite(analytics.onWrite);
  // Records every search (REST and MCP) for analytics.
  const search = new RecordedSearchService(
    { db, embedder, cache, ttlSeconds: config.CACHE_TTL_SECONDS },
    analytics,
  );
  return {
    config,
    db,
    service,
    auth: createAuth(config, db),
    embedder,
    cache,
    rateLimiter: createLimiter(config),
    teams,
    search,
    analytics,
    brief: new BriefService(db, search),
  };
}
