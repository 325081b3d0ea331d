/**
 * Fresh databases and schema snapshots for migration tests. "Fresh" is a scratch database
 * (tests/helpers/db.ts): a new in-memory PGlite, or a new database on DATABASE_URL's server
 * that is dropped afterwards.
 */
import type { Database } from "../../shared/db/types.ts";
import { type Backend, testEachBackend, withScratchDb } from "./db.ts";

const SCHEMAS = ["public", "private", "auth", "supabase_migrations"];

/** A test per backend on an empty, unmigrated database. */
export function freshDbTest(
  name: string,
  fn: (db: Database, backend: Backend) => Promise<void>,
): void {
  testEachBackend(name, (backend) => withScratchDb(backend, (db) => fn(db, backend)));
}

/**
 * Everything a migration can create or change, by name: columns, constraints, indexes,
 * policies, views, functions (with their settings), triggers, grants, RLS flags and relation oids
 * (a recreated table gets a new oid; `oids: false` leaves them out to compare two databases),
 * plus the migration ledger.
 */
export async function schemaSnapshot(
  db: Database,
  opts: { oids?: boolean } = {},
): Promise<Record<string, string[]>> {
  const list = async (sql: string, params: unknown[] = [SCHEMAS]) =>
    (await db.query<{ item: string }>(sql, params)).map((r) => r.item).sort();
  return {
    columns: await list(
      `select concat_ws('|', n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod),
         a.attnotnull, a.attgenerated, pg_get_expr(d.adbin, d.adrelid), a.attacl::text) as item
       from pg_attribute a join pg_class c on c.oid = a.attrelid
       join pg_namespace n on n.oid = c.relnamespace
       left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
       where n.nspname = any($1) and a.attnum > 0 and not a.attisdropped and c.relkind in ('r', 'p')`,
    ),
    relations: await list(
      `select concat_ws('|', n.nspname, c.relname, c.relkind, case when $2::boolean then c.oid end, c.relrowsecurity,
         c.relacl::text) as item
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
       where n.nspname = any($1) and c.relkind in ('r', 'p', 'i', 'S', 'v')`,
      [SCHEMAS, opts.oids ?? true],
    ),
    views: await list(
      `select concat_ws('|', schemaname, viewname, md5(definition)) as item
       from pg_views where schemaname = any($1)`,
    ),
    constraints: await list(
      `select concat_ws('|', conrelid::regclass::text, conname, pg_get_constraintdef(c.oid)) as item
       from pg_constraint c join pg_namespace n on n.oid = c.connamespace where n.nspname = any($1)`,
    ),
    indexes: await list(
      `select concat_ws('|', schemaname, indexname, indexdef) as item
       from pg_indexes where schemaname = any($1)`,
    ),
    policies: await list(
      `select concat_ws('|', schemaname, tablename, policyname, cmd, roles::text, qual, with_check)
         as item from pg_policies where schemaname = any($1)`,
    ),
    functions: await list(
      `select concat_ws('|', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid),
         md5(p.prosrc), p.prosecdef, p.proconfig::text, p.proacl::text) as item
       from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname = any($1)`,
    ),
    triggers: await list(
      `select concat_ws('|', t.tgrelid::regclass::text, t.tgname, pg_get_triggerdef(t.oid)) as item
       from pg_trigger t join pg_class c on c.oid = t.tgrelid
       join pg_namespace n on n.oid = c.relnamespace
       where n.nspname = any($1) and not t.tgisinternal`,
    ),
    roles: await list(
      `select concat_ws('|', rolname, rolcanlogin, rolbypassrls) as item from pg_roles
       where rolname in ('anon', 'authenticated', 'service_role') and $1::text[] is not null`,
    ),
    ledger: await list(
      `select concat_ws('|', version, name) as item from supabase_migrations.schema_migrations
       where $1::text[] is not null`,
    ),
  };
}
