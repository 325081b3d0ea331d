/**
 * Isolation: a user who knows another user's ids (memory, project, member, key) tries every
 * REST endpoint and MCP tool on them. Every attempt is a 404 (existence is not revealed) or a
 * 403, and a privileged snapshot proves nothing changed.
 */
import assert from "node:assert/strict";
import type { Database } from "../shared/db/types.ts";
import { testEachBackend } from "./helpers/db.ts";
import {
  call,
  callTool,
  createProject,
  inviteMember,
  MEMORIES,
  type Reply,
  saveMemory,
  uniqueSlug,
  withMcp,
} from "./helpers/foundation.ts";
import { withStack } from "./helpers/stack.ts";

/** Everything of `userId` that an attack could alter, read with privileges. */
async function snapshot(db: Database, userId: string) {
  const q = (sql: string) => db.query(sql, [userId]);
  return {
    memories: await q(
      `select id, project_id, user_id, content, title, tags, version, updated_at from memories
       where project_id in (select id from projects where owner_id = $1) order by id`,
    ),
    projects: await q(
      "select id, owner_id, name, slug, description, is_default from projects where owner_id = $1 order by id",
    ),
    members: await q(
      `select project_id, user_id, role from project_members
       where project_id in (select id from projects where owner_id = $1) order by project_id, user_id`,
    ),
    keys: await q(
      "select id, name, scopes, revoked_at from api_keys where user_id = $1 order by id",
    ),
    invitations: await q(
      `select id, project_id, email, role from project_invitations
       where project_id in (select id from projects where owner_id = $1) order by id`,
    ),
  };
}

const denied = (r: Reply, what: string) =>
  assert.ok([403, 404].includes(r.status), `${what}: ${r.status} ${JSON.stringify(r.body)}`);

