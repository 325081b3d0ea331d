import { type ExplainableDb, openExplainableDb } from "../../scripts/bench/lib/explain.ts";
import { scratchDatabase } from "../../scripts/bench/lib/scratch_db.ts";
import { migrate } from "../../shared/db/migrate.ts";
import { openPglite } from "../../scripts/local/pglite.ts";
import { openPostgres, type PostgresOptions } from "../../shared/db/postgres.ts";
import type { Database } from "../../shared/db/types.ts";

export type Backend = "pglite" | "postgres";

/** Every backend a test is registered for; see `available` for those that run here. */
export const BACKENDS: readonly Backend[] = ["pglite", "postgres"];

/** Whether `backend` can run here: PGlite always, PostgreSQL when DATABASE_URL is set (CI). */
export const available = (backend: Backend): boolean =>
  backend === "pglite" || Boolean(Deno.env.get("DATABASE_URL"));

const databaseUrl = () => Deno.env.get("DATABASE_URL")!;

/** A short random name part: tests in other processes share the server. */
const randomSuffix = () => crypto.randomUUID().replaceAll("-", "").slice(0, 12);

const SUPABASE_DEFAULTS = new URL("../../scripts/ci/supabase_defaults.sql", import.meta.url);

/**
 * Makes an unmigrated database look like a new hosted Supabase project: its API roles, and the
 * default privileges that grant them everything created in `public`
 * (scripts/ci/supabase_defaults.sql, which CI applies to its databases too). Every test
 * database gets it before migrating, so tests see the privileges production will have.
 * Serialised with migrate() by the same lock.
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
export async function openTestDb(
  backend: Backend,
  opts: Pick<PostgresOptions, "max"> = {},
): Promise<Database> {
  const db = backend === "pglite" ? await openPglite() : openPostgres(databaseUrl(), {
    max: opts.max ?? 4,
    applicationName: `codememory-test-${randomSuffix().slice(0, 8)}`,
  });
  await likeHostedSupabase(db);
  await migrate(db);
  return db;
}

/** A database of the caller's own; `url` is null for PGlite (in memory, no server). */
export interface ScratchDb extends Database {
  readonly url: string | null;
}

export interface ScratchDbOptions extends PostgresOptions {
  /** Run the migrations first (default: empty, unmigrated). */
  migrated?: boolean;
}

/**
 * A database no other test touches: a new in-memory PGlite, or a new database on DATABASE_URL's
 * server, dropped on close; set up like a new hosted Supabase project (likeHostedSupabase). For
 * what the shared test database cannot give: an unmigrated schema, or quiet from other
 * processes' relays and sweeps (fault tests).
 */
export async function openScratchDb(
  backend: Backend,
  opts: ScratchDbOptions = {},
): Promise<ScratchDb> {
  const { migrated = false, ...pool } = opts;
  let db: ScratchDb;
  if (backend === "pglite") {
    db = Object.assign(await openPglite(), { url: null });
  } else {
    const scratch = await scratchDatabase(databaseUrl(), `scratch_${randomSuffix()}`);
    const pg = openPostgres(scratch.url, { max: 2, ...pool });
    db = {
      ...pg,
      url: scratch.url,
      async close() {
        await pg.close();
        await scratch.drop();
      },
    };
  }
  try {
    await likeHostedSupabase(db);
    if (migrated) await migrate(db);
  } catch (err) {
    await db.close();
    throw err;
  }
  return db;
}

/** Runs fn on a scratch database (see openScratchDb), disposed of afterwards. */
export async function withScratchDb<T>(
  backend: Backend,
  fn: (db: ScratchDb) => Promise<T>,
  opts: ScratchDbOptions = {},
): Promise<T> {
  const db = await openScratchDb(backend, opts);
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

/**
 * Runs fn on a migrated database of its own whose plans auto_explain can show (explainSearch):
 * an in-memory PGlite, or a new database `<DATABASE_URL's db>_<label>_<random>` dropped after.
 */
export async function withExplainableDb<T>(
  backend: Backend,
  label: string,
  fn: (db: ExplainableDb) => Promise<T>,
): Promise<T> {
  const db = await openExplainableDb(
    backend,
    Deno.env.get("DATABASE_URL"),
    `${label}_${randomSuffix().slice(0, 8)}`,
    2,
  );
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
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
