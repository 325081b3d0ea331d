// PostgreSQL only: this is what Edge Functions import. The embedded stack's PGlite and the choice
// between the two live in scripts/local/ (pglite.ts, database.ts).
export type { Database, Queryable, Row } from "./types.ts";
export { asUser } from "./as_user.ts";
export { migrate } from "./migrate.ts";
export { openPostgres } from "./postgres.ts";
