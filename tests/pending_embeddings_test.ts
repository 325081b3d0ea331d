/**
 * Agents can tell when indexing is done: REST `GET /memories/projects` and MCP `list_projects`
 * count, per project, the memories still waiting for (or given up on) their embedding.
 */
import assert from "node:assert/strict";
import type { ListedProject } from "../shared/memory/types.ts";
import { call, callToolOk, MEMORIES, stackTest } from "./helpers/foundation.ts";
import { connectMcp } from "./helpers/mcp.ts";
import { savePendingMemory } from "./helpers/search.ts";

stackTest("projects list how many memories wait for an embedding (REST and MCP)", async (stack) => {
  const alice = await stack.newUser();
  // Saved as pending without a webhook, so no embed run races the counts below.
  await savePendingMemory(stack.db, alice.userId, "Waiting for a vector, one");
  const failed = await savePendingMemory(stack.db, alice.userId, "Waiting for a vector, two");
  await savePendingMemory(stack.db, alice.userId, "Waiting for a vector, three");
  await stack.db.query("update public.memories set embedding_status = 'failed' where id = $1", [
    failed,
  ]);
  const other = await stack.newUser();
  await savePendingMemory(stack.db, other.userId, "Someone else's backlog");

  const rest = await call<{ projects: ListedProject[] }>(
    stack,
    alice,
    "GET",
    `${MEMORIES}/projects`,
  );
  assert.equal(rest.status, 200);
  assert.equal(rest.body.projects.length, 1);
  assert.equal(rest.body.projects[0].pending_embeddings, 2);
  assert.equal(rest.body.projects[0].failed_embeddings, 1);

  const client = await connectMcp(stack, alice);
  try {
    const tool = await callToolOk(client, "list_projects");
    const [project] = (tool.structuredContent as { projects: ListedProject[] }).projects;
    assert.equal(project.pending_embeddings, 2);
    assert.equal(project.failed_embeddings, 1);
    assert.match(tool.text, /2 pending embedding, 1 failed embedding/);
  } finally {
    await client.close();
  }

  // Once embedded, nothing is pending and the text says nothing about it.
  await stack.db.query("update public.memories set embedding_status = 'ready' where user_id = $1", [
    alice.userId,
  ]);
  const done = await call<{ projects: ListedProject[] }>(
    stack,
    alice,
    "GET",
    `${MEMORIES}/projects`,
  );
  assert.equal(done.body.projects[0].pending_embeddings, 0);
  assert.equal(done.body.projects[0].failed_embeddings, 0);
});
