import type { Database } from "../db/types.ts";
import { AppError, forbidden, unauthorized } from "../errors.ts";
import { isApiKeyCandidate, type Scope, verifyApiKey } from "./api_keys.ts";
import { bearerChallenge } from "./challenge.ts";
import { createJwtVerifier, InvalidJwtError, type JwtConfig, type JwtVerifier } from "./jwt.ts";

/** Who is calling, as established from the request's bearer credential. */
export interface Principal {
  userId: string;
  scopes: Scope[];
  via: "api_key" | "jwt";
  /** The API key used (via api_key). */
  keyId?: string;
  /** The OAuth client that obtained the token (Supabase OAuth 2.1 server tokens only). */
  clientId?: string;
}

export interface AuthenticateOptions {
  /** RFC 9728 metadata URL to advertise in the 401 challenge (the mcp function sets it). */
  resourceMetadata?: string;
}

export interface Authenticator {
  authenticate(req: Request, opts?: AuthenticateOptions): Promise<Principal>;
}

export interface AuthenticatorOptions {
  /** SUPABASE_URL (JWKS, issuer) and SUPABASE_JWT_SECRET; without either, only API keys work. */
  config?: JwtConfig;
  /**
   * Create the auth.users row of a verified JWT's subject when it is missing. The embedded stack
   * has its own stand-in auth.users; on Supabase, GoTrue owns the table and this stays off.
   */
  provisionUsers?: boolean;
}

/** Extracts the bearer token; `Bearer` is case-insensitive per RFC 6750. */
export function bearerToken(req: Request): string | null {
  const header = req.headers.get("authorization");
  const match = header?.match(/^Bearer[ ]+([^\s]+)\s*$/i);
  return match ? match[1] : null;
}

/** JWT principals act for a signed-in user, who holds every scope their project roles allow. */
const JWT_SCOPES: Scope[] = ["read", "write"];

/**
 * Bearer authentication: `cm_…` tokens are API keys (looked up by hash), anything else must be
 * a Supabase JWT. Every failure is a 401 with a WWW-Authenticate challenge.
 */
export function createAuthenticator(db: Database, opts: AuthenticatorOptions = {}): Authenticator {
  const jwt: JwtVerifier | null = opts.config ? createJwtVerifier(opts.config) : null;
  const known = new KnownUsers(db, opts.provisionUsers ?? false);

  return {
    async authenticate(req, { resourceMetadata } = {}) {
      const token = bearerToken(req);
      const fail = (message: string) =>
        unauthorized(message, {
          "WWW-Authenticate": bearerChallenge({
            resourceMetadata,
            error: token || req.headers.has("authorization") ? "invalid_token" : undefined,
            description: token ? message : undefined,
          }),
        });

      if (!token) {
        throw fail(
          req.headers.has("authorization")
            ? "Malformed Authorization header: expected 'Bearer <API key or access token>'"
            : "Missing credentials: send Authorization: Bearer <API key or access token>",
        );
      }
      if (isApiKeyCandidate(token)) {
        const key = await verifyApiKey(db, token);
        if (!key) throw fail("Invalid, expired or revoked API key");
        return { userId: key.user_id, scopes: key.scopes, via: "api_key", keyId: key.id };
      }
      if (!jwt) throw fail("Invalid API key (keys start with cm_)");
      try {
        const verified = await jwt.verify(token);
        await known.ensure(verified.userId, verified.email);
        const clientId = verified.claims.client_id;
        return {
          userId: verified.userId,
          scopes: JWT_SCOPES,
          via: "jwt",
          clientId: typeof clientId === "string" ? clientId : undefined,
        };
      } catch (err) {
        if (err instanceof InvalidJwtError) throw fail(err.message);
        throw err;
      }
    },
  };
}

/** Remembers which JWT subjects exist locally, creating them when provisioning is on. */
class KnownUsers {
  #seen = new Set<string>();
  constructor(readonly db: Database, readonly provision: boolean) {}

  async ensure(userId: string, email?: string): Promise<void> {
    if (!this.provision || this.#seen.has(userId)) return;
    // The email is kept only if no other local user has it (emails are unique here).
    await this.db.query(
      `insert into auth.users (id, email)
       select $1::uuid, case when exists (select 1 from auth.users where lower(email) = lower($2))
                             then null else lower($2) end
       on conflict do nothing`,
      [userId, email ?? null],
    );
    if (this.#seen.size > 10_000) this.#seen.clear();
    this.#seen.add(userId);
  }
}

/** Throws 403 unless the principal holds the scope. */
export function requireScope(principal: Principal, scope: Scope): void {
  if (!principal.scopes.includes(scope)) {
    throw forbidden(
      scope === "write"
        ? "This API key has read-only access (scope 'read'); use a key with the 'write' scope to change anything"
        : `This credential lacks the '${scope}' scope`,
    );
  }
}

export const isAuthError = (err: unknown) => err instanceof AppError && err.status === 401;
