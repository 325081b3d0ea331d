/** Width of `memories.embedding vector(512)`; every provider returns exactly this many numbers. */
export const EMBEDDING_DIMENSIONS = 512;

export type ProviderName = "local" | "openai" | "supabase" | "hash";

/** All provider names, in the order error messages list them. */
export const PROVIDER_NAMES: readonly ProviderName[] = ["local", "openai", "supabase", "hash"];

export interface EmbeddingProvider {
  readonly name: ProviderName;
  /** Stored per row in memories.embedding_model; search only compares rows of the same model. E.g. "hash-v1", "use-lite-512", "openai/text-embedding-3-small", "supabase/gte-small". */
  readonly model: string;
  /** false for hash: its vectors only capture shared words, not meaning. */
  readonly semantic: boolean;
  /** Returns one vector per text, each exactly EMBEDDING_DIMENSIONS long (zero-padded if the model has fewer dims), L2-normalised. Empty input → []. */
  embed(texts: string[]): Promise<number[][]>;
}

export interface EmbeddingOptions {
  provider: ProviderName;
  openai?: {
    /** Required unless baseURL points at an OpenAI-compatible server that needs no key. */
    apiKey?: string;
    baseURL?: string;
    model?: string;
    maxRetries?: number;
    timeoutMs?: number;
    batchSize?: number;
  };
}
