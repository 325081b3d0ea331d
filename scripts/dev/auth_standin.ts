// A STAND-IN for Supabase Auth (GoTrue), for the embedded stack's tests and the supabase-js
// examples only: it never runs on Supabase, where GoTrue itself answers /auth/v1. It speaks
// the few endpoints supabase-js uses for email + password sessions (signup, token with the
// password and refresh_token grants, user, logout) and signs HS256 access tokens with the
// project's SUPABASE_JWT_SECRET, which the functions verify as they verify GoTrue's. Accounts
// live in memory (gone when the process ends); their auth.users rows are the stack's own.
import { Buffer } from "node:buffer";
import { createHash, timingSafeEqual } from "node:crypto";
import { jwtVerify, SignJWT } from "jose";
import { ensureUser } from "../../shared/auth/api_keys.ts";
import type { Database } from "../../shared/db/types.ts";

export const AUTH_PATH = "/auth/v1";
/** Access tokens live an hour, like supabase/config.toml's jwt_expiry. */
const EXPIRES_IN_SECONDS = 3600;

interface Account {
  id: string;
  email: string;
  salt: string;
  hash: Buffer;
  createdAt: string;
}

export interface AuthStandIn {
  /** Answers /auth/v1/… (null for other paths). */
  handle(req: Request): Promise<Response | null>;
  /** An account with this password (its auth.users row created when missing). */
  createUser(email: string, password: string): Promise<{ id: string; email: string }>;
}

const digest = (salt: string, password: string) =>
  createHash("sha256").update(`${salt}:${password}`).digest();

const error = (status: number, code: string, msg: string) =>
  Response.json({ code: status, error_code: code, msg }, { status });

export function createAuthStandIn(db: Database, jwtSecret: string): AuthStandIn {
  const key = new TextEncoder().encode(jwtSecret);
  const accounts = new Map<string, Account>();
  const refreshTokens = new Map<string, string>(); // token → email

  async function createUser(email: string, password: string) {
    const normalized = email.trim().toLowerCase();
    const id = await ensureUser(db, normalized);
    const salt = crypto.randomUUID();
    accounts.set(normalized, {
      id,
      email: normalized,
      salt,
      hash: digest(salt, password),
      createdAt: new Date().toISOString(),
    });
    return { id, email: normalized };
  }

  const user = (a: Account) => ({
    id: a.id,
    aud: "authenticated",
    role: "authenticated",
    email: a.email,
    email_confirmed_at: a.createdAt,
    app_metadata: { provider: "email", providers: ["email"] },
    user_metadata: {},
    identities: [],
    created_at: a.createdAt,
    updated_at: a.createdAt,
  });

  async function session(a: Account, issuer: string) {
    const now = Math.floor(Date.now() / 1000);
    const accessToken = await new SignJWT({ email: a.email, role: "authenticated" })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setSubject(a.id)
      .setAudience("authenticated")
      .setIssuer(issuer)
      .setIssuedAt(now)
      .setExpirationTime(now + EXPIRES_IN_SECONDS)
      .sign(key);
    const refreshToken = crypto.randomUUID().replaceAll("-", "");
    refreshTokens.set(refreshToken, a.email);
    return Response.json({
      access_token: accessToken,
      token_type: "bearer",
      expires_in: EXPIRES_IN_SECONDS,
      expires_at: now + EXPIRES_IN_SECONDS,
      refresh_token: refreshToken,
      user: user(a),
    });
  }

  function passwordMatches(a: Account | undefined, password: unknown): a is Account {
    if (!a || typeof password !== "string") return false;
    return timingSafeEqual(digest(a.salt, password), a.hash);
  }

  async function bearerAccount(req: Request): Promise<Account | undefined> {
    const token = req.headers.get("authorization")?.replace(/^Bearer\s+/i, "") ?? "";
    try {
      const { payload } = await jwtVerify(token, key, { algorithms: ["HS256"] });
      return [...accounts.values()].find((a) => a.id === payload.sub);
    } catch {
      return undefined;
    }
  }

  return {
    createUser,
    async handle(req) {
      const url = new URL(req.url);
      if (!url.pathname.startsWith(`${AUTH_PATH}/`)) return null;
      // Like GoTrue: every call names the project with its apikey (not checked here).
      if (!req.headers.get("apikey")) {
        return error(401, "no_api_key", "No API key found in request");
      }
      const issuer = `${url.origin}${AUTH_PATH}`;
      const route = `${req.method} ${url.pathname.slice(AUTH_PATH.length)}`;
      const body = req.method === "POST" ? await req.json().catch(() => ({})) : {};
      if (route === "POST /signup") {
        if (typeof body.email !== "string" || typeof body.password !== "string") {
          return error(400, "validation_failed", "Email and password are required");
        }
        if (body.password.length < 8) {
          return error(422, "weak_password", "Password should be at least 8 characters.");
        }
        const { email } = await createUser(body.email, body.password);
        return await session(accounts.get(email)!, issuer);
      }
      if (route === "POST /token") {
        const grant = url.searchParams.get("grant_type");
        if (grant === "password") {
          const a = accounts.get(String(body.email ?? "").trim().toLowerCase());
          if (!passwordMatches(a, body.password)) {
            return error(400, "invalid_credentials", "Invalid login credentials");
          }
          return await session(a, issuer);
        }
        if (grant === "refresh_token") {
          const email = refreshTokens.get(String(body.refresh_token ?? ""));
          if (!email) return error(400, "refresh_token_not_found", "Invalid Refresh Token");
          refreshTokens.delete(String(body.refresh_token)); // rotation, as configured
          return await session(accounts.get(email)!, issuer);
        }
        return error(400, "unsupported_grant_type", `Unsupported grant_type ${grant}`);
      }
      if (route === "GET /user") {
        const a = await bearerAccount(req);
        return a ? Response.json(user(a)) : error(401, "bad_jwt", "invalid JWT");
      }
      if (route === "POST /logout") {
        const a = await bearerAccount(req);
        if (a) {
          for (const [token, email] of refreshTokens) {
            if (email === a.email) refreshTokens.delete(token);
          }
        }
        return new Response(null, { status: 204 });
      }
      return error(404, "not_found", `The auth stand-in has no ${route}`);
    },
  };
}
