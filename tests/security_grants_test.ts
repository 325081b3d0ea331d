/**
 * Effective privileges of Supabase's API roles, on a database set up like a new hosted Supabase
 * project before migrating (tests/helpers/db.ts: default privileges grant ALL on everything new
 * in `public`). Security review, finding 7: the migrations must leave exactly the intended
 * privileges, whatever the platform granted by default. A new table, column grant or RPC has to
 * be added to the lists below, on purpose.
 */
import assert from "node:assert/strict";
import { asUser } from "../shared/db/as_user.ts";
import { createApiKey } from "../shared/auth/api_keys.ts";
import { openTestDb, testEachBackend } from "./helpers/db.ts";
import { assertPgError } from "./helpers/foundation.ts";
import { newTestUser } from "./helpers/users.ts";

/** `role relation privilege` → "*" (the whole table) or the columns it applies to. */
const EXPECTED_TABLE_PRIVILEGES: Record<string, string> = {
  "authenticated public.analytics_daily SELECT": "*",
  "authenticated public.api_keys DELETE": "*",
  "authenticated public.api_keys INSERT": "expires_at,key_hash,name,prefix,scopes,user_id",
  "authenticated public.api_keys SELECT":
    "created_at,expires_at,id,last_used_at,name,prefix,revoked_at,scopes,user_id",
  "authenticated public.api_keys UPDATE": "name,revoked_at",
  "authenticated public.memories DELETE": "*",
  "authenticated public.memories INSERT": "*",
  "authenticated public.memories SELECT": "*",
  "authenticated public.memories UPDATE":
    "commit_sha,content,expires_at,file_path,importance,kind,language,metadata,project_id,repo,supersedes,symbol,tags,title,user_id",
  "authenticated public.memory_events SELECT": "*",
  "authenticated public.memory_versions SELECT": "*",
  "authenticated public.project_invitations DELETE": "*",
  "authenticated public.project_invitations SELECT": "*",
  "authenticated public.project_members DELETE": "*",
  "authenticated public.project_members SELECT": "*",
  "authenticated public.project_members UPDATE": "role",
  "authenticated public.projects DELETE": "*",
  "authenticated public.projects INSERT": "*",
  "authenticated public.projects SELECT": "*",
  "authenticated public.projects UPDATE": "description,name,slug",
  "authenticated public.search_events SELECT": "*",
};

/** Functions of the exposed schema (`public`, the Data API's RPCs) that users may call. */
const EXPECTED_RPCS = [
  "authenticated public.accept_project_invitation(invitation_id uuid)",
  "authenticated public.get_insights(project_id uuid, days integer)",
  "authenticated public.invite_project_member(project_id uuid, email text, role text)",
  "authenticated public.list_project_members(project_id uuid)",
  "authenticated public.my_project_invitations()",
  "authenticated public.project_search_events(project_id uuid, days integer)",
  "authenticated public.search_memories(query_text text, query_embedding vector, match_count integer, project_ids uuid[], kinds text[], tags text[], tags_mode text, since timestamp with time zone, until timestamp with time zone, repo text, file_path_prefix text, embedding_model text, full_text_weight double precision, semantic_weight double precision, rrf_k integer, recency_half_life_days double precision, importance_weight double precision, mode text, min_similarity double precision, min_keyword_coverage double precision, full_text_coverage_power double precision, include_superseded boolean, standout_weight double precision)",
];

testEachBackend(
  "grants: anon and authenticated hold exactly the intended privileges",
  async (backend) => {
    const db = await openTestDb(backend);
    try {
      // Tables, views and sequences of every schema the migrations create objects in. A role
      // needs USAGE on the schema as well, but the privileges alone must already be right.
      const rows = await db.query<{ key: string; cols: string | null }>(
        `select r.rolname || ' ' || n.nspname || '.' || c.relname || ' ' || p.priv as key,
         case when c.relkind = 'S'
                then case when has_sequence_privilege(r.rolname, c.oid, p.priv) then '*' end
              when has_table_privilege(r.rolname, c.oid, p.priv) then '*'
              when p.priv in ('SELECT', 'INSERT', 'UPDATE', 'REFERENCES') then
                (select string_agg(a.attname, ',' order by a.attname) from pg_attribute a
                 where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
                   and has_column_privilege(r.rolname, c.oid, a.attnum, p.priv))
         end as cols
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
       cross join (values ('anon'), ('authenticated')) r(rolname)
       cross join lateral unnest(case when c.relkind = 'S' then array['USAGE', 'SELECT', 'UPDATE']
         else array['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']
         end) p(priv)
       where n.nspname in ('public', 'private', 'analytics', 'auth')
         and c.relkind in ('r', 'p', 'v', 'm', 'S')`,
      );
      const actual = Object.fromEntries(
        rows.filter((r) => r.cols !== null).map((r) => [r.key, r.cols]),
      );
      assert.deepEqual(actual, EXPECTED_TABLE_PRIVILEGES);

      const rpcs = await db.query<{ rpc: string }>(
        `select r.rolname || ' ' || n.nspname || '.' || p.proname || '('
         || pg_get_function_identity_arguments(p.oid) || ')' as rpc
       from pg_proc p join pg_namespace n on n.oid = p.pronamespace
       cross join (values ('anon'), ('authenticated')) r(rolname)
       where n.nspname = 'public' and has_function_privilege(r.rolname, p.oid, 'EXECUTE')
         and not exists (select 1 from pg_depend d where d.objid = p.oid and d.deptype = 'e')
       order by 1`,
      );
      // Types print schema-qualified or not depending on the session's search_path.
      assert.deepEqual(rpcs.map((r) => r.rpc.replaceAll("extensions.", "")), EXPECTED_RPCS);

      // anon reaches nothing but the public schema (where it holds no privilege, above).
      const schemas = await db.query<{ nspname: string }>(
        `select nspname from pg_namespace where has_schema_privilege('anon', oid, 'USAGE')
         and nspname in ('public', 'private', 'analytics', 'auth') order by 1`,
      );
      assert.deepEqual(schemas.map((s) => s.nspname), ["auth", "public"]);
    } finally {
      await db.close();
    }
  },
);

testEachBackend(
  "grants: a user can neither read nor rewrite their key's secret parts",
  async (backend) => {
    const db = await openTestDb(backend);
    try {
      const user = await newTestUser(db);
      const { record } = await createApiKey(db, user, { scopes: ["read"] });
      const as = (sql: string) =>
        asUser(db, user, (tx) => tx.query(sql, sql.includes("$1") ? [record.id] : []));
      await assertPgError(as("select key_hash from api_keys where id = $1"), "42501");
      await assertPgError(as("select * from api_keys where id = $1"), "42501");
      await assertPgError(as("update api_keys set scopes = '{read,write}' where id = $1"), "42501");
      await assertPgError(as("update api_keys set expires_at = null where id = $1"), "42501");
      await assertPgError(
        as("update api_keys set key_hash = repeat('0', 64) where id = $1"),
        "42501",
      );
      await assertPgError(as("truncate api_keys, memories, projects"), "42501");
      const [row] = await db.query<{ scopes: string[] }>(
        "select scopes from api_keys where id = $1",
        [record.id],
      );
      assert.deepEqual(row.scopes, ["read"]);
      // What the key list needs still works.
      const [own] = await as("select id, name, scopes from api_keys where id = $1");
      assert.equal(own.id, record.id);
      await as("update api_keys set name = 'renamed' where id = $1");
    } finally {
      await db.close();
    }
  },
);
