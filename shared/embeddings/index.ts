/**
 * Embedding providers behind one interface (see DESIGN.md, "Embeddings"). Create one provider
 * per process and reuse it: supabase opens one inference session. `local` (MiniLM, a native
 * addon) is not here: the embedded stack supplies it from scripts/local/embeddings/.
 */
import type { EmbeddingOptions, EmbeddingProvider, ProviderName } from "./types.ts";
import { PROVIDER_NAMES } from "./types.ts";
import { EmbeddingConfigError } from "./errors.ts";
import { HashEmbeddingProvider } from "./hash.ts";
import { OpenAIEmbeddingProvider } from "./openai.ts";
import { createGteSession, SupabaseEmbeddingProvider } from "./supabase.ts";

export * from "./types.ts";
export { EmbeddingConfigError, EmbeddingError } from "./errors.ts";
export { normalize, padToColumn } from "./pad.ts";
export { HashEmbeddingProvider } from "./hash.ts";
export { OpenAIEmbeddingProvider } from "./openai.ts";
export { type GteSession, SupabaseEmbeddingProvider } from "./supabase.ts";

const VALID = PROVIDER_NAMES.join(", ");

/** Parses a provider name (trimmed, case-insensitive); unset or blank gives `fallback`. */
export function parseProviderName(value: string | undefined, fallback: ProviderName): ProviderName {
  const name = value?.trim().toLowerCase();
  if (!name) return fallback;
  if (isProviderName(name)) return name;
  throw new EmbeddingConfigError(
    `Unknown embedding provider "${value}". Valid providers: ${VALID}.`,
  );
}

/**
 * Builds the configured provider. Throws EmbeddingConfigError for an unknown provider, for
 * openai without an API key (a key is optional only when openai.baseURL is set, for
 * OpenAI-compatible servers that need none) or with bad numeric options, and for supabase
 * outside Supabase Edge Runtime.
 */
export function createEmbeddingProvider(opts: EmbeddingOptions): EmbeddingProvider {
  switch (opts.provider) {
    case "hash":
      return new HashEmbeddingProvider();
    case "local":
      throw new EmbeddingConfigError(
        'The local embedding provider (MiniLM) runs only in the embedded stack, which supplies it from scripts/local/embeddings/minilm.ts. Use "supabase", "openai" or "hash" here.',
      );
    case "openai":
      return new OpenAIEmbeddingProvider(opts.openai);
    case "supabase": {
      const session = createGteSession();
      if (!session) {
        throw new EmbeddingConfigError(
          'The supabase embedding provider (gte-small) exists only on Supabase Edge Runtime: the global "Supabase.ai" is missing here. Use "local" or "openai" elsewhere.',
        );
      }
      return new SupabaseEmbeddingProvider(session);
    }
    default:
      throw new EmbeddingConfigError(
        `Unknown embedding provider "${String(opts.provider)}". Valid providers: ${VALID}.`,
      );
  }
}

function isProviderName(value: string): value is ProviderName {
  return (PROVIDER_NAMES as readonly string[]).includes(value);
}
