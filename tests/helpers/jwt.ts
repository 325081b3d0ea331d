/**
 * Supabase-style access tokens for tests: HS256 with a shared secret, and ES256/RS256 keys
 * published by a local JWKS server that stands in for <SUPABASE_URL>/auth/v1.
 */
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from "jose";

export const TEST_JWT_SECRET = "test-jwt-secret-with-at-least-32-characters!";

/** Claims of a signed-in Supabase user, valid for an hour. */
export function userClaims(sub: string, extra: JWTPayload = {}): JWTPayload {
  const now = Math.floor(Date.now() / 1000);
  return {
    sub,
    aud: "authenticated",
    role: "authenticated",
    email: `${sub}@jwt.test`,
    iat: now,
    exp: now + 3600,
    ...extra,
  };
}

export async function signHs256(claims: JWTPayload, secret = TEST_JWT_SECRET): Promise<string> {
  return await new SignJWT(claims).setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .sign(new TextEncoder().encode(secret));
}

/** An unsigned token (`alg: none`), which must never be accepted. */
export function unsigned(claims: JWTPayload): string {
  const b64 = (v: unknown) =>
    btoa(JSON.stringify(v)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  return `${b64({ alg: "none", typ: "JWT" })}.${b64(claims)}.`;
}

type Alg = "ES256" | "RS256";

export interface JwksServer extends AsyncDisposable {
  /** Use as SUPABASE_URL: the issuer is `${url}/auth/v1`. */
  url: string;
  issuer: string;
  /** How many times the key set was fetched. */
  fetches: number;
  sign(alg: Alg, claims: JWTPayload, opts?: { kid?: string; untrusted?: boolean }): Promise<string>;
  close(): Promise<void>;
}

/** Serves the public keys of one ES256 and one RS256 pair; `untrusted` signs with a stranger's key. */
export async function startJwksServer(): Promise<JwksServer> {
  const keys = {
    ES256: await generateKeyPair("ES256", { extractable: true }),
    RS256: await generateKeyPair("RS256", { extractable: true }),
  };
  const strangers = {
    ES256: await generateKeyPair("ES256"),
    RS256: await generateKeyPair("RS256"),
  };
  const jwks = {
    keys: await Promise.all((Object.keys(keys) as Alg[]).map(async (alg) => ({
      ...(await exportJWK(keys[alg].publicKey)),
      kid: `${alg}-key`,
      alg,
      use: "sig",
    }))),
  };
  const state = { fetches: 0 };
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, (req) => {
    if (new URL(req.url).pathname !== "/auth/v1/.well-known/jwks.json") {
      return new Response("not found", { status: 404 });
    }
    state.fetches++;
    return Response.json(jwks);
  });
  const url = `http://127.0.0.1:${server.addr.port}`;
  const close = () => server.shutdown();
  return {
    url,
    issuer: `${url}/auth/v1`,
    get fetches() {
      return state.fetches;
    },
    async sign(alg, claims, opts = {}) {
      const key = opts.untrusted ? strangers[alg].privateKey : keys[alg].privateKey;
      return await new SignJWT(claims)
        .setProtectedHeader({ alg, typ: "JWT", kid: opts.kid ?? `${alg}-key` })
        .sign(key);
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
