/**
 * The embedding providers only the embedded stack has: a model and its runtime that cannot run
 * in an Edge Function (size, native code, start-up time). Everything that builds an embedder for
 * the local stack (scripts/local/stack.ts, the CLI) passes these to createEmbeddingProvider;
 * the Edge providers (openai, supabase, hash) are built in (shared/embeddings/index.ts).
 * To change the local model, change the factory below.
 */
import type { ProviderFactories } from "../../../shared/embeddings/index.ts";
import { MiniLMEmbeddingProvider } from "./minilm.ts";

export const LOCAL_PROVIDERS = {
  local: () => new MiniLMEmbeddingProvider(),
} satisfies ProviderFactories;
