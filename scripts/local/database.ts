import { openPostgres } from "../../shared/db/postgres.ts";
import type { Database } from "../../shared/db/types.ts";
import { openPglite } from "./pglite.ts";

/** A real PostgreSQL when a URL is given, else PGlite persisted in dataDir (or in memory). */
export function openDatabase(opts: { databaseUrl?: string; dataDir?: string }): Promise<Database> {
  return opts.databaseUrl
    ? Promise.resolve(openPostgres(opts.databaseUrl))
    : openPglite(opts.dataDir);
}
