export type { Database, Queryable, Row } from "./types.ts";
export { asUser } from "./as_user.ts";
export { migrate } from "./migrate.ts";
export { openPglite } from "./pglite.ts";
export { openPostgres } from "./postgres.ts";

import { openPglite } from "./pglite.ts";
import { openPostgres } from "./postgres.ts";
import type { Database } from "./types.ts";

/** A real PostgreSQL when a URL is given, else PGlite persisted in dataDir (or in memory). */
export function openDatabase(opts: { databaseUrl?: string; dataDir?: string }): Promise<Database> {
  return opts.databaseUrl
    ? Promise.resolve(openPostgres(opts.databaseUrl))
    : openPglite(opts.dataDir);
}
