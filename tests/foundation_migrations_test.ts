/**
 * Foundation migrations: they apply cleanly (twice), create every table and column the design
 * lists, enable row level security everywhere, and give asUser() a working auth.uid().
 */
import assert from "node:assert/strict";
import { asUser } from "../shared/db/as_user.ts";
import { loadMigrations, migrate } from "../shared/db/migrate.ts";
import type { Database, Row } from "../shared/db/types.ts";
import { sha256Hex } from "../shared/auth/api_keys.ts";
import { openTestDb, testEachBackend } from "./helpers/db.ts";
import { newTestUser } from "./helpers/users.ts";
import { freshDbTest, schemaSnapshot } from "./helpers/schema.ts";

/** A test per backend on the migrated test database. */
function migratedDbTest(
  name: string,
  fn: (db: Database) => Promise<void>,
  opts: { singleConnection?: boolean } = {},
): void {
  testEachBackend(name, async (backend) => {
    const db = await openTestDb(backend, { max: opts.singleConnection ? 1 : 4 });
    try {
      await fn(db);
    } finally {
      await db.close();
    }
  });
}

// ---------------------------------------------------------------------------------------------

freshDbTest(
  "migrations: a fresh database gets every version; a second run applies none",
  async (db) => {
    const versions = (await loadMigrations()).map((m) => m.version);
    assert.ok(versions.includes("20261124000100"), "the foundation migration is loaded");

    assert.deepEqual(await migrate(db), versions);
    const ledger = await db.query<{ version: string }>(
      "select version from supabase_migrations.schema_migrations order by version",
    );
    assert.deepEqual(ledger.map((r) => r.version), versions);

    // Data written between runs must survive the second run untouched.
    const userId = await newTestUser(db);
    const projectId = crypto.randomUUID();
    await db.query(
      "insert into projects (id, owner_id, name, slug) values ($1, $2, 'Keep', 'keep')",
      [projectId, userId],
    );
    const [kept] = await db.query(
      `insert into memories (user_id, project_id, content) values ($1, $2, 'survives')
       returning id, version, updated_at`,
      [userId, projectId],
    );

    const before = await schemaSnapshot(db);
    assert.deepEqual(await migrate(db), [], "an up-to-date database applies nothing");
    assert.deepEqual(await schemaSnapshot(db), before, "the second run changed the schema");
    const [after] = await db.query(
      "select id, version, updated_at from memories where id = $1",
      [kept.id],
    );
    assert.deepEqual(after, kept);
  },
);

freshDbTest("migrations: two runners at once apply each version exactly once", async (db) => {
  const versions = (await loadMigrations()).map((m) => m.version);
  const results = await Promise.all([migrate(db), migrate(db)]);
  assert.deepEqual(results.flat().sort(), versions, JSON.stringify(results));
  const [{ count }] = await db.query<{ count: number }>(
    "select count(*)::int as count from supabase_migrations.schema_migrations",
  );
  assert.equal(count, versions.length);
});

freshDbTest("migrations: the foundation SQL itself can run twice without changes", async (db) => {
  const [foundation] = (await loadMigrations()).filter((m) => m.version === "20261124000100");
  assert.ok(foundation);
  assert.deepEqual(await migrate(db, [foundation]), [foundation.version]);
  const before = await schemaSnapshot(db);
  // As `supabase db reset` or a hand-run `psql -f` would: no ledger, the script again.
  await db.exec(foundation.sql);
  assert.deepEqual(await schemaSnapshot(db), before);
});

// ---------------------------------------------------------------------------------------------

/** Column → expected SQL type (format_type), as the design lists them. */
const DESIGNED_COLUMNS: Record<string, Record<string, string | RegExp>> = {
  memories: {
    id: "uuid",
    user_id: "uuid",
    project_id: "uuid",
    kind: "text",
    title: "text",
    content: "text",
    tags: "text[]",
    metadata: "jsonb",
    repo: "text",
    file_path: "text",
    language: "text",
    symbol: "text",
    commit_sha: "text",
    importance: /^(real|double precision|numeric.*)$/,
    content_hash: "text",
    fts: "tsvector",
    embedding: /^(extensions\.)?vector\(384\)$/,
    embedding_model: "text",
    embedding_status: "text",
    embedding_attempts: "integer",
    created_at: "timestamp with time zone",
    updated_at: "timestamp with time zone",
    last_accessed_at: "timestamp with time zone",
    access_count: "integer",
    expires_at: "timestamp with time zone",
  },
  projects: {
    id: "uuid",
    owner_id: "uuid",
    name: "text",
    slug: "text",
    description: "text",
    created_at: "timestamp with time zone",
  },
  project_members: { project_id: "uuid", user_id: "uuid", role: "text" },
  api_keys: {
    id: "uuid",
    user_id: "uuid",
    name: "text",
    prefix: "text",
    key_hash: "text",
    scopes: "text[]",
    last_used_at: "timestamp with time zone",
    revoked_at: "timestamp with time zone",
  },
};

