// Signing in and calling the functions: with an API key, or with a Supabase session (email and
// password through Supabase Auth's REST endpoint; the access token is then the bearer, and it is
// refreshed when it expires). The session lives in localStorage.

const STORAGE_KEY = "codememory.dashboard.session";

/**
 * @typedef {{ mode: "key", apiBase: string, key: string }} KeySession
 * @typedef {{ mode: "supabase", apiBase: string, supabaseUrl: string, anonKey: string,
 *   accessToken: string, refreshToken: string, expiresAt: number }} SupabaseSession
 * @typedef {KeySession | SupabaseSession} Session
 */

/** @returns {Session | null} */
export function loadSession() {
  try {
    return JSON.parse(localStorage.getItem(STORAGE_KEY) ?? "null");
  } catch {
    return null;
  }
}

/** @param {Session | null} session */
export function saveSession(session) {
  if (session) localStorage.setItem(STORAGE_KEY, JSON.stringify(session));
  else localStorage.removeItem(STORAGE_KEY);
}

const trimSlash = (url) => url.replace(/\/+$/, "");

/** Functions URL when the page is served by the embedded stack itself. */
export function defaultApiBase() {
  return location.protocol.startsWith("http") ? `${location.origin}/functions/v1` : "";
}

/** @param {string} apiBase @param {string} key @returns {KeySession} */
export function keySession(apiBase, key) {
  return { mode: "key", apiBase: trimSlash(apiBase), key: key.trim() };
}

/** Supabase Auth: POST /auth/v1/token?grant_type=… with the project's anon key. */
async function authToken(supabaseUrl, anonKey, grant, body) {
  const res = await fetch(`${trimSlash(supabaseUrl)}/auth/v1/token?grant_type=${grant}`, {
    method: "POST",
    headers: { apikey: anonKey, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    throw new Error(data.error_description ?? data.msg ?? `Sign-in failed (${res.status})`);
  }
  return data;
}

/** @returns {Promise<SupabaseSession>} */
export async function passwordSession(supabaseUrl, anonKey, email, password) {
  const t = await authToken(supabaseUrl, anonKey, "password", { email, password });
  return {
    mode: "supabase",
    apiBase: `${trimSlash(supabaseUrl)}/functions/v1`,
    supabaseUrl: trimSlash(supabaseUrl),
    anonKey,
    accessToken: t.access_token,
    refreshToken: t.refresh_token,
    expiresAt: Date.now() + t.expires_in * 1000,
  };
}

export class ApiError extends Error {
  /** @param {number} status @param {string} message */
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** Calls the functions as the signed-in user. */
export class Api {
  /** @param {Session} session @param {(s: Session) => void} onRefresh */
  constructor(session, onRefresh) {
    this.session = session;
    this.onRefresh = onRefresh;
  }

  async #bearer() {
    const s = this.session;
    if (s.mode === "key") return s.key;
    if (Date.now() > s.expiresAt - 60_000) {
      const t = await authToken(s.supabaseUrl, s.anonKey, "refresh_token", {
        refresh_token: s.refreshToken,
      });
      this.session = {
        ...s,
        accessToken: t.access_token,
        refreshToken: t.refresh_token,
        expiresAt: Date.now() + t.expires_in * 1000,
      };
      this.onRefresh(this.session);
    }
    return /** @type {SupabaseSession} */ (this.session).accessToken;
  }

  /** @param {string} path e.g. "/analytics/insights?days=30" @param {unknown} [body] */
  async request(path, body) {
    const headers = {
      authorization: `Bearer ${await this.#bearer()}`,
      "x-client-name": "code-memory-dashboard",
    };
    if (body !== undefined) headers["content-type"] = "application/json";
    const res = await fetch(`${this.session.apiBase}${path}`, {
      method: body === undefined ? "GET" : "POST",
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) {
      throw new ApiError(res.status, data.error?.message ?? `Request failed (${res.status})`);
    }
    return data;
  }
}
