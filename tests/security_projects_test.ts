/**
 * Project addressing and consent (security review, finding 1). Joining a project starts as an
 * invitation its invitee accepts or declines; a bare project name always means the caller's own
 * project, a shared one is named by its id; inviting a known or an unknown email looks the
 * same. Nothing a user writes or asks lands in a project they did not choose.
 */
import assert from "node:assert/strict";
import { asUser } from "../shared/db/as_user.ts";
import type { Invitation } from "../shared/memory/teams.ts";
import type { Memory, Project } from "../shared/memory/types.ts";
import type { SearchHit } from "../shared/search/types.ts";
import { migrate } from "../shared/db/migrate.ts";
import { testEachBackend } from "./helpers/db.ts";
import {
  assertError,
  assertPgError,
  call,
  callToolOk,
  createProject,
  inviteMember,
  MEMORIES,
  saveMemory,
  shareProject,
  uniqueSlug,
  withMcp,
} from "./helpers/foundation.ts";
import { freshDbTest } from "./helpers/schema.ts";
import { newTestUser } from "./helpers/users.ts";
import { type TestStack, type TestUser, withStack } from "./helpers/stack.ts";

const invite = (stack: TestStack, owner: TestUser, project: Project, email: string) =>
  call<{ invitation: Invitation }>(
    stack,
    owner,
    "POST",
    `${MEMORIES}/projects/${project.id}/invitations`,
    { email, role: "writer" },
  );

