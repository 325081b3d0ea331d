import type { Database } from "../db/types.ts";
import { AppError, forbidden, unauthorized } from "../errors.ts";
import { type Scope, verifyApiKey } from "./api_keys.ts";

/** Who is calling, as established from the request's bearer credential. */
export interface Principal {
  userId: string;
  scopes: Scope[];
  via: "api_key";
  keyId: string;
}

export interface Authenticator {
  authenticate(req: Request): Promise<Principal>;
}

/** Extracts the bearer token; `Bearer` is case-insensitive per RFC 6750. */
export function bearerToken(req: Request): string | null {
  const header = req.headers.get("authorization");
  const match = header?.match(/^Bearer[ ]+([^\s]+)\s*$/i);
  return match ? match[1] : null;
}

export function createAuthenticator(
  db: Database,
  opts: { challenge?: () => string } = {},
): Authenticator {
  const fail = (message: string) => {
    const challenge = opts.challenge?.() ?? 'Bearer realm="codememory"';
    return unauthorized(message, { "WWW-Authenticate": challenge });
  };
  return {
    async authenticate(req) {
      const token = bearerToken(req);
      if (!token) throw fail("Missing credentials: send Authorization: Bearer <API key>");
      const key = await verifyApiKey(db, token);
      if (!key) throw fail("Invalid, expired or revoked API key");
      return { userId: key.user_id, scopes: key.scopes, via: "api_key", keyId: key.id };
    },
  };
}

/** Throws 403 unless the principal holds the scope. */
export function requireScope(principal: Principal, scope: Scope): void {
  if (!principal.scopes.includes(scope)) {
    throw forbidden(`This credential lacks the '${scope}' scope`);
  }
}

export const isAuthError = (err: unknown) => err instanceof AppError && err.status === 401;
