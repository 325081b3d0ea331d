import type { Database } from "./types.ts";

export interface Migration {
  version: string;
  name: string;
  sql: string;
}

const MIGRATIONS_DIR = new URL("../../supabase/migrations/", import.meta.url);

/** Reads supabase/migrations/<version>_<name>.sql in version order. */
export async function loadMigrations(dir: URL = MIGRATIONS_DIR): Promise<Migration[]> {
  const migrations: Migration[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const match = entry.name.match(/^(\d+)_(.+)\.sql$/);
    if (!entry.isFile || !match) continue;
    const sql = await Deno.readTextFile(new URL(entry.name, dir));
    migrations.push({ version: match[1], name: match[2], sql });
  }
  return migrations.sort((a, b) => a.version.localeCompare(b.version));
}

/**
 * Applies pending migrations in one transaction (all or nothing), recording them in the table
 * the Supabase CLI uses, so `supabase db push` and this runner agree on what has been applied.
 * Safe to call concurrently: an advisory lock serialises runners on one database.
 * Returns the versions it applied (none when the database is up to date).
 */
export async function migrate(db: Database, migrations?: Migration[]): Promise<string[]> {
  const all = migrations ?? await loadMigrations();
  return await db.transaction(async (tx) => {
    await tx.query("select pg_advisory_xact_lock(hashtext('codememory.migrate'))");
    await tx.exec(`
      create schema if not exists supabase_migrations;
      create table if not exists supabase_migrations.schema_migrations (
        version text primary key, statements text[], name text);`);
    const done = new Set(
      (await tx.query<{ version: string }>(
        "select version from supabase_migrations.schema_migrations",
      )).map((r) => r.version),
    );
    const applied: string[] = [];
    for (const m of all) {
      if (done.has(m.version)) continue;
      try {
        await tx.exec(m.sql);
      } catch (err) {
        throw new Error(`migration ${m.version}_${m.name} failed: ${(err as Error).message}`);
      }
      await tx.query(
        "insert into supabase_migrations.schema_migrations (version, name, statements) values ($1, $2, $3)",
        [m.version, m.name, [m.sql]],
      );
      applied.push(m.version);
    }
    return applied;
  });
}
