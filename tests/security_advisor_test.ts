/**
 * The checks of Supabase's database advisor (the splinter lints behind the dashboard's Security
 * and Performance Advisors) that matter here, as our own assertions on a migrated database set
 * up like a hosted project (security review, finding 9). The one accepted warning is listed with
 * its reason; docs/security.md has the measurement behind it.
 */
import assert from "node:assert/strict";
import type { Database } from "../shared/db/types.ts";
import { openTestDb, testEachBackend } from "./helpers/db.ts";

/** Schemas the migrations own; Supabase's and extensions' are not ours to lint. */
const OURS = ["public", "private", "analytics"];

/**
 * Functions without a fixed search_path. private.search_filter must stay inlinable into both
 * retrieval sides (PostgreSQL never inlines a function with a `set` clause): 1.5–4x slower
 * searches otherwise; private.keyword_score likewise into the keyword side's ranking of up to
 * 320 rows (28 µs a call when not inlined). Both are SECURITY INVOKER, name only pg_catalog
 * objects, and their callers run with search_path = '', under which the inlined body is parsed.
 */
const MUTABLE_SEARCH_PATH_ALLOWED = ["private.keyword_score", "private.search_filter"];

const lint = async <T>(db: Database, sql: string) => await db.query<T>(sql, [OURS]);

testEachBackend("advisor: the lints that matter find nothing", async (backend) => {
  const db = await openTestDb(backend);
  try {
    // 0028/0029: no SECURITY DEFINER function in the exposed schema that API roles can call.
    const exposedDefiners = await lint<{ fn: string }>(
      db,
      `select p.oid::regprocedure::text || ' by ' || r as fn
       from pg_proc p join pg_namespace n on n.oid = p.pronamespace
       cross join unnest(array['anon', 'authenticated']) r
       where n.nspname = 'public' and p.prosecdef and has_function_privilege(r, p.oid, 'EXECUTE')
         and $1::text[] is not null`,
    );
    assert.deepEqual(exposedDefiners.map((r) => r.fn), []);

    // 0011: every function of ours has a fixed search_path (one reasoned exception).
    const mutable = await lint<{ fn: string; definer: boolean }>(
      db,
      `select n.nspname || '.' || p.proname as fn, p.prosecdef as definer
       from pg_proc p join pg_namespace n on n.oid = p.pronamespace
       where n.nspname = any($1)
         and not exists (select 1 from pg_depend d where d.objid = p.oid and d.deptype = 'e')
         and not exists (select 1 from unnest(coalesce(p.proconfig, '{}')) c
                         where c like 'search_path=%')
       order by 1`,
    );
    assert.deepEqual(mutable.map((r) => r.fn), MUTABLE_SEARCH_PATH_ALLOWED);
    assert.ok(mutable.every((r) => !r.definer), "a SECURITY DEFINER function needs a search_path");

    // 0006: at most one permissive policy per table, role and action.
    const overlapping = await lint<{ key: string }>(
      db,
      `select n.nspname || '.' || c.relname || ' ' || r.rolname || ' ' || a.cmd || ': '
         || string_agg(p.polname, ', ' order by p.polname) as key
       from pg_policy p join pg_class c on c.oid = p.polrelid
       join pg_namespace n on n.oid = c.relnamespace
       join pg_roles r on p.polroles @> array[r.oid] or p.polroles = array[0::oid]
       cross join lateral unnest(case p.polcmd when 'r' then array['SELECT'] when 'a'
         then array['INSERT'] when 'w' then array['UPDATE'] when 'd' then array['DELETE']
         else array['SELECT', 'INSERT', 'UPDATE', 'DELETE'] end) a(cmd)
       where n.nspname = any($1) and p.polpermissive and not r.rolbypassrls
         and r.rolname not like 'pg\\_%'
       group by n.nspname, c.relname, r.rolname, a.cmd having count(*) > 1`,
    );
    assert.deepEqual(overlapping.map((r) => r.key), []);

    // 0013/0007: row level security on every table of the exposed schema.
    const noRls = await lint<{ rel: string }>(
      db,
      `select c.relname as rel from pg_class c join pg_namespace n on n.oid = c.relnamespace
       where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relrowsecurity
         and $1::text[] is not null`,
    );
    assert.deepEqual(noRls.map((r) => r.rel), []);

    // 0010: no view that bypasses row level security is readable by the API roles.
    const definerViews = await lint<{ rel: string }>(
      db,
      `select n.nspname || '.' || c.relname as rel
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
       where n.nspname = any($1) and c.relkind in ('v', 'm')
         and (has_table_privilege('anon', c.oid, 'SELECT')
           or has_table_privilege('authenticated', c.oid, 'SELECT'))
         and not coalesce(c.reloptions, '{}') && array['security_invoker=true', 'security_invoker=on']`,
    );
    assert.deepEqual(definerViews.map((r) => r.rel), []);

    // 0003: auth functions in policies are evaluated once per query, not per row.
    const perRow = await lint<{ policy: string }>(
      db,
      `select tablename || '.' || policyname as policy from pg_policies
       where schemaname = any($1)
         and ((qual ~ 'auth\\.(uid|jwt|role|email)\\(\\)'
               and lower(qual) !~ 'select\\s+auth\\.(uid|jwt|role|email)\\(\\)')
           or (with_check ~ 'auth\\.(uid|jwt|role|email)\\(\\)'
               and lower(with_check) !~ 'select\\s+auth\\.(uid|jwt|role|email)\\(\\)'))`,
    );
    assert.deepEqual(perRow.map((r) => r.policy), []);
  } finally {
    await db.close();
  }
});

testEachBackend("advisor: the search_path exceptions are inlined where called", async (backend) => {
  const db = await openTestDb(backend);
  try {
    for (const [fn, volatile] of [["search_filter", "s"], ["keyword_score", "i"]]) {
      // Their callers pin the search_path: the body is parsed under '' once inlined.
      const callers = await db.query<{ fn: string; config: string[] }>(
        `select p.proname as fn, p.proconfig as config from pg_proc p
         join pg_namespace n on n.oid = p.pronamespace
         where n.nspname = 'private' and p.prosrc like '%private.' || $1 || '(%'
         order by 1`,
        [fn],
      );
      assert.ok(callers.length >= 1, `${fn}: ${JSON.stringify(callers)}`);
      for (const c of callers) assert.ok(c.config.includes('search_path=""'), `${fn} in ${c.fn}`);
      const [props] = await db.query<
        { definer: boolean; volatile: string; language: string; config: string[] | null }
      >(
        `select p.prosecdef as definer, p.provolatile as volatile, l.lanname as language,
           p.proconfig as config
         from pg_proc p join pg_language l on l.oid = p.prolang
         where p.oid = ('private.' || $1)::regproc`,
        [fn],
      );
      assert.deepEqual(props, { definer: false, volatile, language: "sql", config: null }, fn);
    }
  } finally {
    await db.close();
  }
});
