import type { Config } from "../config.ts";
import {
  createEmbeddingProvider,
  type EmbeddingProvider,
  type ProviderFactories,
} from "../embeddings/index.ts";

/** Supabase's own gte-small inside Edge Runtime, the embedded stack's local model elsewhere. */
export function defaultProvider(config: Config): EmbeddingProvider["name"] {
  return config.EMBEDDING_PROVIDER ?? ("Supabase" in globalThis ? "supabase" : "local");
}

/** The configured provider; `extra` adds the embedded stack's local ones. */
export function createEmbedder(config: Config, extra?: ProviderFactories): EmbeddingProvider {
  return createEmbeddingProvider({
    provider: defaultProvider(config),
    openai: {
      apiKey: config.OPENAI_API_KEY,
      baseURL: config.OPENAI_BASE_URL,
      model: config.EMBEDDING_MODEL,
    },
  }, extra);
}
