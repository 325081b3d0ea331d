import * as z from "zod";

const optionalString = z.string().trim().min(1).optional().catch(undefined);
const optionalUrl = z.preprocess((v) => (v === "" ? undefined : v), z.url().optional());

const schema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(54321),
  HOST: z.string().default("127.0.0.1"),
  CODEMEMORY_DATA_DIR: z.string().min(1).default(".codememory"),
  /** A real PostgreSQL; on Supabase the runtime provides SUPABASE_DB_URL. */
  DATABASE_URL: optionalUrl,
  SUPABASE_DB_URL: optionalUrl,
  /** Where the functions are reachable from the database (webhooks) and clients (metadata). */
  PUBLIC_URL: optionalUrl,
  EMBEDDING_PROVIDER: z.enum(["local", "openai", "supabase", "hash"]).optional(),
  OPENAI_API_KEY: optionalString,
  OPENAI_BASE_URL: optionalUrl,
  EMBEDDING_MODEL: optionalString,
  WEBHOOK_SECRET: optionalString,
  UPSTASH_REDIS_REST_URL: optionalUrl,
  UPSTASH_REDIS_REST_TOKEN: optionalString,
  RATE_LIMIT_REQUESTS: z.coerce.number().int().min(0).default(600),
  RATE_LIMIT_WINDOW_SECONDS: z.coerce.number().int().min(1).default(60),
  SUPABASE_URL: optionalUrl,
  SUPABASE_JWT_SECRET: optionalString,
  /** Human-readable docs for MCP clients (RFC 9728 resource_documentation), e.g. docs/clients.md. */
  DOCS_URL: optionalUrl,
  CACHE_TTL_SECONDS: z.coerce.number().int().min(0).default(300),
  /** Raw usage events older than this are purged by the analytics job (rollups stay). */
  ANALYTICS_RETENTION_DAYS: z.coerce.number().int().min(1).max(36500).default(90),
  /** How often the embedded stack rolls analytics up (today so far + yesterday); 0 = never. */
  ANALYTICS_ROLLUP_INTERVAL_MINUTES: z.coerce.number().min(0).default(60),
});

export type Config = z.infer<typeof schema> & { databaseUrl?: string };

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Parses the environment once; a bad value fails fast naming the variable and the problem. */
export function loadConfig(env: Record<string, string | undefined> = Deno.env.toObject()): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n  ${problems.join("\n  ")}`);
  }
  const config = parsed.data;
  return { ...config, databaseUrl: config.DATABASE_URL ?? config.SUPABASE_DB_URL };
}

/** Shorter secrets are guessable; the embedded stack generates 43-character ones. */
const MIN_WEBHOOK_SECRET_LENGTH = 16;

/**
 * The secret the database webhook sends to `embed` (Vault `codememory_webhook_secret` on
 * Supabase, generated and stored by the embedded stack). `embed` refuses to start without it.
 */
export function requireWebhookSecret(config: Config): string {
  const secret = config.WEBHOOK_SECRET;
  if (!secret || secret.length < MIN_WEBHOOK_SECRET_LENGTH) {
    throw new ConfigError(
      `WEBHOOK_SECRET must be set to at least ${MIN_WEBHOOK_SECRET_LENGTH} characters for the ` +
        "embed function: the same value as Vault's codememory_webhook_secret, which the " +
        "database webhook sends.",
    );
  }
  return secret;
}
