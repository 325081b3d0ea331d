/**
 * Row level security at the SQL level, through asUser() — the same role and claims a
 * PostgREST / supabase-js session has. Privileged `db.query` is used only to check what really
 * happened. Every user is new, so the shared PostgreSQL database never needs to be empty.
 */
import assert from "node:assert/strict";
import { createApiKey } from "../shared/auth/api_keys.ts";
import { asUser } from "../shared/db/as_user.ts";
import type { Database, Row } from "../shared/db/types.ts";
import { openTestDb, testEachBackend } from "./helpers/db.ts";
import { assertPgError, uniqueSlug } from "./helpers/foundation.ts";
import { newTestUser } from "./helpers/users.ts";

const RLS_VIOLATION = "42501";

/** One statement as `userId`, in its own transaction (a failed statement aborts it). */
const as = <T = Row>(db: Database, userId: string, sql: string, params: unknown[] = []) =>
  asUser(db, userId, (tx) => tx.query<T>(sql, params));

/** A project created by its owner through RLS; the owner membership comes from the trigger. */
async function ownProject(db: Database, ownerId: string): Promise<string> {
  const id = crypto.randomUUID();
  await as(
    db,
    ownerId,
    "insert into projects (id, owner_id, name, slug) values ($1, auth.uid(), 'Team', $2)",
    [id, uniqueSlug()],
  );
  return id;
}

async function ownMemory(db: Database, userId: string, projectId: string, content: string) {
  const [row] = await as<{ id: string }>(
    db,
    userId,
    "insert into memories (user_id, project_id, content) values (auth.uid(), $1, $2) returning id",
    [projectId, content],
  );
  return row.id;
}

/** The row exactly as stored, read with privileges (bypassing RLS). */
async function stored(db: Database, id: string): Promise<Row | undefined> {
  const [row] = await db.query(
    "select content, title, tags, version, updated_at, project_id, user_id from memories where id = $1",
    [id],
  );
  return row;
}

interface World {
  db: Database;
  alice: string;
  bob: string;
  project: string;
  memory: string;
}

/**
 * Registers a test per backend in which Alice owns a project with one memory and Bob is a
 * stranger with no projects yet.
 */
function worldTest(name: string, fn: (w: World) => Promise<void>): void {
  testEachBackend(name, async (backend) => {
    const db = await openTestDb(backend);
    try {
      const alice = await newTestUser(db);
      const bob = await newTestUser(db);
      const project = await ownProject(db, alice);
      const memory = await ownMemory(db, alice, project, "Alice's secret: the staging password");
      await fn({ db, alice, bob, project, memory });
    } finally {
      await db.close();
    }
  });
}

// ---------------------------------------------------------------------------------------------

worldTest(
  "rls: a stranger can neither read, change nor delete another user's memories",
  async ({ db, alice, bob, project, memory }) => {
    const before = await stored(db, memory);
    assert.ok(before);

    assert.equal((await as(db, bob, "select id from memories where id = $1", [memory])).length, 0);
    const [{ n }] = await as<{ n: number }>(
      db,
      bob,
      "select count(*)::int as n from memories where user_id = $1 or project_id = $2",
      [alice, project],
    );
    assert.equal(n, 0);
    const updated = await as(
      db,
      bob,
      "update memories set content = 'pwned', title = 'pwned' where id = $1 returning id",
      [memory],
    );
    assert.equal(updated.length, 0);
    const deleted = await as(db, bob, "delete from memories where id = $1 returning id", [memory]);
    assert.equal(deleted.length, 0);
    assert.deepEqual(await stored(db, memory), before, "Alice's memory is unchanged");

    // The owner, by contrast, sees it through the same path.
    assert.equal(
      (await as(db, alice, "select id from memories where id = $1", [memory])).length,
      1,
    );
  },
);