testEachBackend(
  "isolation: every endpoint and tool refuses another user's ids",
  (backend) =>
    withStack(backend, async (stack) => {
      const alice = await stack.newUser();
      const mallory = await stack.newUser();
      const project = await createProject(stack, alice, {
        name: "Private",
        slug: uniqueSlug("priv"),
      });
      const memory = await saveMemory(stack, alice, {
        content: "alice's secret plan",
        project: project.id,
        tags: ["secret"],
      });
      const [aliceKey] =
        (await call<{ keys: { id: string }[] }>(stack, alice, "GET", `${MEMORIES}/keys`))
          .body.keys;
      const own = await saveMemory(stack, mallory, { content: "mallory's own note" });
      // An invitation meant for someone else: Mallory knows its id but must not use it.
      const bob = await stack.newUser();
      const invitationId = await inviteMember(
        stack.db,
        alice.userId,
        project.id,
        bob.userId,
        "writer",
      );
      const before = await snapshot(stack.db, alice.userId);

      const P = `${MEMORIES}/projects/${project.id}`;
      const attempts: [string, string, unknown?][] = [
        ["GET", `${MEMORIES}/${memory.id}`],
        ["PATCH", `${MEMORIES}/${memory.id}`, { content: "pwned" }],
        ["PATCH", `${MEMORIES}/${memory.id}`, { expected_version: 1, title: "pwned" }],
        ["DELETE", `${MEMORIES}/${memory.id}`],
        ["GET", `${MEMORIES}?project=${project.id}`],
        ["GET", `${MEMORIES}?project=${project.slug}`],
        ["POST", MEMORIES, { content: "planted", project: project.id }],
        ["PATCH", `${MEMORIES}/${own.id}`, { project: project.id }],
        ["POST", `${MEMORIES}/search`, { query: "secret plan", project: project.id }],
        ["PATCH", P, { name: "pwned" }],
        ["DELETE", P],
        ["GET", `${P}/members`],
        ["POST", `${P}/invitations`, { email: mallory.email, role: "owner" }],
        ["GET", `${P}/invitations`],
        ["PATCH", `${P}/members/${alice.userId}`, { role: "reader" }],
        ["DELETE", `${P}/members/${alice.userId}`],
        ["DELETE", `${MEMORIES}/keys/${aliceKey.id}`],
        ["POST", `${MEMORIES}/invitations/${invitationId}/accept`],
        ["POST", `${MEMORIES}/invitations/${invitationId}/decline`],
      ];
      for (const [method, path, body] of attempts) {
        denied(await call(stack, mallory, method, path, body), `${method} ${path}`);
      }
      // Alice's slug is only a name to Mallory: writing to it creates Mallory's OWN project.
      const planted = await call<{ memory: { project_id: string } }>(
        stack,
        mallory,
        "POST",
        MEMORIES,
        {
          content: "planted",
          project: project.slug,
        },
      );
      assert.equal(planted.status, 201, JSON.stringify(planted.body));
      const [owner] = await stack.db.query<{ owner_id: string }>(
        "select owner_id from projects where id = $1",
        [planted.body.memory.project_id],
      );
      assert.equal(owner.owner_id, mallory.userId);

      // Reads that succeed must not contain anything of Alice's.
      const leaks = [
        await call(stack, mallory, "GET", MEMORIES),
        await call(stack, mallory, "GET", `${MEMORIES}/projects`),
        await call(stack, mallory, "GET", `${MEMORIES}/keys`),
        await call(stack, mallory, "POST", `${MEMORIES}/search`, { query: "secret plan" }),
      ];
      for (const r of leaks) {
        const text = JSON.stringify(r.body);
        for (const id of [memory.id, project.id, aliceKey.id, memory.content]) {
          assert.ok(!text.includes(id), `leaked ${id}: ${text.slice(0, 300)}`);
        }
      }

      await withMcp(stack, mallory, async (client) => {
        const { tools } = await client.listTools();
        const names = new Set(tools.map((t) => t.name));
        const calls: [string, Record<string, unknown>][] = [
          ["get_memory", { id: memory.id }],
          ["update_memory", { id: memory.id, content: "pwned" }],
          ["delete_memory", { id: memory.id }],
          ["restore_memory", { id: memory.id, version: 1 }],
          ["list_memories", { project: project.id }],
          ["save_memory", { content: "planted", project: project.id }],
          ["update_memory", { id: own.id, project: project.id }],
          ["search_memories", { query: "secret plan", project: project.id }],
          ["list_project_members", { project: project.id }],
          ["share_project", { project: project.id, email: mallory.email, role: "owner" }],
          ["unshare_project", { project: project.id, email: alice.email }],
          ["accept_invitation", { invitation: invitationId }],
          ["decline_invitation", { invitation: invitationId }],
        ];
        // Reads that answer an unknown target with an empty result, never an error.
        const empty: [string, Record<string, unknown>][] = [
          ["get_session_brief", { project: project.id, task: "secret plan" }],
          ["get_session_brief", { repo: "github.com/alice/secret", paths: ["plan.md"] }],
        ];
        // Every tool is in the attack matrix (list_projects takes no target: it is read below;
        // create_project only ever creates in the caller's own namespace), so a new or renamed
        // tool cannot slip past it.
        assert.deepEqual(
          [...names].sort(),
          [
            ...new Set(
              [...calls, ...empty].map(([name]) => name).concat("list_projects", "create_project"),
            ),
          ].sort(),
          "the tools the server lists are exactly those the matrix attacks",
        );
        for (const [name, args] of empty) {
          const result = await callTool(client, name, args);
          assert.notEqual(result.isError, true, `${name}: ${result.text}`);
          assert.deepEqual(result.structuredContent?.items, [], name);
          for (const id of [memory.id, project.id]) {
            assert.ok(!JSON.stringify(result).includes(id), `${name} leaked ${id}`);
          }
        }
        for (const [name, args] of calls) {
          const result = await callTool(client, name, args);
          assert.equal(result.isError, true, `${name} succeeded: ${result.text}`);
          assert.match(
            result.text,
            /not found|permission|read-only|owner/i,
            `${name}: ${result.text}`,
          );
        }
        for (const [name, args] of [["list_projects", {}], ["list_memories", {}]] as const) {
          const result = await callTool(client, name, args);
          assert.ok(!JSON.stringify(result).includes(project.id), `${name} leaked the project`);
          assert.ok(!JSON.stringify(result).includes(memory.id), `${name} leaked the memory`);
        }
        const result = await callTool(client, "search_memories", { query: "secret plan" });
        assert.ok(!JSON.stringify(result).includes(memory.id), "search leaked the memory");
      });

      assert.deepEqual(
        await snapshot(stack.db, alice.userId),
        before,
        "nothing of Alice's changed",
      );
      const [{ n }] = await stack.db.query<{ n: number }>(
        "select count(*)::int as n from project_members where user_id = $1 and project_id = $2",
        [mallory.userId, project.id],
      );
      assert.equal(n, 0, "Mallory did not join");
    }),
);
