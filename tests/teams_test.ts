/**
 * Teams over REST and MCP: owners share projects by email with roles; readers read, writers
 * write, only owners manage members and the project; a project never loses its last owner.
 */
import assert from "node:assert/strict";
import type { Member } from "../shared/memory/teams.ts";
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
    const r = await call<{ member: Member }>(stack, owner, "POST", members(project), {
      email: user.email.toUpperCase(), // emails match case-insensitively
      role,
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.deepEqual(
      { user_id: r.body.member.user_id, role: r.body.member.role, email: r.body.member.email },
      { user_id: user.userId, role, email: user.email },
    );
  }
  return { owner, writer, reader, outsider, project };
}

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

      // Everyone in the project sees the roster, by id or slug; outsiders get a 404.
      for (const user of [owner, writer, reader]) {
        const r = await call<{ members: Member[] }>(
          stack,
          user,
          "GET",
          `${PROJECTS}/${project.slug}/members`,
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
        project: project.slug,
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
        await call(stack, writer, "POST", members(project), { email: outsider.email }),
        403,
        /Only an owner can add members.*your role is writer/,
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

      // Clear errors for unknown users, roles and members.
      assertError(
        await call(stack, owner, "POST", members(project), { email: "nobody@nowhere.test" }),
        404,
        /No user with email 'nobody@nowhere.test'/,
      );
      assertError(
        await call(stack, owner, "POST", members(project), {
          email: outsider.email,
          role: "admin",
        }),
        400,
      );
      assertError(
        await call(stack, owner, "POST", members(project), { email: "not an email" }),
        400,
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
      const deleted = await call(stack, writer, "DELETE", `${PROJECTS}/${project.slug}`);
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

      await withMcp(stack, owner, async (client) => {
        const listed = await callToolOk(client, "list_projects");
        assert.match(listed.text, new RegExp(`${project.slug}.*role: owner`));
        const shared = await callToolOk(client, "share_project", {
          project: project.slug,
          email: outsider.email,
          role: "reader",
        });
        assert.match(shared.text, /is now reader/);
        const roster = await callToolOk(client, "list_project_members", { project: project.slug });
        assert.match(roster.text, new RegExp(`${outsider.email}: reader`));
        await assertToolError(
          client,
          "share_project",
          { project: project.slug, email: "ghost@nowhere.test", role: "writer" },
          /No user with email/,
        );
        await callToolOk(client, "unshare_project", {
          project: project.slug,
          email: outsider.email,
        });
        await assertToolError(
          client,
          "unshare_project",
          { project: project.slug, email: owner.email },
          /at least one owner/,
        );
      });
      assert.equal(await roleOf(stack, project, outsider.userId), undefined);

      await withMcp(stack, reader, async (client) => {
        const listed = await callToolOk(client, "list_projects");
        assert.match(listed.text, new RegExp(`${project.slug}.*role: reader`));
        await assertToolError(
          client,
          "save_memory",
          { content: "nope", project: project.slug },
          /read-only access to project/,
        );
        await assertToolError(
          client,
          "share_project",
          { project: project.slug, email: outsider.email, role: "owner" },
          /Only an owner can add members/,
        );
      });
      await withMcp(stack, writer, async (client) => {
        await callToolOk(client, "save_memory", { content: "writer note", project: project.slug });
        await assertToolError(
          client,
          "unshare_project",
          { project: project.slug, email: reader.email },
          /Only an owner can remove other members/,
        );
      });
      await withMcp(stack, outsider, async (client) => {
        await assertToolError(
          client,
          "list_project_members",
          { project: project.id },
          /not found/,
        );
      });
      assert.equal(await roleOf(stack, project, reader.userId), "reader");
    }),
);