worldTest(
  "rls: a stranger cannot write into another user's project",
  async ({ db, alice, bob, project }) => {
    await assertPgError(
      as(
        db,
        bob,
        "insert into memories (user_id, project_id, content) values (auth.uid(), $1, 'spam')",
        [project],
      ),
      RLS_VIOLATION,
    );
    // Nor forge a row as Alice, nor move his own memory into her project.
    const bobsProject = await ownProject(db, bob);
    await assertPgError(
      as(
        db,
        bob,
        "insert into memories (user_id, project_id, content) values ($1, $2, 'forged')",
        [
          alice,
          bobsProject,
        ],
      ),
      RLS_VIOLATION,
    );
    const bobsMemory = await ownMemory(db, bob, bobsProject, "Bob's note");
    await assertPgError(
      as(db, bob, "update memories set project_id = $2 where id = $1", [bobsMemory, project]),
      RLS_VIOLATION,
    );
    // Nor make himself a member.
    await assertPgError(
      as(
        db,
        bob,
        "insert into project_members (project_id, user_id, role) values ($1, auth.uid(), 'owner')",
        [project],
      ),
      RLS_VIOLATION,
    );
    const [{ n }] = await db.query<{ n: number }>(
      "select count(*)::int as n from memories where project_id = $1",
      [project],
    );
    assert.equal(n, 1, "only Alice's memory is in her project");
  },
);

worldTest(
  "rls: projects, memberships and api keys of others are invisible",
  async ({ db, alice, bob, project }) => {
    const aliceKey = await createApiKey(db, alice, { name: "alice-laptop" });
    const bobKey = await createApiKey(db, bob, { name: "bob-laptop" });

    assert.equal(
      (await as(db, bob, "select id from projects where id = $1", [project])).length,
      0,
    );
    assert.equal(
      (await as(db, bob, "select user_id from project_members where project_id = $1", [project]))
        .length,
      0,
    );
    const keys = await as<{ id: string }>(db, bob, "select id, user_id, name from api_keys");
    assert.deepEqual(keys.map((k) => k.id), [bobKey.record.id], "Bob sees only his own key");
    const revoked = await as(
      db,
      bob,
      "update api_keys set revoked_at = now() where id = $1 returning id",
      [aliceKey.record.id],
    );
    assert.equal(revoked.length, 0);
    const [aliceRow] = await db.query("select revoked_at from api_keys where id = $1", [
      aliceKey.record.id,
    ]);
    assert.equal(aliceRow.revoked_at, null);
    // Nor anyone's email address.
    await assertPgError(as(db, bob, "select email from auth.users"), RLS_VIOLATION);
    const dropped = await as(db, bob, "delete from projects where id = $1 returning id", [
      project,
    ]);
    assert.equal(dropped.length, 0);
    assert.equal((await db.query("select id from projects where id = $1", [project])).length, 1);
  },
);

worldTest(
  "rls: key hashes are not readable, not even by the key's owner",
  async ({ db, alice }) => {
    const { record } = await createApiKey(db, alice);
    // Safe columns are readable...
    const [own] = await as(db, alice, "select id, prefix, scopes from api_keys where id = $1", [
      record.id,
    ]);
    assert.equal(own.prefix, record.prefix);
    // ...the hash is not, by name, by star, or smuggled through a whole-row reference.
    await assertPgError(as(db, alice, "select key_hash from api_keys"), RLS_VIOLATION);
    await assertPgError(as(db, alice, "select * from api_keys"), RLS_VIOLATION);
    await assertPgError(as(db, alice, "select k::text from api_keys k"), RLS_VIOLATION);
    await assertPgError(
      as(db, alice, "select id from api_keys where key_hash like 'a%'"),
      RLS_VIOLATION,
    );
  },
);

