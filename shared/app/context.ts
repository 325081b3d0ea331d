import { AnalyticsRecorder } from "../analytics/recorder.ts";
import { RecordedSearchService } from "../analytics/search.ts";
import { type Authenticator, createAuthenticator } from "../auth/authenticate.ts";
import { type Cache, createCache, createRateLimiter, type RateLimiter } from "../cache/index.ts";
import type { Config } from "../config.ts";
import type { Database } from "../db/types.ts";
import { createEmbeddingProvider, type EmbeddingProvider } from "../embeddings/index.ts";
import { MemoryService } from "../memory/service.ts";
import { TeamService } from "../memory/teams.ts";
import { bumpGenerations } from "../search/generations.ts";
import { SearchService } from "../search/service.ts";

/** Everything a function needs, built once per process and shared by all requests. */
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
}

/** Supabase's own gte-small inside Edge Runtime, the offline USE-lite model everywhere else. */
export function defaultProvider(config: Config): EmbeddingProvider["name"] {
  return config.EMBEDDING_PROVIDER ?? ("Supabase" in globalThis ? "supabase" : "local");
}

export function createEmbedder(config: Config): EmbeddingProvider {
  return createEmbeddingProvider({
    provider: defaultProvider(config),
    openai: {
      apiKey: config.OPENAI_API_KEY,
      baseURL: config.OPENAI_BASE_URL,
      model: config.EMBEDDING_MODEL,
    },
  });
}

const upstash = (config: Config) => ({
  upstashUrl: config.UPSTASH_REDIS_REST_URL,
  upstashToken: config.UPSTASH_REDIS_REST_TOKEN,
});

/** RATE_LIMIT_REQUESTS=0 turns rate limiting off. */
export function createLimiter(config: Config): RateLimiter {
  const windowSeconds = config.RATE_LIMIT_WINDOW_SECONDS;
  if (config.RATE_LIMIT_REQUESTS === 0) {
    return {
      limit: () =>
        Promise.resolve({
          success: true,
          limit: 0,
          remaining: 0,
          reset: Date.now() + windowSeconds * 1000,
        }),
    };
  }
  return createRateLimiter({
    ...upstash(config),
    requests: config.RATE_LIMIT_REQUESTS,
    windowSeconds,
  });
}

export function createContext(config: Config, db: Database): AppContext {
  const service = new MemoryService(db);
  const embedder = createEmbedder(config);
  const cache = createCache(upstash(config));
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
  return {
    config,
    db,
    service,
    // JWT users are provisioned locally only: on Supabase, GoTrue owns auth.users.
    auth: createAuthenticator(db, { config, provisionUsers: !("Supabase" in globalThis) }),
    embedder,
    cache,
    rateLimiter: createLimiter(config),
    teams,
    // Records every search (REST and MCP) for analytics.
    search: new RecordedSearchService(
      { db, embedder, cache, ttlSeconds: config.CACHE_TTL_SECONDS },
      analytics,
    ),
    analytics,
  };
}
