import { z } from "zod";

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
  CACHE_TTL_SECONDS: z.coerce.number().int().min(0).default(300),
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
