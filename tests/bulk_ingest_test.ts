/**
 * Bulk ingest over REST (scripts/lib/bulk_ingest.ts): many memories in few import requests,
 * then waiting on the projects' pending counts until all are searchable by meaning.
 */
import assert from "node:assert/strict";
import { bulkIngest, waitUntilIndexed } from "../scripts/lib/bulk_ingest.ts";
import { call, MEMORIES, stackTest } from "./helpers/foundation.ts";

stackTest("bulk ingest: 600 memories in two requests, then indexed", async (stack) => {
  const user = await stack.newUser();
  const memories = Array.from({ length: 600 }, (_, i) => ({
    id: crypto.randomUUID(),
    // ~1.6 kB each: 600 of them need two requests under the 1 MiB body limit.
    content: `Memory ${i}: ${"deploy notes and checklists ".repeat(60)}`,
    title: `Note ${i}`,
    project: i % 2 ? "odd" : "even",
  }));
  const result = await bulkIngest(stack.url, user.key, memories);
  assert.equal(result.inserted, 600);
  assert.equal(result.requests, 2);

  await waitUntilIndexed(stack.url, user.key, { timeoutMs: 60_000 });
  const listed = await call<{ projects: { slug: string; pending_embeddings: number }[] }>(
    stack,
    user,
    "GET",
    `${MEMORIES}/projects`,
  );
  const slugs = listed.body.projects.map((p) => [p.slug, p.pending_embeddings]);
  assert.deepEqual(slugs.filter(([slug]) => slug !== "default").sort(), [["even", 0], ["odd", 0]]);
  const one = await call<{ memory: { content: string } }>(
    stack,
    user,
    "GET",
    `${MEMORIES}/${memories[7].id}`,
  );
  assert.equal(one.status, 200);
  assert.equal(one.body.memory.content, memories[7].content);
});
