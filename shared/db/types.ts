/** A row as both drivers return it: column name → value. */
export type Row = Record<string, unknown>;

/** Anything that runs one parameterised statement ($1, $2, …). */
export interface Queryable {
  query<T = Row>(text: string, params?: readonly unknown[]): Promise<T[]>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

/**
 * The one database interface the product uses, over postgres.js (DATABASE_URL) or PGlite.
 * Plain `query` runs as the connection's own (privileged) role: only migrations, the embed
 * worker and key administration use it. User data goes through `asUser` (see as_user.ts).
 */
export interface Database extends Queryable {
  readonly kind: "postgres" | "pglite";
  /** Runs fn in one transaction; commits when it resolves, rolls back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** LISTEN on a channel; resolves to an unsubscribe function. */
  listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** Session settings both drivers apply on every connection. */
export const SESSION_SEARCH_PATH = "public, extensions";
