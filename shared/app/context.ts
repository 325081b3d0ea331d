import { type Authenticator, createAuthenticator } from "../auth/authenticate.ts";
import type { Config } from "../config.ts";
import type { Database } from "../db/types.ts";
import { createEmbeddingProvider, type EmbeddingProvider } from "../embeddings/index.ts";
import { MemoryService } from "../memory/service.ts";

/** Everything a function needs, built once per process and shared by all requests. */
export interface AppContext {
  config: Config;
  db: Database;
  service: MemoryService;
  auth: Authenticator;
  embedder: EmbeddingProvider;
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

export function createContext(config: Config, db: Database): AppContext {
  return {
    config,
    db,
    service: new MemoryService(db),
    auth: createAuthenticator(db),
    embedder: createEmbedder(config),
  };
}