async function accept(stack: TestStack, user: TestUser, invitation: Invitation) {
  const r = await call(stack, user, "POST", `${MEMORIES}/invitations/${invitation.id}/accept`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
}

/** Memories in a project, counted with privileges. */
const countIn = async (stack: TestStack, projectId: string) =>
  (await stack.db.query<{ n: number }>(
    "select count(*)::int as n from memories where project_id = $1",
    [projectId],
  ))[0].n;

testEachBackend(
  "projects: a bare name always means the caller's own project",
  (backend) =>
    withStack(backend, async (stack) => {
      const [alice, bob] = [await stack.newUser(), await stack.newUser()];
      const slug = uniqueSlug("my-app");
      const shared = await createProject(stack, alice, { name: "My app", slug });
      await saveMemory(stack, alice, { content: "alice's default note" }); // alice's default exists
      const secret = await saveMemory(stack, alice, {
        content: "deploy key rotation",
        project: slug,
      });

      // Invited but not yet joined: the project does not exist for Bob, even by id.
      const { body } = await invite(stack, alice, shared, bob.email);
      assertError(
        await call(stack, bob, "POST", MEMORIES, { content: "x", project: shared.id }),
        404,
      );
      await accept(stack, bob, body.invitation);

      // Bob's first save to "default" creates his own default project, never Alice's.
      const first = await saveMemory(stack, bob, { content: "bob's first", project: "default" });
      const [owner] = await stack.db.query<{ owner_id: string }>(
        "select owner_id from projects where id = $1",
        [first.project_id],
      );
      assert.equal(owner.owner_id, bob.userId);

      // Alice's slug names nothing of Bob's: reads are 404s that tell him the shared project's id.
      const before = await countIn(stack, shared.id);
      assertError(
        await call(stack, bob, "GET", `${MEMORIES}?project=${slug}`),
        404,
        new RegExp(`not found.*pass its id: ${shared.id}`),
      );
      assertError(
        await call(stack, bob, "POST", `${MEMORIES}/search`, { query: "deploy", project: slug }),
        404,
      );

      // His first write to that name creates his OWN project, and says how to reach Alice's.
      const created = await call<
        { memory: Memory; project_created: boolean; notes: string[] }
      >(stack, bob, "POST", MEMORIES, { content: "bob's deploy secret", project: slug });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal(created.body.project_created, true);
      assert.match(created.body.notes.join(" "), new RegExp(`named by id: ${shared.id}`));
      const mine = created.body.memory;
      const [owner2] = await stack.db.query<{ owner_id: string }>(
        "select owner_id from projects where id = $1",
        [mine.project_id],
      );
      assert.equal(owner2.owner_id, bob.userId);
      assert.notEqual(mine.project_id, shared.id);
      assert.equal(mine.project, slug);
      assert.equal(await countIn(stack, shared.id), before, "nothing landed in Alice's project");
      const own = { id: mine.project_id };

      // From then on it is the one he writes, lists and searches.
      const moved = await call<{ memory: Memory }>(
        stack,
        bob,
        "PATCH",
        `${MEMORIES}/${first.id}`,
        { project: slug },
      );
      assert.equal(moved.body.memory.project_id, own.id);
      const listed = await call<{ memories: Memory[] }>(
        stack,
        bob,
        "GET",
        `${MEMORIES}?project=${slug}`,
      );
      assert.deepEqual(listed.body.memories.map((m) => m.id).sort(), [first.id, mine.id].sort());
      const found = await call<{ results: SearchHit[] }>(stack, bob, "POST", `${MEMORIES}/search`, {
        query: "deploy",
        project: slug,
        mode: "keyword",
      });
      assert.deepEqual(found.body.results.map((h) => h.id), [mine.id]);
      assert.equal(await countIn(stack, shared.id), before, "still nothing in Alice's project");

      // The shared project is his by id, and shows as such wherever he reads it.
      const viaId = await call<{ results: SearchHit[] }>(stack, bob, "POST", `${MEMORIES}/search`, {
        query: "deploy",
        project: shared.id,
        mode: "keyword",
      });
      assert.deepEqual(viaId.body.results.map((h) => [h.id, h.project]), [[secret.id, shared.id]]);
      const projects = await call<{ projects: Project[] }>(
        stack,
        bob,
        "GET",
        `${MEMORIES}/projects`,
      );
      assert.deepEqual(
        projects.body.projects.map((p) => [p.slug, p.ref, p.role]),
        [["default", "default", "owner"], [slug, shared.id, "writer"], [slug, slug, "owner"]],
      );
      // Alice still names her own project by its slug.
      const hers = await call<{ memory: Memory }>(stack, alice, "GET", `${MEMORIES}/${secret.id}`);
      assert.equal(hers.body.memory.project, slug);

      // None of Bob's searches was recorded against Alice's project.
      await stack.ctx.analytics.flush();
      const events = await stack.db.query<{ project_ids: string[] | null }>(
        "select project_ids from search_events where user_id = $1 order by created_at, id",
        [bob.userId],
      );
      assert.deepEqual(events.map((e) => e.project_ids), [[own.id], [shared.id]]);
    }),
);

testEachBackend(
  "projects: MCP tools resolve names the same way",
  (backend) =>
    withStack(backend, async (stack) => {
      const [alice, bob] = [await stack.newUser(), await stack.newUser()];
      const slug = uniqueSlug("app");
      const shared = await createProject(stack, alice, { name: "App", slug });
      await accept(stack, bob, (await invite(stack, alice, shared, bob.email)).body.invitation);
      await withMcp(stack, bob, async (client) => {
        // A bare name is Bob's own project, created on first use; the answer names Alice's id.
        const own = await callToolOk(client, "save_memory", {
          content: "mcp secret",
          project: slug,
        });
        assert.match(
          own.text,
          new RegExp(`Created your own project '${slug}'.*named by id: ${shared.id}`),
        );
        const saved = await callToolOk(client, "save_memory", {
          content: "for the team",
          project: shared.id,
        });
        assert.match(saved.text, new RegExp(`in project ${shared.id}\\.`));
      });
      assert.equal(await countIn(stack, shared.id), 1);
    }),
);

testEachBackend(
  "invitations: a known and an unknown email get the same answer",
  (backend) =>
    withStack(backend, async (stack) => {
      const [alice, bob] = [await stack.newUser(), await stack.newUser()];
      const project = await createProject(stack, alice, { name: "P", slug: uniqueSlug() });
      const unknown = `nobody-${crypto.randomUUID()}@nowhere.test`;
      const known = await invite(stack, alice, project, bob.email);
      const other = await invite(stack, alice, project, unknown);
      const shape = (r: typeof known) => ({
        status: r.status,
        keys: Object.keys(r.body),
        invitation: { ...r.body.invitation, id: "-", email: "-", created_at: "-", expires_at: "-" },
      });
      assert.deepEqual(shape(known), shape(other));
      assert.equal(known.status, 201);

      await withMcp(stack, alice, async (client) => {
        const texts = [];
        for (const email of [bob.email, unknown]) {
          const r = await callToolOk(client, "share_project", {
            project: project.slug,
            email,
            role: "reader",
          });
          texts.push(
            r.text.replace(
              /[0-9a-f]{8}-[0-9a-f-]{27}|\S+@\S+|\d{4}-\d\d-\d\dT[\d:.]+Z|[0-9a-f]{16}/g,
              "-",
            ),
          );
        }
        assert.equal(texts[0], texts[1]);
      });
    }),
);

testEachBackend(
  "invitations: only the invitee accepts or declines, and only in time",
  (backend) =>
    withStack(backend, async (stack) => {
      const [alice, bob, mallory] = [
        await stack.newUser(),
        await stack.newUser(),
        await stack.newUser(),
      ];
      const project = await createProject(stack, alice, { name: "P", slug: uniqueSlug() });
      const { invitation } = (await invite(stack, alice, project, bob.email)).body;
      const path = (what: string) => `${MEMORIES}/invitations/${invitation.id}/${what}`;

      // Someone else cannot see, accept, decline or withdraw it.
      const incoming = await call<{ invitations: unknown[] }>(
        stack,
        mallory,
        "GET",
        `${MEMORIES}/invitations`,
      );
      assert.deepEqual(incoming.body.invitations, []);
      assertError(await call(stack, mallory, "POST", path("accept")), 404);
      assertError(await call(stack, mallory, "POST", path("decline")), 404);
      assertError(await call(stack, alice, "POST", path("accept")), 404, /not found/);
      assertError(
        await call(
          stack,
          mallory,
          "DELETE",
          `${MEMORIES}/projects/${project.id}/invitations/${invitation.id}`,
        ),
        404,
      );
      const roster = await stack.db.query(
        "select 1 from project_members where project_id = $1 and user_id <> $2",
        [project.id, alice.userId],
      );
      assert.equal(roster.length, 0);

      // Bob sees it with what he needs to decide; once expired it is gone.
      const mine = await call<
        { invitations: { id: string; project_name: string; invited_by_email: string }[] }
      >(
        stack,
        bob,
        "GET",
        `${MEMORIES}/invitations`,
      );
      assert.deepEqual(
        mine.body.invitations.map((i) => [i.id, i.project_name, i.invited_by_email]),
        [[invitation.id, "P", alice.email]],
      );
      await stack.db.query(
        "update project_invitations set expires_at = now() - interval '1 second' where id = $1",
        [invitation.id],
      );
      assertError(await call(stack, bob, "POST", path("accept")), 404, /expired/);

      // Invited again: Bob declines, and it cannot be accepted afterwards.
      const again = (await invite(stack, alice, project, bob.email)).body.invitation;
      assert.equal(again.id, invitation.id, "the same invitation, renewed");
      const declined = await call(stack, bob, "POST", path("decline"));
      assert.deepEqual(declined.body, { id: invitation.id, declined: true });
      assertError(await call(stack, bob, "POST", path("accept")), 404);

      // Withdrawn by the owner: gone for the invitee too.
      const third = (await invite(stack, alice, project, bob.email)).body.invitation;
      const withdrawn = await call(
        stack,
        alice,
        "DELETE",
        `${MEMORIES}/projects/${project.slug}/invitations/${third.id}`,
      );
      assert.deepEqual(withdrawn.body, { id: third.id, withdrawn: true });
      assertError(
        await call(stack, bob, "POST", `${MEMORIES}/invitations/${third.id}/accept`),
        404,
      );
    }),
);

testEachBackend(
  "invitations: at the SQL level memberships come only from accepting",
  (backend) =>
    withStack(backend, async (stack) => {
      const { db } = stack;
      const [alice, bob, carol] = [
        await newTestUser(db),
        await newTestUser(db),
        await newTestUser(db),
      ];
      const project = crypto.randomUUID();
      await asUser(db, alice, (tx) =>
        tx.query(
          "insert into projects (id, owner_id, name, slug) values ($1, auth.uid(), 'P', $2)",
          [project, uniqueSlug()],
        ));
      const as = (user: string, sql: string, params: unknown[] = []) =>
        asUser(db, user, (tx) => tx.query(sql, params));

      // An owner cannot insert a membership, nor re-point one at someone else.
      await assertPgError(
        as(
          alice,
          "insert into project_members (project_id, user_id, role) values ($1, $2, 'writer')",
          [
            project,
            bob,
          ],
        ),
        "42501",
      );
      await assertPgError(
        as(alice, "update project_members set user_id = $2 where project_id = $1", [project, bob]),
        "42501",
      );
      // Nor write invitation rows directly, or invite to a project that is not theirs.
      await assertPgError(
        as(
          alice,
          "insert into project_invitations (project_id, email, role, invited_by) values ($1, 'x@y.z', 'reader', auth.uid())",
          [project],
        ),
        "42501",
      );
      await assertPgError(
        as(bob, "select public.invite_project_member($1, 'x@y.z', 'reader')", [project]),
        "P0002",
      );
      await shareProject(db, alice, project, bob, "reader");
      await assertPgError(
        as(bob, "select public.invite_project_member($1, 'x@y.z', 'reader')", [project]),
        "42501",
      );
      // Accepting someone else's invitation is impossible, even knowing its id.
      const [{ email }] = await db.query<{ email: string }>(
        "select email from auth.users where id = $1",
        [carol],
      );
      const [forCarol] = await as(
        alice,
        "select id from public.invite_project_member($1, $2, 'owner')",
        [project, email],
      );
      await assertPgError(
        as(bob, "select public.accept_project_invitation($1)", [forCarol.id]),
        "P0002",
      );
      const roles = await db.query<{ user_id: string; role: string }>(
        "select user_id, role from project_members where project_id = $1 order by role",
        [project],
      );
      assert.deepEqual(roles.map((r) => [r.user_id, r.role]), [[alice, "owner"], [bob, "reader"]]);
    }),
);

freshDbTest("invitations: an unconfirmed email (Supabase Auth) sees none", async (db) => {
  await migrate(db);
  // Supabase's auth.users records confirmation; the local stand-in has no such column.
  await db.query("alter table auth.users add column email_confirmed_at timestamptz");
  const [alice, bob] = [await newTestUser(db), await newTestUser(db)];
  const project = crypto.randomUUID();
  await asUser(
    db,
    alice,
    (tx) =>
      tx.query(
        "insert into projects (id, owner_id, name, slug) values ($1, auth.uid(), 'P', 'p')",
        [
          project,
        ],
      ),
  );
  await db.query("update auth.users set email_confirmed_at = now() where id = $1", [alice]);
  const invitation = { id: await inviteMember(db, alice, project, bob, "reader") };
  const pending = () =>
    asUser(db, bob, (tx) => tx.query("select id from public.my_project_invitations()"));
  assert.equal((await pending()).length, 0);
  await assertPgError(
    asUser(
      db,
      bob,
      (tx) => tx.query("select public.accept_project_invitation($1)", [invitation.id]),
    ),
    "P0002",
  );
  await db.query("update auth.users set email_confirmed_at = now() where id = $1", [bob]);
  assert.deepEqual((await pending()).map((r) => r.id), [invitation.id]);
  await asUser(
    db,
    bob,
    (tx) => tx.query("select public.accept_project_invitation($1)", [invitation.id]),
  );
});