migratedDbTest("migrations: the schema has every designed table, column and index", async (db) => {
  for (const [table, expected] of Object.entries(DESIGNED_COLUMNS)) {
    const rows = await db.query<{ name: string; type: string; generated: string }>(
      `select attname as name, format_type(atttypid, atttypmod) as type,
           attgenerated::text as generated
         from pg_attribute where attrelid = $1::regclass and attnum > 0 and not attisdropped`,
      [`public.${table}`],
    );
    const columns = new Map(rows.map((r) => [r.name, r]));
    for (const [column, type] of Object.entries(expected)) {
      const actual = columns.get(column);
      assert.ok(actual, `${table}.${column} is missing`);
      if (typeof type === "string") assert.equal(actual.type, type, `${table}.${column}`);
      else assert.match(actual.type, type, `${table}.${column}`);
    }
    if (table === "memories") {
      assert.equal(columns.get("fts")!.generated, "s", "fts is a stored generated column");
      assert.equal(columns.get("content_hash")!.generated, "s", "content_hash is generated");
    }
  }

  const indexes = (await db.query<{ def: string }>(
    "select indexdef as def from pg_indexes where schemaname = 'public' and tablename = 'memories'",
  )).map((r) => r.def);
  const has = (pattern: RegExp) => assert.ok(indexes.some((d) => pattern.test(d)), `${pattern}`);
  has(/USING gin \(fts\)/);
  has(/USING hnsw \(embedding (extensions\.)?vector_cosine_ops\)/);
  has(/UNIQUE INDEX .* \(project_id, content_hash\)/);

  // The generated columns compute what the service relies on.
  const userId = await newTestUser(db);
  const projectId = crypto.randomUUID();
  await db.query(
    "insert into projects (id, owner_id, name, slug) values ($1, $2, 'Schema', 'schema')",
    [projectId, userId],
  );
  const content = "Rotate the signing keys every quarter";
  const [row] = await db.query<{ content_hash: string; title_hit: boolean; body_hit: boolean }>(
    `insert into memories (user_id, project_id, title, tags, content)
       values ($1, $2, 'Key rotation policy', '{security}', $3)
       returning content_hash,
         fts @@ websearch_to_tsquery('english', 'rotation policy') as title_hit,
         fts @@ websearch_to_tsquery('english', 'signing quarter') as body_hit`,
    [userId, projectId, content],
  );
  assert.equal(row.content_hash, await sha256Hex(content));
  assert.equal(row.title_hit, true);
  assert.equal(row.body_hit, true);
  const [defaults] = await db.query(
    `select kind, embedding_status, embedding_attempts, access_count, version, tags, metadata
       from memories where project_id = $1`,
    [projectId],
  );
  assert.deepEqual(defaults, {
    kind: "note",
    embedding_status: "pending",
    embedding_attempts: 0,
    access_count: 0,
    version: 1,
    tags: ["security"],
    metadata: {},
  });

  const roles = await db.query<{ rolname: string; rolbypassrls: boolean }>(
    `select rolname, rolbypassrls from pg_roles
       where rolname in ('anon', 'authenticated', 'service_role') order by rolname`,
  );
  assert.deepEqual([...roles], [
    { rolname: "anon", rolbypassrls: false },
    { rolname: "authenticated", rolbypassrls: false },
    { rolname: "service_role", rolbypassrls: true },
  ]);
});

freshDbTest("migrations: row level security is enabled on every public table", async (db) => {
  await migrate(db);
  const tables = await db.query<{ name: string; rls: boolean }>(
    `select c.relname as name, c.relrowsecurity as rls from pg_class c
       join pg_namespace n on n.oid = c.relnamespace
       where n.nspname = 'public' and c.relkind in ('r', 'p') order by 1`,
  );
  const names = tables.map((t) => t.name);
  for (const t of ["api_keys", "memories", "project_members", "projects"]) {
    assert.ok(names.includes(t), `public.${t} exists`);
  }
  assert.deepEqual(tables.filter((t) => !t.rls).map((t) => t.name), [], "tables without RLS");
});

migratedDbTest(
  "migrations: auth.uid() is the claims' sub inside asUser, and only there",
  async (db) => {
    const alice = crypto.randomUUID();
    const bob = crypto.randomUUID();
    const inside = (userId: string) =>
      asUser(db, userId, async (tx) => {
        const [row] = await tx.query<Row>(
          "select auth.uid() as uid, auth.role() as role, current_user as who, auth.jwt() ->> 'sub' as sub",
        );
        return row;
      });
    assert.deepEqual(await inside(alice), {
      uid: alice,
      role: "authenticated",
      who: "authenticated",
      sub: alice,
    });
    assert.deepEqual((await inside(bob)).uid, bob);

    // Transaction-local: nothing leaks into the (only) connection afterwards, even on error.
    await assert.rejects(
      asUser(db, alice, async (tx) => {
        await tx.query("select 1");
        throw new Error("boom");
      }),
      /boom/,
    );
    const [after] = await db.query<Row>(
      "select auth.uid() as uid, current_user as who, auth.jwt() as jwt",
    );
    assert.deepEqual(after, { uid: null, who: "postgres", jwt: {} });
  },
  { singleConnection: true },
);