worldTest(
  "rls: a reader of a shared project reads but cannot write",
  async ({ db, alice, bob, project, memory }) => {
    await as(
      db,
      alice,
      "insert into project_members (project_id, user_id, role) values ($1, $2, 'reader')",
      [project, bob],
    );
    const before = await stored(db, memory);

    const seen = await as<{ id: string }>(
      db,
      bob,
      "select id from memories where project_id = $1",
      [project],
    );
    assert.deepEqual(seen.map((r) => r.id), [memory]);
    const [shared] = await as(db, bob, "select slug from projects where id = $1", [project]);
    assert.ok(shared, "the shared project is visible to its reader");

    await assertPgError(
      as(
        db,
        bob,
        "insert into memories (user_id, project_id, content) values (auth.uid(), $1, 'nope')",
        [project],
      ),
      RLS_VIOLATION,
    );
    assert.equal(
      (await as(db, bob, "update memories set title = 'x' where id = $1 returning id", [memory]))
        .length,
      0,
    );
    assert.equal(
      (await as(db, bob, "delete from memories where id = $1 returning id", [memory])).length,
      0,
    );
    // A reader cannot promote himself.
    assert.equal(
      (await as(
        db,
        bob,
        "update project_members set role = 'owner' where project_id = $1 and user_id = auth.uid() returning role",
        [project],
      )).length,
      0,
    );
    assert.deepEqual(await stored(db, memory), before);
    const [{ role }] = await db.query<{ role: string }>(
      "select role from project_members where project_id = $1 and user_id = $2",
      [project, bob],
    );
    assert.equal(role, "reader");

    // Removing the membership removes the access.
    await as(db, alice, "delete from project_members where project_id = $1 and user_id = $2", [
      project,
      bob,
    ]);
    assert.equal(
      (await as(db, bob, "select id from memories where project_id = $1", [project])).length,
      0,
    );
  },
);

worldTest(
  "rls: a writer of a shared project can add and edit memories",
  async ({ db, alice, bob, project, memory }) => {
    await as(
      db,
      alice,
      "insert into project_members (project_id, user_id, role) values ($1, $2, 'writer')",
      [project, bob],
    );
    const id = await ownMemory(db, bob, project, "Bob's contribution to the team project");
    const [row] = await db.query("select user_id, project_id from memories where id = $1", [id]);
    assert.deepEqual({ ...row }, { user_id: bob, project_id: project });
    const edited = await as(
      db,
      bob,
      "update memories set title = 'reviewed' where id = $1 returning version",
      [memory],
    );
    assert.deepEqual([...edited], [{ version: 2 }]);
    // Still not an owner: membership changes are refused.
    assert.equal(
      (await as(
        db,
        bob,
        "update project_members set role = 'owner' where project_id = $1 and user_id = auth.uid() returning role",
        [project],
      )).length,
      0,
    );
    // Alice (owner) sees Bob's memory in her project.
    assert.equal((await as(db, alice, "select id from memories where id = $1", [id])).length, 1);
  },
);

worldTest("rls: anonymous and claimless sessions see nothing", async ({ db }) => {
  const tables = ["memories", "projects", "project_members", "api_keys"];
  for (const table of tables) {
    // anon: either no privilege at all or no visible rows; never data.
    const anon = await db.transaction(async (tx) => {
      await tx.query("set local role anon");
      return await tx.query(`select count(*)::int as n from ${table}`);
    }).then((rows) => Number(rows[0].n), (err) => err.code as string);
    assert.ok(anon === 0 || anon === RLS_VIOLATION, `anon on ${table}: ${anon}`);

    // authenticated without claims: auth.uid() is null, so no policy matches.
    const [{ n, uid }] = await db.transaction(async (tx) => {
      await tx.query("set local role authenticated");
      return await tx.query<{ n: number; uid: string | null }>(
        `select count(*)::int as n, auth.uid() as uid from ${table}`,
      );
    });
    assert.equal(uid, null);
    assert.equal(n, 0, `claimless authenticated session saw rows of ${table}`);
  }
  await assertPgError(
    db.transaction(async (tx) => {
      await tx.query("set local role anon");
      await tx.query("insert into projects (owner_id, name, slug) values ($1, 'x', 'x')", [
        crypto.randomUUID(),
      ]);
    }),
    RLS_VIOLATION,
  );
});
