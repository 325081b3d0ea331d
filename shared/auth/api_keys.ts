import type { Database, Queryable } from "../db/types.ts";

/** API keys look like `cm_` + 43 base64url chars (256 random bits); only SHA-256 is stored. */
export const API_KEY_PREFIX = "cm_";
const API_KEY_PATTERN = /^cm_[A-Za-z0-9_-]{43}$/;

export type Scope = "read" | "write";

export interface ApiKeyRecord {
  id: string;
  user_id: string;
  name: string;
  prefix: string;
  scopes: Scope[];
}

export async function sha256Hex(value: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(value));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

export function generateApiKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  const b64 = btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_");
  return API_KEY_PREFIX + b64.replace(/=+$/, "");
}

/** A new key and what is stored of it: its first 10 characters and its SHA-256. */
export async function newApiKey(): Promise<{ key: string; prefix: string; keyHash: string }> {
  const key = generateApiKey();
  return { key, prefix: key.slice(0, 10), keyHash: await sha256Hex(key) };
}

export const looksLikeApiKey = (token: string) => API_KEY_PATTERN.test(token);
/** Bearer tokens with our prefix are API keys (well-formed or not); anything else may be a JWT. */
export const isApiKeyCandidate = (token: string) => token.startsWith(API_KEY_PREFIX);

/** Finds or creates the user with this email (the embedded stack's stand-in for sign-up). */
export async function ensureUser(db: Database, email: string): Promise<string> {
  const normalized = email.trim().toLowerCase();
  const [existing] = await db.query<{ id: string }>(
    "select id from auth.users where lower(email) = $1 limit 1",
    [normalized],
  );
  if (existing) return existing.id;
  const [created] = await db.query<{ id: string }>(
    "insert into auth.users (id, email) values (gen_random_uuid(), $1) returning id",
    [normalized],
  );
  return created.id;
}

/**
 * Creates a key for the user and returns the secret: the only time it is ever visible. Works
 * privileged (CLI, tests) or inside asUser(), where RLS checks the user and only granted columns
 * are returned (never key_hash).
 */
export async function createApiKey(
  db: Queryable,
  userId: string,
  opts: { name?: string; scopes?: Scope[]; expiresAt?: string } = {},
): Promise<{ key: string; record: ApiKeyRecord }> {
  const { key, prefix, keyHash } = await newApiKey();
  const [record] = await db.query<ApiKeyRecord>(
    `insert into api_keys (user_id, name, prefix, key_hash, scopes, expires_at)
     values ($1, $2, $3, $4, $5::text[], $6::timestamptz)
     returning id, user_id, name, prefix, scopes`,
    [
      userId,
      opts.name ?? "default",
      prefix,
      keyHash,
      opts.scopes ?? ["read", "write"],
      opts.expiresAt ?? null,
    ],
  );
  return { key, record };
}

/**
 * The key's record if it is valid (not revoked, not expired), else null. Looks the key up by its
 * hash, so no secret is compared in application code. Touches last_used_at at most once a minute.
 */
export async function verifyApiKey(db: Database, key: string): Promise<ApiKeyRecord | null> {
  if (!looksLikeApiKey(key)) return null;
  const [row] = await db.query<ApiKeyRecord & { stale: boolean }>(
    `select id, user_id, name, prefix, scopes,
            (last_used_at is null or last_used_at < now() - interval '1 minute') as stale
     from api_keys
     where key_hash = $1 and revoked_at is null and (expires_at is null or expires_at > now())`,
    [await sha256Hex(key)],
  );
  if (!row) return null;
  if (row.stale) {
    await db.query("update api_keys set last_used_at = now() where id = $1", [row.id]);
  }
  const { stale: _, ...record } = row;
  return record;
}
