import type { Database } from "../../../shared/db/types.ts";

const SQL_FILE = new URL("./pg_net.sql", import.meta.url);

/** The channel net.http_post notifies (on commit) in the stand-in. */
export const PG_NET_CHANNEL = "pg_net_standin";

/** Whether this database has the real pg_net (Supabase, or a server with it installed). */
export async function hasRealPgNet(db: Database): Promise<boolean> {
  const [row] = await db.query<{ available: boolean }>(
    `select exists (select 1 from pg_available_extensions where name = 'pg_net') as available`,
  );
  return row.available;
}

/**
 * Installs the pg_net stand-in unless the real extension is available (then its background
 * worker delivers requests and no relay is needed). Idempotent, and serialised by an advisory
 * lock so processes sharing one PostgreSQL can install it at the same time.
 * Returns true when the stand-in is in place (so the caller must run the relay).
 */
export async function installPgNetStandIn(db: Database): Promise<boolean> {
  if (await hasRealPgNet(db)) return false;
  const sql = await Deno.readTextFile(SQL_FILE);
  await db.transaction(async (tx) => {
    await tx.query("select pg_advisory_xact_lock(hashtext('codememory.pg_net_standin'))");
    await tx.exec(sql);
  });
  return true;
}
