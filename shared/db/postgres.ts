import postgres from "postgres";
import { isDatabaseUnavailable } from "../errors.ts";
import { log } from "../log.ts";
import { Backoff } from "../periodic.ts";
import { onBrokenConnection } from "./postgres_guard.ts";
import type { Database, Queryable } from "./types.ts";
import { SESSION_SEARCH_PATH } from "./types.ts";

export interface PostgresOptions {
  max?: number;
  /** Tells this pool's sessions apart (pg_stat_activity; the embed webhook's target). */
  applicationName?: string;
  /** Server notices and LOG messages (only with client_min_messages lowered). */
  onNotice?: (message: string) => void;
}

/** Failures within this window after the first one lead to a single new pool. */
const REPLACE_AFTER_MS = 250;
/** Pauses between attempts to LISTEN again on a new pool: 1 s, doubling up to 30 s. */
const RELISTEN_AFTER_MS = 500;
const RELISTEN_AT_MOST_EVERY_MS = 30_000;

interface Subscription {
  channel: string;
  onNotify: (payload: string) => void;
  unlisten?: () => Promise<void>;
}

/**
 * A pooled connection to a real PostgreSQL (local, or Supabase's SUPABASE_DB_URL).
 *
 * It survives the server restarting or failing over. postgres.js 3.4.9 reconnects, but a
 * connection whose socket closed while a write was queued never flushes a write again, so every
 * query later sent to it hangs (porsager/postgres#1154, #1208; see postgres_guard.ts for the
 * crash the same bug causes). Such a socket always fails a query first, so after a connection
 * failure this pool starts over with fresh connections: the old pool ends at once (its queries
 * fail with a connection error, a 503 to retry) and LISTENs move to the new one.
 */
export function openPostgres(url: string, opts: PostgresOptions = {}): Database {
  const connect = () =>
    postgres(url, {
      max: opts.max ?? 10,
      // Transaction-mode poolers (Supavisor :6543) cannot keep prepared statements.
      prepare: false,
      // Not the default 30 s: a request should get its 503 while the client still waits.
      connect_timeout: 10,
      onnotice: (notice) => opts.onNotice?.(String(notice.message ?? "")),
      connection: {
        search_path: SESSION_SEARCH_PATH,
        timezone: "UTC",
        application_name: opts.applicationName ?? "codememory",
      },
    });
  let sql = connect();
  let closed = false;
  const subscriptions = new Set<Subscription>();

  // Waits between LISTEN attempts, cut short by close() so that no timer outlives the pool.
  const pauses = new Set<() => void>();
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const end = () => {
        clearTimeout(timer);
        pauses.delete(end);
        resolve();
      };
      const timer = setTimeout(end, ms);
      pauses.add(end);
    });

  /** LISTENs on the current pool, retrying until it works or the pool is replaced again. */
  const subscribe = async (sub: Subscription) => {
    const pool = sql;
    const backoff = new Backoff(RELISTEN_AFTER_MS, RELISTEN_AT_MOST_EVERY_MS);
    while (!closed && pool === sql && subscriptions.has(sub)) {
      try {
        sub.unlisten = (await pool.listen(sub.channel, sub.onNotify)).unlisten;
        return;
      } catch (err) {
        const wait = backoff.fail();
        log.warn(`LISTEN ${sub.channel} failed; trying again in ${wait} ms`, err);
        await pause(wait);
      }
    }
  };

  const replacePool = () => {
    if (closed) return;
    const broken = sql;
    sql = connect();
    broken.end({ timeout: 0 }).catch((err) => log.warn("ending the old pool failed", err));
    for (const sub of subscriptions) void subscribe(sub);
  };
  let replacing: ReturnType<typeof setTimeout> | undefined;
  const replaceSoon = () => {
    if (closed) return;
    replacing ??= setTimeout(() => {
      replacing = undefined;
      replacePool();
    }, REPLACE_AFTER_MS);
  };
  const stopGuard = onBrokenConnection(replacePool);

  /** Runs a statement; a failure to reach the server leads to fresh connections. */
  const run = async <T>(statement: () => Promise<T>): Promise<T> => {
    try {
      return await statement();
    } catch (err) {
      if (isDatabaseUnavailable(err)) replaceSoon();
      throw err;
    }
  };
  const wrap = (q: postgres.Sql | postgres.TransactionSql): Queryable => ({
    async query<T>(text: string, params?: readonly unknown[]) {
      const rows = await q.unsafe(text, (params ?? []) as postgres.ParameterOrJSON<never>[]);
      return rows as unknown as T[];
    },
    async exec(script: string) {
      await q.unsafe(script);
    },
  });
  return {
    kind: "postgres",
    query: <T>(text: string, params?: readonly unknown[]) =>
      run(() => wrap(sql).query<T>(text, params)),
    exec: (script) => run(() => wrap(sql).exec(script)),
    transaction: <T>(fn: (tx: Queryable) => Promise<T>) =>
      run(() => sql.begin((tx) => fn(wrap(tx))) as Promise<T>),
    async listen(channel, onNotify) {
      const sub: Subscription = { channel, onNotify };
      sub.unlisten = (await sql.listen(channel, onNotify)).unlisten;
      subscriptions.add(sub);
      return async () => {
        subscriptions.delete(sub);
        await sub.unlisten?.();
      };
    },
    close() {
      closed = true;
      clearTimeout(replacing);
      for (const end of pauses) end();
      stopGuard();
      return sql.end({ timeout: 5 });
    },
  };
}
