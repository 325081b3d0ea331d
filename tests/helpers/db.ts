import { migrate } from "../../shared/db/migrate.ts";
import { openPglite } from "../../shared/db/pglite.ts";
import { openPostgres } from "../../shared/db/postgres.ts";
import type { Database } from "../../shared/db/types.ts";

export type Backend = "pglite" | "postgres";

/** Every backend a test is registered for; see `available` for those that run here. */
export const BACKENDS: readonly Backend[] = ["pglite", "postgres"];

/** Whether `backend` can run here: PGlite always, PostgreSQL when DATABASE_URL is set (CI). */
export const available = (backend: Backend): boolean =>
  backend === "pglite" || Boolean(Deno.env.get("DATABASE_URL"));

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
  await migrate(db);
  return db;
}

/**
 * Registers one Deno test per backend: `name [pglite]`, `name [postgres]`. Without DATABASE_URL
 * the PostgreSQL one is registered as ignored, so a local run shows what it did not run.
 */
export function testEachBackend(
  name: string,
  fn: (backend: Backend, t: Deno.TestContext) => Promise<void>,
  opts: Omit<Deno.TestDefinition, "name" | "fn"> = {},
): void {
  for (const backend of BACKENDS) {
    Deno.test({
      ...opts,
      name: `${name} [${backend}]`,
      ignore: opts.ignore || !available(backend),
      fn: (t) => fn(backend, t),
    });
  }
}
