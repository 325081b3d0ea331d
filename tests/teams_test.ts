/**
 * Teams over REST and MCP: owners share projects by email with roles; readers read, writers
 * write, only owners manage members and the project; a project never loses its last owner.
 */
import assert from "node:assert/strict";
import type { Invitation, Member } from "../shared/memory/teams.ts";
import type { Project } from "../shared/memory/types.ts";
import { testEachBackend } from "./helpers/db.ts";
import {
  assertError,
  assertToolError,
  call,
  callToolOk,
  createProject,
  MEMORIES,
  saveMemory,
  uniqueSlug,
  withMcp,
} from "./helpers/foundation.ts";
import { parseFenced } from "./helpers/fences.ts";
import { type TestStack, type TestUser, withStack } from "./helpers/stack.ts";

const PROJECTS = `${MEMORIES}/projects`;

interface Team {
  owner: TestUser;
  writer: TestUser;
  reader: TestUser;
  outsider: TestUser;
  project: Project;
}

/** A project owned by `owner` shared with a writer and a reader, plus an outsider. */
async function team(stack: TestStack): Promise<Team> {
  const [owner, writer, reader, outsider] = await Promise.all([
    stack.newUser(),
    stack.newUser(),
    stack.newUser(),
    stack.newUser(),
  ]);
  const project = await createProject(stack, owner, { name: "Team", slug: uniqueSlug("team") });
  for (const [user, role] of [[writer, "writer"], [reader, "reader"]] as const) {
    await join(stack, owner, project, user, role);
  }
  return { owner, writer, reader, outsider, project };
}

/** `owner` invites `user` (by email, in upper case: emails match case-insensitively), who accepts. */
async function join(
  stack: TestStack,
  owner: TestUser,
  project: Project,
  user: TestUser,
  role: string,
): Promise<Invitation> {
  const invitation = await invite(stack, owner, project, user.email.toUpperCase(), role);
  assert.equal(invitation.email, user.email);
  const r = await call<{ project: Project; member: Member }>(
    stack,
    user,
    "POST",
    `${MEMORIES}/invitations/${invitation.id}/accept`,
  );
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(
    { user_id: r.body.member.user_id, role: r.body.member.role, email: r.body.member.email },
    { user_id: user.userId, role, email: user.email },
  );
  // The invitee names a shared project by its id.
  assert.deepEqual([r.body.project.id, r.body.project.ref], [project.id, project.id]);
  return invitation;
}

