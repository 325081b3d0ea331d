/**
 * Width of `memories.embedding vector(384)`; every provider returns exactly this many numbers.
 * MiniLM, gte-small and text-embedding-3-small (asked for 384) are all natively 384-d.
 */
export const EMBEDDING_DIMENSIONS = 384;

export type ProviderName = "local" | "openai" | "supabase" | "hash";

/** All provider names, in the order error messages list them. */
export const PROVIDER_NAMES: readonly ProviderName[] = ["local", "openai", "supabase", "hash"];

export interface EmbeddingProvider {
  readonly name: ProviderName;
  /** Stored per row in memories.embedding_model; search only compares rows of the same model. E.g. "hash-v2", "minilm-l6-v2-q4", "openai/text-embedding-3-small", "supabase/gte-small". */
  readonly model: string;
  /** false for hash: its vectors only capture shared words, not meaning. */
  readonly semantic: boolean;
  /** Returns one vector per text, each exactly EMBEDDING_DIMENSIONS long (zero-padded if the model has fewer dims), L2-normalised. Empty input → []. */
  embed(texts: string[]): Promise<number[][]>;
  /** Loads the model now rather than on the first embed (providers with a local model). */
  ready?(): Promise<void>;
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
