import { migrate } from "../../shared/db/migrate.ts";
import { openPglite } from "../../shared/db/pglite.ts";
import { openPostgres } from "../../shared/db/postgres.ts";
import type { Database } from "../../shared/db/types.ts";

export type Backend = "pglite" | "postgres";

/** PGlite always; the real PostgreSQL too when DATABASE_URL is set (CI sets it). */
export const BACKENDS: Backend[] = Deno.env.get("DATABASE_URL")
  ? ["pglite", "postgres"]
  : ["pglite"];

const SUPABASE_DEFAULTS = new URL("../../scripts/ci/supabase_defaults.sql", import.meta.url);

/**
 * Makes an unmigrated database look like a new hosted Supabase project: its API roles, and the
 * default privileges that grant them everything created in `public` (scripts/ci/supabase_defaults.sql,
 * which CI applies to its database too). Every test database gets it before migrating, so the
 * tests see the grants production will have. Serialised with migrate() by the same lock.
 */
export async function likeHostedSupabase(db: Database): Promise<void> {
  const sql = await Deno.readTextFile(SUPABASE_DEFAULTS);
  await db.transaction(async (tx) => {
    await tx.query("select pg_advisory_xact_lock(hashtext('codememory.migrate'))");
    await tx.exec(sql);
  });
}

/**
 * A migrated database: a fresh in-memory PGlite, or a pool on DATABASE_URL (shared, migrated
 * once). Each pool has its own application_name, so a stack on it gets the embed webhooks of
 * its own writes even while other test processes run stacks on the same database.
 */
export async function openTestDb(backend: Backend): Promise<Database> {
  const db = backend === "pglite" ? await openPglite() : openPostgres(
    Deno.env.get("DATABASE_URL")!,
    { max: 4, applicationName: `codememory-test-${crypto.randomUUID().slice(0, 8)}` },
  );
  await likeHostedSupabase(db);
  await migrate(db);
  return db;
}

/** Registers one Deno test per backend: `name [pglite]`, `name [postgres]`. */
export function testEachBackend(
  name: string,
  fn: (backend: Backend, t: Deno.TestContext) => Promise<void>,
  opts: Omit<Deno.TestDefinition, "name" | "fn"> = {},
): void {
  for (const backend of BACKENDS) {
    Deno.test({ ...opts, name: `${name} [${backend}]`, fn: (t) => fn(backend, t) });
  }
}