async function invite(
  stack: TestStack,
  owner: TestUser,
  project: Project,
  email: string,
  role: string,
): Promise<Invitation> {
  const r = await call<{ invitation: Invitation }>(stack, owner, "POST", invitations(project), {
    email,
    role,
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.invitation;
}

const invitations = (p: Project) => `${PROJECTS}/${p.id}/invitations`;
const members = (p: Project, userId?: string) =>
  `${PROJECTS}/${p.id}/members${userId ? `/${userId}` : ""}`;

async function roleOf(stack: TestStack, p: Project, userId: string): Promise<string | undefined> {
  const [row] = await stack.db.query<{ role: string }>(
    "select role from project_members where project_id = $1 and user_id = $2",
    [p.id, userId],
  );
  return row?.role;
}

testEachBackend(
  "teams: members and roles over REST",
  (backend) =>
    withStack(backend, async (stack) => {
      const { owner, writer, reader, outsider, project } = await team(stack);

      // Everyone in the project sees the roster (the owner names it by slug, members by id);
      // outsiders get a 404.
      for (
        const [user, ref] of [[owner, project.slug], [writer, project.id], [
          reader,
          project.id,
        ]] as const
      ) {
        const r = await call<{ members: Member[] }>(
          stack,
          user,
          "GET",
          `${PROJECTS}/${ref}/members`,
        );
        assert.equal(r.status, 200, JSON.stringify(r.body));
        assert.deepEqual(r.body.members.map((m) => [m.email, m.role]), [
          [owner.email, "owner"],
          [writer.email, "writer"],
          [reader.email, "reader"],
        ]);
      }
      assertError(await call(stack, outsider, "GET", members(project)), 404, /not found/);

      // Reader: reads, cannot write.
      const memory = await saveMemory(stack, writer, {
        content: "team fact",
        project: project.id,
      });
      assert.equal((await call(stack, reader, "GET", `${MEMORIES}/${memory.id}`)).status, 200);
      const listed = await call<{ memories: { id: string }[] }>(
        stack,
        reader,
        "GET",
        `${MEMORIES}?project=${project.id}`,
      );
      assert.deepEqual(listed.body.memories.map((m) => m.id), [memory.id]);
      assertError(
        await call(stack, reader, "POST", MEMORIES, { content: "x", project: project.id }),
        403,
        /read-only access/,
      );
      assertError(
        await call(stack, reader, "PATCH", `${MEMORIES}/${memory.id}`, { title: "x" }),
        403,
        /read-only access/,
      );
      assertError(
        await call(stack, reader, "DELETE", `${MEMORIES}/${memory.id}`),
        403,
        /read-only/,
      );

      // Writer: writes, but membership and the project are the owner's.
      assertError(
        await call(stack, writer, "POST", invitations(project), { email: outsider.email }),
        403,
        /Only an owner can invite members.*your role is writer/,
      );
      assertError(
        await call(stack, writer, "PATCH", members(project, reader.userId), { role: "writer" }),
        403,
        /Only an owner/,
      );
      assertError(
        await call(stack, writer, "DELETE", members(project, reader.userId)),
        403,
        /owner/,
      );
      assertError(
        await call(stack, writer, "PATCH", `${PROJECTS}/${project.id}`, { name: "Mine" }),
        403,
        /Only an owner can rename/,
      );
      assertError(await call(stack, writer, "DELETE", `${PROJECTS}/${project.id}`), 403, /owner/);
      assert.equal(await roleOf(stack, project, reader.userId), "reader");

      // Owner: changes roles, renames.
      const promoted = await call<{ member: Member }>(
        stack,
        owner,
        "PATCH",
        members(project, reader.userId),
        { role: "writer" },
      );
      assert.equal(promoted.status, 200, JSON.stringify(promoted.body));
      assert.equal(promoted.body.member.role, "writer");
      await saveMemory(stack, reader, { content: "now I can write", project: project.id });
      const renamed = await call<{ project: Project }>(
        stack,
        owner,
        "PATCH",
        `${PROJECTS}/${project.id}`,
        {
          name: "Renamed",
          description: "shared notes",
        },
      );
      assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
      assert.equal(renamed.body.project.name, "Renamed");

      // Clear errors for bad roles, emails and members.
      assertError(
        await call(stack, owner, "POST", invitations(project), {
          email: outsider.email,
          role: "admin",
        }),
        400,
      );
      assertError(
        await call(stack, owner, "POST", invitations(project), { email: "not an email" }),
        400,
      );
      assertError(
        await call(stack, owner, "POST", invitations(project), { email: reader.email }),
        409,
        /already a member/,
      );
      assertError(
        await call(stack, owner, "PATCH", members(project, outsider.userId), { role: "reader" }),
        404,
        /not a member/,
      );
    }),
);

testEachBackend(
  "teams: the last owner stays; members may leave; owners delete",
  (backend) =>
    withStack(backend, async (stack) => {
      const { owner, writer, reader, project } = await team(stack);

      assertError(
        await call(stack, owner, "PATCH", members(project, owner.userId), { role: "writer" }),
        409,
        /at least one owner/,
      );
      assertError(
        await call(stack, owner, "DELETE", members(project, owner.userId)),
        409,
        /at least one owner/,
      );
      assert.equal(await roleOf(stack, project, owner.userId), "owner");

      // A reader leaves on their own.
      const left = await call(stack, reader, "DELETE", members(project, reader.userId));
      assert.equal(left.status, 200, JSON.stringify(left.body));
      assert.equal(await roleOf(stack, project, reader.userId), undefined);
      assertError(await call(stack, reader, "GET", members(project)), 404);

      // Hand over: the writer becomes owner, then the first owner can leave.
      await call(stack, owner, "PATCH", members(project, writer.userId), { role: "owner" });
      const handedOver = await call(stack, owner, "DELETE", members(project, owner.userId));
      assert.equal(handedOver.status, 200, JSON.stringify(handedOver.body));
      assertError(await call(stack, owner, "DELETE", `${PROJECTS}/${project.id}`), 404);

      // The new owner deletes the project with its memories.
      const memory = await saveMemory(stack, writer, { content: "doomed", project: project.id });
      const deleted = await call(stack, writer, "DELETE", `${PROJECTS}/${project.id}`);
      assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
      assert.deepEqual(deleted.body, { id: project.id, deleted: true });
      const rows = await stack.db.query(
        "select 1 from projects where id = $1 union all select 1 from memories where id = $2",
        [project.id, memory.id],
      );
      assert.equal(rows.length, 0);
    }),
);

testEachBackend(
  "teams: sharing over MCP, with clear errors per role",
  (backend) =>
    withStack(backend, async (stack) => {
      const { owner, writer, reader, outsider, project } = await team(stack);

      const stranger = await stack.newUser();
      await withMcp(stack, owner, async (client) => {
        const listed = await callToolOk(client, "list_projects");
        assert.match(listed.text, new RegExp(`ref: ${project.slug} \\| role: owner`));
        const shared = await callToolOk(client, "share_project", {
          project: project.slug,
          email: outsider.email,
          role: "reader",
        });
        assert.match(shared.text, /Invitation [0-9a-f-]{36} to project .* as reader.*accept/);
        // Known or not, an email gets the same answer; a member's role changes instead.
        await callToolOk(client, "share_project", {
          project: project.slug,
          email: stranger.email,
          role: "writer",
        });
        const ghost = await callToolOk(client, "share_project", {
          project: project.slug,
          email: "ghost@nowhere.test",
          role: "writer",
        });
        assert.match(ghost.text, /Invitation [0-9a-f-]{36} to project .* as writer/);
        const promoted = await callToolOk(client, "share_project", {
          project: project.slug,
          email: reader.email,
          role: "writer",
        });
        assert.match(promoted.text, /Already a member .* role is now writer/);
        await callToolOk(client, "share_project", {
          project: project.slug,
          email: reader.email,
          role: "reader",
        });
        // Invited people are not members until they accept.
        const roster = await callToolOk(client, "list_project_members", { project: project.slug });
        assert.deepEqual(parseFenced(roster.text).blocks, [
          [`owner: ${owner.email}`, `writer: ${writer.email}`, `reader: ${reader.email}`].join(
            "\n",
          ),
        ]);
        const withdrawn = await callToolOk(client, "unshare_project", {
          project: project.slug,
          email: "ghost@nowhere.test",
        });
        assert.match(withdrawn.text, /Invitation withdrawn/);
        await assertToolError(
          client,
          "unshare_project",
          { project: project.slug, email: owner.email },
          /at least one owner/,
        );
      });
      assert.equal(await roleOf(stack, project, outsider.userId), undefined);

      // The invitee sees the invitation in list_projects and accepts it.
      await withMcp(stack, outsider, async (client) => {
        await assertToolError(client, "list_project_members", { project: project.id }, /not found/);
        const listed = await callToolOk(client, "list_projects");
        const [pending] = listed.structuredContent.invitations as { id: string; role: string }[];
        assert.equal(pending.role, "reader");
        assert.match(listed.text, new RegExp(`invitation ${pending.id} \\| role: reader`));
        assert.ok(
          parseFenced(listed.text).blocks.includes(
            `project: Team (${project.slug})\ninvited by: ${owner.email}`,
          ),
        );
        const joined = await callToolOk(client, "accept_invitation", { invitation: pending.id });
        assert.match(joined.text, new RegExp(`Joined project ${project.id} as reader`));
        await assertToolError(client, "accept_invitation", { invitation: pending.id }, /not found/);
        const after = await callToolOk(client, "list_projects");
        assert.match(after.text, new RegExp(`ref: ${project.id} \\| role: reader \\| shared`));
        assert.deepEqual(after.structuredContent.invitations, []);
      });
      assert.equal(await roleOf(stack, project, outsider.userId), "reader");

      // The stranger says no.
      await withMcp(stack, stranger, async (client) => {
        const listed = await callToolOk(client, "list_projects");
        const [pending] = listed.structuredContent.invitations as { id: string }[];
        await callToolOk(client, "decline_invitation", { invitation: pending.id });
        const after = await callToolOk(client, "list_projects");
        assert.deepEqual(after.structuredContent.invitations, []);
      });
      assert.equal(await roleOf(stack, project, stranger.userId), undefined);

      await withMcp(stack, reader, async (client) => {
        const listed = await callToolOk(client, "list_projects");
        assert.match(listed.text, new RegExp(`ref: ${project.id} \\| role: reader`));
        await assertToolError(
          client,
          "save_memory",
          { content: "nope", project: project.id },
          /read-only access to project/,
        );
        await assertToolError(
          client,
          "share_project",
          { project: project.id, email: outsider.email, role: "owner" },
          /Only an owner can invite members/,
        );
      });
      await withMcp(stack, writer, async (client) => {
        await callToolOk(client, "save_memory", { content: "writer note", project: project.id });
        await assertToolError(
          client,
          "unshare_project",
          { project: project.id, email: reader.email },
          /Only an owner can remove other members/,
        );
      });
      assert.equal(await roleOf(stack, project, reader.userId), "reader");
    }),
);
