import postgres from "postgres";
import type { Database, Queryable } from "./types.ts";
import { SESSION_SEARCH_PATH } from "./types.ts";

export interface PostgresOptions {
  max?: number;
  /** Tells this pool's sessions apart (pg_stat_activity; the embed webhook's target). */
  applicationName?: string;
  /** Server notices and LOG messages (only with client_min_messages lowered). */
  onNotice?: (message: string) => void;
}

/** A pooled connection to a real PostgreSQL (local, or Supabase's SUPABASE_DB_URL). */
export function openPostgres(url: string, opts: PostgresOptions = {}): Database {
  const sql = postgres(url, {
    max: opts.max ?? 10,
    // Transaction-mode poolers (Supavisor :6543) cannot keep prepared statements.
    prepare: false,
    onnotice: (notice) => opts.onNotice?.(String(notice.message ?? "")),
    connection: {
      search_path: SESSION_SEARCH_PATH,
      timezone: "UTC",
      application_name: opts.applicationName ?? "codememory",
    },
  });
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
    ...wrap(sql),
    transaction: <T>(fn: (tx: Queryable) => Promise<T>) =>
      sql.begin((tx) => fn(wrap(tx))) as Promise<T>,
    async listen(channel, onNotify) {
      const { unlisten } = await sql.listen(channel, onNotify);
      return unlisten;
    },
    close: () => sql.end({ timeout: 5 }),
  };
}
