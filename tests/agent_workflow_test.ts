/**
 * What agents need at work (issue #15, items 1-3 and 6), through REST and the real MCP SDK
 * client on both backends: projects created on first write, near-duplicates reported (or merged)
 * at save time, superseded memories out of search, version history and restore, and every tool
 * declaring an outputSchema its results validate against.
 */
import assert from "node:assert/strict";
import { asUser } from "../shared/db/as_user.ts";
import type { Memory, MemoryVersion, Project } from "../shared/memory/types.ts";
import type { SearchHit } from "../shared/search/types.ts";
import { waitForEmbeddings } from "./helpers/embed.ts";
import {
  assertError,
  assertToolError,
  call,
  callToolOk,
  MEMORIES,
  saveMemory,
  stackTest,
  withMcp,
} from "./helpers/foundation.ts";
import { MCP_TOOLS } from "./helpers/mcp.ts";
import type { TestStack, TestUser } from "./helpers/stack.ts";

const ownProjects = async (stack: TestStack, user: TestUser) =>
  (await stack.db.query<{ slug: string; name: string }>(
    "select slug, name from projects where owner_id = $1 order by created_at, slug",
    [user.userId],
  )).map((p) => `${p.slug}:${p.name}`);

stackTest(
  "projects: the first write to a new name creates the caller's own project",
  async (stack) => {
    const alice = await stack.newUser();

    // Reads of an unknown project create nothing.
    assertError(await call(stack, alice, "GET", `${MEMORIES}?project=Backend%20API`), 404);
    assertError(
      await call(stack, alice, "POST", `${MEMORIES}/search`, {
        query: "x",
        project: "Backend API",
      }),
      404,
    );
    assert.deepEqual(await ownProjects(stack, alice), []);

    const first = await call<{ memory: Memory; project_created: boolean }>(
      stack,
      alice,
      "POST",
      MEMORIES,
      { content: "The API runs on port 8080", project: "Backend API" },
    );
    assert.equal(first.status, 201, JSON.stringify(first.body));
    assert.equal(first.body.project_created, true);
    assert.equal(first.body.memory.project, "backend-api");
    // The same name, however spelt, is that project from now on; reads find it too.
    const again = await call<{ memory: Memory; project_created: boolean }>(
      stack,
      alice,
      "POST",
      MEMORIES,
      { content: "The API's health check is /healthz", project: "backend api" },
    );
    assert.equal(again.body.project_created, false);
    assert.equal(again.body.memory.project_id, first.body.memory.project_id);
    const listed = await call<{ memories: Memory[] }>(
      stack,
      alice,
      "GET",
      `${MEMORIES}?project=Backend%20API`,
    );
    assert.equal(listed.body.memories.length, 2);

    // Moving a memory to a new name creates that project as well.
    const moved = await call<{ memory: Memory }>(
      stack,
      alice,
      "PATCH",
      `${MEMORIES}/${again.body.memory.id}`,
      { project: "Café Ops" },
    );
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
    assert.equal(moved.body.memory.project, "cafe-ops");
    assert.deepEqual(await ownProjects(stack, alice), [
      "backend-api:Backend API",
      "cafe-ops:Café Ops",
    ]);

    // A name with nothing to make a slug of is a clear 400, and creates nothing.
    assertError(
      await call(stack, alice, "POST", MEMORIES, { content: "x", project: "日本語" }),
      400,
      /no letters a-z or digits.*'my-app'/,
    );
    assertError(
      await call(stack, alice, "POST", `${MEMORIES}/projects`, { name: "!!!" }),
      400,
      /no letters a-z or digits/,
    );
    // An id that names no project stays a 404: ids never create anything.
    assertError(
      await call(stack, alice, "POST", MEMORIES, {
        content: "x",
        project: "00000000-0000-4000-8000-000000000000",
      }),
      404,
    );
    assert.deepEqual(await ownProjects(stack, alice), [
      "backend-api:Backend API",
      "cafe-ops:Café Ops",
    ]);

    // list_projects (MCP) counts each project's memories and those waiting for embedding.
    await withMcp(stack, alice, async (client) => {
      const created = await callToolOk(client, "create_project", {
        name: "Mobile App",
        description: "the iOS and Android app",
      });
      const project = (created.structuredContent as { project: Project }).project;
      assert.equal(project.ref, "mobile-app");
      assert.equal(project.role, "owner");
      await assertToolError(client, "create_project", { name: "mobile app" }, /already have/);
      const xcode = await callToolOk(client, "save_memory", {
        content: "Build with Xcode 16",
        project: "mobile-app",
      });
      // A memory whose embedding gave up (the sweep leaves it alone): counted as such.
      const id = (xcode.structuredContent as { memory: Memory }).memory.id;
      await waitForEmbeddings(stack.db, [id]);
      await stack.db.query("update memories set embedding_status = 'failed' where id = $1", [id]);
      const { structuredContent, text } = await callToolOk(client, "list_projects");
      const projects = (structuredContent as {
        projects: { ref: string; role: string; memory_count: number; failed_embeddings: number }[];
      }).projects;
      const counts = projects.map((p) => [p.ref, p.role, p.memory_count]);
      assert.deepEqual(counts, [
        ["default", "owner", 0],
        ["backend-api", "owner", 1],
        ["cafe-ops", "owner", 1],
        ["mobile-app", "owner", 1],
      ]);
      assert.equal(projects.find((p) => p.ref === "mobile-app")!.failed_embeddings, 1);
      assert.match(text, /ref: mobile-app \| role: owner \| id: \S+ \| 1 memories \(1 failed/);
    });
  },
);

stackTest(
  "near-duplicates: save reports them (REST and MCP) and can merge instead",
  async (stack) => {
    const alice = await stack.newUser();
    const original = await saveMemory(stack, alice, {
      title: "DB pool size",
      content: "Decision: the API's database connection pool size is 20 per instance.",
      kind: "decision",
      project: "api",
    });
    const unrelated = await saveMemory(stack, alice, {
      content: "Session cookies are HttpOnly, Secure and SameSite=Lax.",
      project: "api",
    });
    await waitForEmbeddings(stack.db, [original.id, unrelated.id]);

    // One number differs: reported with id, title and similarity; the memory is still saved.
    const saved = await call<{
      memory: Memory;
      merged: boolean;
      near_duplicates: { id: string; title: string | null; similarity: number }[];
      duplicate_check: { status: string; threshold?: number; model?: string };
    }>(stack, alice, "POST", MEMORIES, {
      content: "Decision: the API's database connection pool size is 25 per instance.",
      kind: "decision",
      project: "api",
    });
    assert.equal(saved.status, 201, JSON.stringify(saved.body));
    assert.equal(saved.body.merged, false);
    assert.deepEqual(saved.body.duplicate_check, {
      status: "checked",
      model: "hash-v2",
      threshold: 0.5,
    });
    assert.deepEqual(saved.body.near_duplicates.map((n) => [n.id, n.title]), [[
      original.id,
      "DB pool size",
    ]]);
    assert.ok(saved.body.near_duplicates[0].similarity >= 0.5);
    assert.ok(saved.body.near_duplicates[0].similarity < 1);
    // Other projects are not compared.
    const elsewhere = await call<{ near_duplicates: unknown[] }>(stack, alice, "POST", MEMORIES, {
      content: "Decision: the API's database connection pool size is 30 per instance.",
      project: "worker",
    });
    assert.deepEqual(elsewhere.body.near_duplicates, []);

    await withMcp(stack, alice, async (client) => {
      await waitForEmbeddings(stack.db, [saved.body.memory.id]);
      // MCP says the same, titles fenced, and tells the agent what it can do.
      const reported = await callToolOk(client, "save_memory", {
        content: "Decision: the API's database connection pool size is 40 per instance.",
        project: "api",
      });
      const near = (reported.structuredContent as { near_duplicates: { id: string }[] })
        .near_duplicates.map((n) => n.id).sort();
      assert.deepEqual(near, [original.id, saved.body.memory.id].sort());
      assert.match(reported.text, /Near-duplicates already in this project/);
      assert.match(reported.text, /update_memory .*supersedes.*on_duplicate 'merge'/);
      assert.match(reported.text, /title: DB pool size\n<\/memory-content-/);

      // on_duplicate 'merge' updates the closest one instead of inserting; history keeps v1.
      const before = await stack.db.query("select id from memories where project_id = $1", [
        original.project_id,
      ]);
      const merged = await callToolOk(client, "save_memory", {
        title: "DB pool size",
        content: "Decision: the API's database connection pool size is 20 per instance (measured).",
        project: "api",
        on_duplicate: "merge",
      });
      const result = merged.structuredContent as { merged: boolean; memory: Memory };
      assert.equal(result.merged, true);
      assert.equal(result.memory.id, original.id);
      assert.equal(result.memory.version, 2);
      assert.match(merged.text, /Merged into memory .* now version 2/);
      const after = await stack.db.query("select id from memories where project_id = $1", [
        original.project_id,
      ]);
      assert.equal(after.length, before.length, "nothing inserted");
      const got = await callToolOk(client, "get_memory", {
        id: original.id,
        include_history: true,
      });
      const history = (got.structuredContent as { history: MemoryVersion[] }).history;
      assert.deepEqual(history.map((v) => [v.version, v.content]), [[
        1,
        "Decision: the API's database connection pool size is 20 per instance.",
      ]]);

      // merge with nothing close inserts as usual.
      const fresh = await callToolOk(client, "save_memory", {
        content: "Renovate opens dependency PRs every Monday.",
        project: "api",
        on_duplicate: "merge",
      });
      assert.equal((fresh.structuredContent as { merged: boolean }).merged, false);
      await assertToolError(client, "save_memory", {
        content: "y",
        supersedes: original.id,
        on_duplicate: "merge",
      }, /either supersedes or on_duplicate/);
    });
  },
);

stackTest(
  "superseding: the old memory stays readable, linked, and out of search",
  async (stack) => {
    const alice = await stack.newUser();
    const old = await saveMemory(stack, alice, {
      content: "Deploys go out on Tuesdays via the release train",
      kind: "decision",
      project: "web",
    });
    const search = (extra: Record<string, unknown> = {}) =>
      call<{ results: SearchHit[] }>(stack, alice, "POST", `${MEMORIES}/search`, {
        query: "deploys release train",
        mode: "keyword",
        ...extra,
      });
    assert.deepEqual((await search()).body.results.map((h) => h.id), [old.id]);

    const newer = await saveMemory(stack, alice, {
      content: "Deploys go out daily via the release train since March",
      kind: "decision",
      project: "web",
      supersedes: old.id,
    });
    assert.deepEqual((await search()).body.results.map((h) => h.id), [newer.id]);
    assert.deepEqual(
      (await search({ include_superseded: true })).body.results.map((h) => h.id).sort(),
      [old.id, newer.id].sort(),
    );
    const gotOld = await call<{ memory: Memory; superseded_by: string[]; supersedes: null }>(
      stack,
      alice,
      "GET",
      `${MEMORIES}/${old.id}`,
    );
    assert.equal(gotOld.body.memory.content, "Deploys go out on Tuesdays via the release train");
    assert.deepEqual(gotOld.body.superseded_by, [newer.id]);
    assert.equal(gotOld.body.supersedes, null);

    await withMcp(stack, alice, async (client) => {
      const got = await callToolOk(client, "get_memory", { id: newer.id });
      assert.equal((got.structuredContent as { supersedes: string }).supersedes, old.id);
      assert.match(got.text, new RegExp(`Supersedes memory ${old.id}`));
      const gotOldMcp = await callToolOk(client, "get_memory", { id: old.id });
      assert.match(gotOldMcp.text, new RegExp(`Superseded by ${newer.id}: search leaves`));
      const hits = async (args: Record<string, unknown>) =>
        ((await callToolOk(client, "search_memories", {
          query: "deploys release train",
          mode: "keyword",
          ...args,
        })).structuredContent as { hits: { id: string }[] }).hits.map((h) => h.id).sort();
      assert.deepEqual(await hits({}), [newer.id]);
      assert.deepEqual(await hits({ include_superseded: true }), [old.id, newer.id].sort());

      // Links are checked: same project, no cycles, not itself.
      const other = await saveMemory(stack, alice, { content: "elsewhere", project: "mobile" });
      await assertToolError(
        client,
        "save_memory",
        { content: "z", project: "web", supersedes: other.id },
        /only supersede one of its own project/,
      );
      await assertToolError(
        client,
        "update_memory",
        { id: old.id, supersedes: newer.id },
        /already supersedes/,
      );
      await assertToolError(client, "update_memory", { id: old.id, supersedes: old.id }, /itself/);

      // Removing the link (update supersedes: null) brings the old one back into search.
      await callToolOk(client, "update_memory", { id: newer.id, supersedes: null });
      assert.deepEqual(await hits({}), [old.id, newer.id].sort());
      // Linking through update works the same way as on save.
      await callToolOk(client, "update_memory", { id: newer.id, supersedes: old.id });
      assert.deepEqual(await hits({}), [newer.id]);
    });

    // Deleting the newer memory un-hides the old one.
    await call(stack, alice, "DELETE", `${MEMORIES}/${newer.id}`);
    assert.deepEqual((await search()).body.results.map((h) => h.id), [old.id]);
  },
);

stackTest(
  "history: updates keep every version; restore brings one back; delete keeps none",
  async (stack) => {
    const [alice, bob] = [await stack.newUser(), await stack.newUser()];
    const memory = await saveMemory(stack, alice, {
      title: "Node version",
      content: "Node 18 is the minimum",
      tags: ["node"],
      file_path: "package.json",
    });
    const patch = (body: Record<string, unknown>) =>
      call<{ memory: Memory }>(stack, alice, "PATCH", `${MEMORIES}/${memory.id}`, body);
    await patch({ content: "Node 20 is the minimum", tags: ["node", "runtime"] });
    await patch({ title: "Minimum Node", kind: "decision" });

    const got = await call<{ memory: Memory; history: MemoryVersion[]; updated_by: string }>(
      stack,
      alice,
      "GET",
      `${MEMORIES}/${memory.id}?include_history=true`,
    );
    assert.equal(got.status, 200, JSON.stringify(got.body));
    assert.equal(got.body.memory.version, 3);
    assert.equal(got.body.updated_by, alice.userId);
    assert.deepEqual(
      got.body.history.map((v) => [v.version, v.title, v.content, v.tags, v.kind, v.file_path]),
      [
        [2, "Node version", "Node 20 is the minimum", ["node", "runtime"], "note", "package.json"],
        [1, "Node version", "Node 18 is the minimum", ["node"], "note", "package.json"],
      ],
    );
    assert.deepEqual(got.body.history.map((v) => v.written_by), [alice.userId, alice.userId]);
    assert.equal(got.body.history[1].written_at, memory.created_at);
    // Without include_history there is none.
    const plain = await call<Record<string, unknown>>(
      stack,
      alice,
      "GET",
      `${MEMORIES}/${memory.id}`,
    );
    assert.equal("history" in plain.body, false);

    // Nobody else sees the versions, even straight through SQL as themselves.
    const leaked = await asUser(
      stack.db,
      bob.userId,
      (tx) => tx.query("select * from memory_versions where memory_id = $1", [memory.id]),
    );
    assert.equal(leaked.length, 0);
    assertError(
      await call(stack, bob, "POST", `${MEMORIES}/${memory.id}/restore`, { version: 1 }),
      404,
      /not found/,
    );

    // Restoring version 1 makes it version 4; version 3 joins the history.
    const restored = await call<{ memory: Memory; restored_version: number }>(
      stack,
      alice,
      "POST",
      `${MEMORIES}/${memory.id}/restore`,
      { version: 1 },
    );
    assert.equal(restored.status, 200, JSON.stringify(restored.body));
    assert.deepEqual(
      [restored.body.memory.version, restored.body.memory.content, restored.body.memory.title],
      [4, "Node 18 is the minimum", "Node version"],
    );
    assert.deepEqual(restored.body.memory.tags, ["node"]);
    assert.equal(restored.body.memory.kind, "note");
    assertError(
      await call(stack, alice, "POST", `${MEMORIES}/${memory.id}/restore`, { version: 9 }),
      404,
      /no earlier version 9 \(earlier versions: 1, 2, 3\)/,
    );
    assertError(
      await call(stack, alice, "POST", `${MEMORIES}/${memory.id}/restore`, {
        version: 1,
        expected_version: 2,
      }),
      409,
    );

    await withMcp(stack, alice, async (client) => {
      const viaMcp = await callToolOk(client, "restore_memory", { id: memory.id, version: 2 });
      assert.equal(
        (viaMcp.structuredContent as { memory: Memory }).memory.content,
        "Node 20 is the minimum",
      );
      assert.match(viaMcp.text, /Restored version 2 of memory .* as version 5/);
      const listed = await callToolOk(client, "get_memory", {
        id: memory.id,
        include_history: true,
      });
      assert.deepEqual(
        (listed.structuredContent as { history: MemoryVersion[] }).history.map((v) => v.version),
        [4, 3, 2, 1],
      );
      assert.match(listed.text, /- version 4 \| kind: note \| written by /);

      // Delete keeps nothing, and says so.
      const deleted = await callToolOk(client, "delete_memory", { id: memory.id });
      assert.deepEqual(deleted.structuredContent, {
        id: memory.id,
        deleted: true,
        versions_deleted: 4,
      });
      assert.match(deleted.text, /and its 4 earlier versions; nothing of it is kept/);
    });
    const [{ n }] = await stack.db.query<{ n: number }>(
      "select count(*)::int as n from memory_versions where memory_id = $1",
      [memory.id],
    );
    assert.equal(n, 0);
  },
);

stackTest(
  "structured results: every tool declares an outputSchema its results satisfy",
  async (stack) => {
    const [alice, bob] = [await stack.newUser(), await stack.newUser()];
    await withMcp(stack, alice, async (client) => {
      // The server's instructions tell every client how to use these (README, docs/clients.md).
      const instructions = client.getInstructions() ?? "";
      for (const tool of ["search_memories", "save_memory", "update_memory", "restore_memory"]) {
        assert.ok(instructions.includes(tool), `instructions name ${tool}`);
      }
      assert.match(instructions, /near_duplicates.*supersedes.*on_duplicate 'merge'/);
      const { tools } = await client.listTools();
      assert.deepEqual(
        tools.filter((t) => t.outputSchema?.type === "object").map((t) => t.name).sort(),
        MCP_TOOLS,
      );
      // The SDK client validates structuredContent against the listed outputSchema on every call
      // below (and fails the call if it does not match); each tool is called at least once.
      const saved = await callToolOk(client, "save_memory", {
        content: "Use pnpm",
        project: "web",
      });
      const { memory } = saved.structuredContent as { memory: Memory };
      await callToolOk(client, "update_memory", { id: memory.id, tags: ["tooling"] });
      await callToolOk(client, "get_memory", { id: memory.id, include_history: true });
      await callToolOk(client, "restore_memory", { id: memory.id, version: 1 });
      await callToolOk(client, "search_memories", { query: "pnpm", mode: "keyword" });
      await callToolOk(client, "list_memories", {});
      await callToolOk(client, "create_project", { name: "Team" });
      const invite = (role: string) =>
        callToolOk(client, "share_project", { project: "team", email: bob.email, role });
      // Bob answers his one invitation through his own client.
      const answer = (tool: "accept_invitation" | "decline_invitation") =>
        withMcp(stack, bob, async (bobClient) => {
          const listed = await callToolOk(bobClient, "list_projects");
          const [invitation] = (listed.structuredContent as { invitations: { id: string }[] })
            .invitations;
          await callToolOk(bobClient, tool, { invitation: invitation.id });
        });
      await invite("writer"); // an invitation
      await callToolOk(client, "list_project_members", { project: "team" });
      await callToolOk(client, "unshare_project", { project: "team", email: bob.email });
      await invite("reader");
      await answer("accept_invitation");
      await invite("writer"); // a member's new role
      await callToolOk(client, "unshare_project", { project: "team", email: bob.email });
      await invite("reader");
      await answer("decline_invitation");
      await callToolOk(client, "delete_memory", { id: memory.id });
    });
  },
);
