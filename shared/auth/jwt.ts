import { createRemoteJWKSet, decodeProtectedHeader, errors, jwtVerify } from "jose";
import type { JWTPayload, JWTVerifyGetKey } from "jose";
import { AppError } from "../errors.ts";
import { log } from "../log.ts";

/**
 * Supabase Auth access tokens (sessions of supabase-js, and OAuth 2.1 tokens issued to MCP
 * clients). Two signing schemes exist per project:
 *   - asymmetric signing keys (ES256 / RS256), published at <SUPABASE_URL>/auth/v1/.well-known/jwks.json;
 *   - the legacy shared secret (HS256, SUPABASE_JWT_SECRET).
 * Each scheme only accepts its own algorithms, so a token can never choose how it is checked
 * (no `none`, no HS256 signed with a public key).
 */

export const ASYMMETRIC_ALGORITHMS = ["ES256", "RS256"];
export const SYMMETRIC_ALGORITHMS = ["HS256"];
/** Clock skew tolerated between the issuer and this server. */
export const CLOCK_TOLERANCE_SECONDS = 30;
/** Longer tokens are rejected before any parsing (a JWT from Supabase is ~1 KB). */
export const MAX_JWT_LENGTH = 8 * 1024;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface JwtConfig {
  SUPABASE_URL?: string;
  SUPABASE_JWT_SECRET?: string;
}

export interface VerifiedJwt {
  userId: string;
  email?: string;
  claims: JWTPayload;
}

/** A token that failed verification; the message is safe to return to the caller. */
export class InvalidJwtError extends Error {
  override name = "InvalidJwtError";
}

export interface JwtVerifier {
  verify(token: string): Promise<VerifiedJwt>;
}

/** `${SUPABASE_URL}/auth/v1`: the issuer of the project's tokens and its OAuth server. */
export const authIssuer = (supabaseUrl: string) => `${supabaseUrl.replace(/\/+$/, "")}/auth/v1`;

/** A verifier for the configured project, or null when neither scheme is configured. */
export function createJwtVerifier(config: JwtConfig): JwtVerifier | null {
  const issuer = config.SUPABASE_URL ? authIssuer(config.SUPABASE_URL) : undefined;
  // jose caches the key set and refetches it (rate limited) when an unknown `kid` shows up.
  const jwks: JWTVerifyGetKey | undefined = issuer
    ? createRemoteJWKSet(new URL(`${issuer}/.well-known/jwks.json`), {
      timeoutDuration: 5000,
      cooldownDuration: 30_000,
      cacheMaxAge: 10 * 60_000,
    })
    : undefined;
  const secret = config.SUPABASE_JWT_SECRET
    ? new TextEncoder().encode(config.SUPABASE_JWT_SECRET)
    : undefined;
  if (!jwks && !secret) return null;

  return {
    async verify(token) {
      if (token.length > MAX_JWT_LENGTH) throw new InvalidJwtError("Token is too long");
      let alg: unknown;
      try {
        alg = decodeProtectedHeader(token).alg;
      } catch {
        throw new InvalidJwtError("Malformed token: not an API key (cm_…) or a JWT");
      }
      const symmetric = SYMMETRIC_ALGORITHMS.includes(String(alg));
      const key = symmetric ? secret : jwks;
      if (!key) {
        throw new InvalidJwtError(
          `Tokens signed with ${String(alg).slice(0, 16)} are not accepted here`,
        );
      }
      try {
        const { payload } = await jwtVerify(token, key as Uint8Array & JWTVerifyGetKey, {
          algorithms: symmetric ? SYMMETRIC_ALGORITHMS : ASYMMETRIC_ALGORITHMS,
          audience: "authenticated",
          issuer,
          clockTolerance: CLOCK_TOLERANCE_SECONDS,
          requiredClaims: ["exp", "sub"],
        });
        return toVerified(payload);
      } catch (err) {
        if (err instanceof InvalidJwtError) throw err;
        if (err instanceof errors.JWKSTimeout || !(err instanceof errors.JOSEError)) {
          // The key set could not be fetched: our problem, not the token's.
          log.error("jwks unavailable", err);
          throw new AppError({
            status: 503,
            code: "unavailable",
            message: "Token keys are unavailable; try again shortly",
          });
        }
        throw new InvalidJwtError(describe(err));
      }
    },
  };
}

function toVerified(payload: JWTPayload): VerifiedJwt {
  if (payload.role !== "authenticated") {
    throw new InvalidJwtError("Token is not for a signed-in user (role must be 'authenticated')");
  }
  if (typeof payload.sub !== "string" || !UUID.test(payload.sub)) {
    throw new InvalidJwtError("Token subject is not a user id");
  }
  const email = typeof payload.email === "string" ? payload.email : undefined;
  return { userId: payload.sub.toLowerCase(), email, claims: payload };
}

/** What went wrong, in words that help a client fix it without echoing the token. */
function describe(err: errors.JOSEError): string {
  if (err instanceof errors.JWTExpired) return "Token has expired; sign in again";
  if (err instanceof errors.JWTClaimValidationFailed) {
    return `Token claim '${err.claim}' is invalid (${err.reason})`;
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return "Token algorithm is not allowed";
  if (err instanceof errors.JWSSignatureVerificationFailed) return "Token signature is invalid";
  if (err instanceof errors.JWKSNoMatchingKey) return "Token was signed with an unknown key";
  return "Token is invalid";
}
