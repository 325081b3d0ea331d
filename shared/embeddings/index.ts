/**
 * Embedding providers behind one interface (docs/architecture.md, decision 7). Create one provider
 * per process and reuse it: supabase opens one inference session, local loads its model once.
 *
 * Only providers that run on Supabase Edge live here (openai, supabase, hash). The `local` model
 * and its runtime cannot, so an Edge Function's module graph never holds them: the embedded
 * stack passes them in as `extra` factories (scripts/local/embeddings/index.ts).
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

/** Providers a caller adds to the built-in ones (the embedded stack's `local`). */
export type ProviderFactories = { readonly [N in ProviderName]?: () => EmbeddingProvider };

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
 * Builds the configured provider, from `extra` when it has one by that name. Throws
 * EmbeddingConfigError for an unknown provider, for `local` where nobody passed it in (an Edge
 * Function), for openai without an API key (a key is optional only when openai.baseURL is set,
 * for OpenAI-compatible servers that need none) or with bad numeric options, and for supabase
 * outside Supabase Edge Runtime.
 */
export function createEmbeddingProvider(
  opts: EmbeddingOptions,
  extra: ProviderFactories = {},
): EmbeddingProvider {
  const fromExtra = extra[opts.provider];
  if (fromExtra) return fromExtra();
  switch (opts.provider) {
    case "hash":
      return new HashEmbeddingProvider();
    case "local":
      throw new EmbeddingConfigError(
        'The "local" embedding provider runs only in the embedded stack (deno task start), not in an Edge Function: set EMBEDDING_PROVIDER to "supabase" or "openai".',
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
