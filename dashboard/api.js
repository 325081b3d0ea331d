// The dashboard's one way to reach Code Memory: supabase-js (served by the stack itself as
// ./vendor/supabase-js.js, no CDN). Signed in with an API key, or with a Supabase account
// (supabase-js keeps and refreshes that session); either way every call is
// `functions.invoke` on the functions, so pages only ever call `api.request(path, …)`.
import { createClient, FunctionsHttpError } from "./vendor/supabase-js.js";

/** What survives a reload: how to rebuild the client (supabase-js keeps its own session). */
const STORAGE_KEY = "codememory.dashboard.session";
/** supabase-js's storage key for the Supabase account's session. */
const AUTH_STORAGE_KEY = "codememory.dashboard.auth";
const CLIENT_HEADERS = { "x-client-name": "code-memory-dashboard" };

/**
 * @typedef {{ mode: "key", apiBase: string, key: string }} KeySession
 * @typedef {{ mode: "supabase", supabaseUrl: string, anonKey: string }} SupabaseSession
 * @typedef {KeySession | SupabaseSession} Session
 */

const trimSlash = (url) => url.replace(/\/+$/, "");

/** Functions URL when the page is served by the embedded stack itself. */
export function defaultApiBase() {
  return location.protocol.startsWith("http") ? `${location.origin}/functions/v1` : "";
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
  /** @param {Session} session @param {import("./vendor/supabase-js.js").SupabaseClient} client */
  constructor(session, client) {
    this.session = session;
    this.client = client;
  }

  /** This deployment's functions URL (the MCP endpoint is `${functionsUrl}/mcp`). */
  get functionsUrl() {
    return this.session.mode === "key"
      ? this.session.apiBase
      : `${this.session.supabaseUrl}/functions/v1`;
  }

  /**
   * `path` is a function and its route, e.g. "analytics/insights?days=30" or
   * "memories/search"; a body makes it a POST (or pass the method).
   * @param {string} path @param {unknown} [body] @param {string} [method]
   */
  async request(path, body, method = body === undefined ? "GET" : "POST") {
    const { data, error } = await this.client.functions.invoke(path.replace(/^\/+/, ""), {
      method,
      body,
    });
    if (error) throw await apiError(error);
    return data;
  }

  /** Forgets the session here (and ends a Supabase account's session at Supabase Auth). */
  async signOut() {
    if (this.session.mode === "supabase") await this.client.auth.signOut().catch(() => {});
    localStorage.removeItem(STORAGE_KEY);
  }
}

/** The function's `{ error: { message } }` and status, from supabase-js's error. */
async function apiError(error) {
  if (error instanceof FunctionsHttpError) {
    const res = /** @type {Response} */ (error.context);
    const data = await res.json().catch(() => ({}));
    return new ApiError(res.status, data.error?.message ?? `Request failed (${res.status})`);
  }
  return new ApiError(0, error.message ?? String(error));
}

/** Functions URL → project URL (supabase-js adds /functions/v1 itself). */
const projectUrl = (apiBase) => trimSlash(apiBase).replace(/\/functions\/v1$/, "");

/** @param {Session} session */
function clientFor(session) {
  if (session.mode === "key") {
    // The API key is the bearer of every call; there is no Supabase Auth session to keep.
    return createClient(projectUrl(session.apiBase), session.key, {
      auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
      global: { headers: CLIENT_HEADERS },
    });
  }
  return createClient(session.supabaseUrl, session.anonKey, {
    auth: { storageKey: AUTH_STORAGE_KEY, persistSession: true, autoRefreshToken: true },
    global: { headers: CLIENT_HEADERS },
  });
}

/** @param {string} apiBase @param {string} key */
export function signInWithKey(apiBase, key) {
  /** @type {KeySession} */
  const session = { mode: "key", apiBase: trimSlash(apiBase), key: key.trim() };
  localStorage.setItem(STORAGE_KEY, JSON.stringify(session));
  return new Api(session, clientFor(session));
}

/** Email and password at Supabase Auth; supabase-js then holds and refreshes the session. */
export async function signInWithPassword(supabaseUrl, anonKey, email, password) {
  /** @type {SupabaseSession} */
  const session = { mode: "supabase", supabaseUrl: trimSlash(supabaseUrl), anonKey };
  const client = clientFor(session);
  const { error } = await client.auth.signInWithPassword({ email, password });
  if (error) throw new ApiError(error.status ?? 400, error.message);
  localStorage.setItem(STORAGE_KEY, JSON.stringify(session));
  return new Api(session, client);
}

/** The session of an earlier visit, if it is still there; else null. */
export async function restoreSession() {
  let session;
  try {
    session = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? "null");
  } catch {
    session = null;
  }
  if (!session) return null;
  const api = new Api(session, clientFor(session));
  if (session.mode === "supabase") {
    const { data } = await api.client.auth.getSession();
    if (!data.session) {
      localStorage.removeItem(STORAGE_KEY);
      return null;
    }
  }
  return api;
}
