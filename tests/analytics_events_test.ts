/**
 * Usage events through the functions: searches and writes over REST and MCP are recorded (with
 * channel and client) once flushed, and GET /analytics/insights serves get_insights() with its
 * suggestions, authentication, validation and CORS.
 */
import assert from "node:assert/strict";
// @ts-types="@modelcontextprotocol/sdk/client/index"
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
// @ts-types="@modelcontextprotocol/sdk/client/streamableHttp"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Insights } from "../shared/analytics/insights.ts";
import { rollup, utcDay } from "./helpers/analytics.ts";
import {
  assertError,
  call,
  callToolOk,
  createProject,
  MEMORIES,
  saveMemory,
  stackTest,
} from "./helpers/foundation.ts";
import { waitForEmbeddings } from "./helpers/embed.ts";
import { setEmbedding, unitVector } from "./helpers/search.ts";
import type { TestStack, TestUser } from "./helpers/stack.ts";

const INSIGHTS = "/functions/v1/analytics/insights";

const searchEvents = (stack: TestStack, user: TestUser) =>
  stack.db.query<Record<string, unknown>>(
    `select query, project_ids, filters, mode, effective_mode, result_count, top_score,
       latency_ms, cache_hit, channel, client_name, client_version, hit_ids
     from public.search_events where user_id = $1 order by created_at, id`,
    [user.userId],
  );
const memoryEvents = (stack: TestStack, user: TestUser) =>
  stack.db.query<Record<string, unknown>>(
    `select action, memory_id, project_id, channel, client_name, client_version
     from public.memory_events where user_id = $1 order by created_at, id`,
    [user.userId],
  );

stackTest("analytics events: REST searches and writes are recorded", async (stack) => {
  const user = await stack.newUser();
  const project = await createProject(stack, user, { name: "Events", slug: "events" });
  const headers = { "user-agent": "my-agent/1.2.3 (linux)" };
  const post = async (path: string, json: unknown, method = "POST") => {
    const res = await stack.api(user, path, { method, json, headers });
    const body = await res.json();
    assert.ok(res.ok, JSON.stringify(body));
    return body;
  };
  const { memory } = await post(MEMORIES, { content: "Use pnpm workspaces", project: "events" });
  await post(`${MEMORIES}/${memory.id}`, { title: "pnpm" }, "PATCH");
  // Stored vectors retire cached searches; let the background webhook settle first.
  await waitForEmbeddings(stack.db, [memory.id]);
  const query = { query: "pnpm workspaces", project: "events", kinds: ["note"], mode: "keyword" };
  const first = await post(`${MEMORIES}/search`, query);
  const again = await post(`${MEMORIES}/search`, query);
  assert.equal(again.cached, true);
  await post(`${MEMORIES}/search`, { query: "kubernetes", mode: "keyword" });
  await post(`${MEMORIES}/${memory.id}`, undefined, "DELETE");

  // Nothing reaches the database before the flush (a second later, or now).
  await stack.ctx.analytics.flush();
  const searches = await searchEvents(stack, user);
  assert.equal(searches.length, 3);
  const [s1, s2, s3] = searches;
  assert.deepEqual({ ...s1, latency_ms: undefined, top_score: undefined }, {
    query: "pnpm workspaces",
    project_ids: [project.id],
    filters: { project: "events", kinds: ["note"] },
    mode: "keyword",
    effective_mode: "keyword",
    result_count: 1,
    top_score: undefined,
    latency_ms: undefined,
    cache_hit: false,
    channel: "rest",
    client_name: "my-agent",
    client_version: "1.2.3",
    hit_ids: [memory.id],
  });
  assert.equal(s1.top_score, first.results[0].score);
  assert.ok(Number(s1.latency_ms) > 0);
  assert.equal(s2.cache_hit, true);
  assert.deepEqual([s3.project_ids, s3.result_count, s3.top_score], [null, 0, null]);

  assert.deepEqual((await memoryEvents(stack, user)).map((e) => [e.action, e.channel]), [
    ["save", "rest"],
    ["update", "rest"],
    ["delete", "rest"],
  ]);
  assert.ok(
    (await memoryEvents(stack, user)).every((e) =>
      e.memory_id === memory.id && e.project_id === project.id && e.client_name === "my-agent"
    ),
  );
});

stackTest(
  "analytics events: MCP tool calls carry the client's initialize clientInfo",
  async (stack) => {
    const user = await stack.newUser();
    const client = new Client({ name: "agent-x", version: "9.9.0" });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${stack.url}/functions/v1/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${user.key}` } },
      }),
    );
    try {
      const saved = await callToolOk(client, "save_memory", { content: "Prefer zod for input" });
      const id = (saved.structuredContent.memory as { id: string }).id;
      await callToolOk(client, "update_memory", { id, tags: ["validation"] });
      await callToolOk(client, "search_memories", { query: "zod input", mode: "keyword" });
      await callToolOk(client, "delete_memory", { id });
    } finally {
      await client.close();
    }
    await stack.ctx.analytics.flush();
    const [search] = await searchEvents(stack, user);
    assert.deepEqual(
      [
        search.query,
        search.channel,
        search.client_name,
        search.client_version,
        search.result_count,
      ],
      ["zod input", "mcp", "agent-x", "9.9.0", 1],
    );
    assert.deepEqual(
      (await memoryEvents(stack, user)).map((e) => [e.action, e.channel, e.client_name]),
      [["save", "mcp", "agent-x"], ["update", "mcp", "agent-x"], ["delete", "mcp", "agent-x"]],
    );
  },
);

stackTest("analytics insights: GET /analytics/insights with suggestions", async (stack) => {
  const user = await stack.newUser();
  const other = await stack.newUser();
  const project = await createProject(stack, user, { name: "Insights", slug: "insights" });
  const save = (content: string, title?: string) =>
    saveMemory(stack, user, { content, title, project: "insights" });
  const old = await save("An old decision nobody looks up", "Old decision");
  const twinA = await save("Cache query embeddings for five minutes", "Embedding cache");
  const twinB = await save("Cache the query embeddings for 5 minutes", "Embedding cache TTL");
  const titleA = await save("Release on Tuesdays", "Release day");
  const titleB = await save("We ship releases on Tuesday", "release day");
  // Let the background webhook finish first, or it would overwrite the vectors set below.
  await waitForEmbeddings(stack.db, [old, twinA, twinB, titleA, titleB].map((m) => m.id));
  const model = stack.ctx.embedder.model;
  await setEmbedding(stack.db, twinA.id, unitVector(1), model);
  await setEmbedding(stack.db, twinB.id, unitVector(0.99), model);
  await setEmbedding(stack.db, old.id, unitVector(0), model);
  // No embedding for these two (as if the provider failed): compared by title.
  await stack.db.query(
    `update public.memories set embedding = null, embedding_model = null,
       embedding_status = 'failed' where id = any($1::uuid[])`,
    [[titleA.id, titleB.id]],
  );
  await stack.db.query(
    "update public.memories set created_at = now() - interval '40 days' where id = $1",
    [old.id],
  );
  for (const q of ["kubernetes helm", "Kubernetes Helm", "embedding cache"]) {
    const r = await call(stack, user, "POST", `${MEMORIES}/search`, {
      query: q,
      project: "insights",
      mode: "keyword",
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
  }
  await stack.ctx.analytics.flush();
  await rollup(stack.db, utcDay(0));

  const r = await call<Insights>(stack, user, "GET", `${INSIGHTS}?project=insights&days=30`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const insights = r.body;
  assert.equal(insights.project_id, project.id);
  assert.equal(insights.series.length, 30);
  assert.equal(insights.series.at(-1)!.day, utcDay(0));
  assert.equal(insights.totals.searches, 3);
  assert.equal(insights.totals.zero_result_searches, 2);
  assert.equal(insights.totals.saves, 5);
  assert.deepEqual(
    insights.suggestions.repeated_zero_result_queries.map((q) => [q.query, q.count]),
    [
      ["Kubernetes Helm", 2],
    ],
  );
  assert.deepEqual(insights.suggestions.stale_memories.map((m) => m.id), [old.id]);
  const clusters = insights.suggestions.duplicate_clusters.map((c) => ({
    method: c.method,
    ids: c.memories.map((m) => m.id).sort(),
  }));
  assert.deepEqual(
    clusters.sort((a, b) => a.method.localeCompare(b.method)),
    [
      { method: "embedding", ids: [twinA.id, twinB.id].sort() },
      { method: "title", ids: [titleA.id, titleB.id].sort() },
    ],
  );

  // The caller's own view (no project) and another user's (nothing).
  const mine = await call<Insights>(stack, user, "GET", `${INSIGHTS}?days=7`);
  assert.equal(mine.body.totals.searches, 3);
  const theirs = await call<Insights>(stack, other, "GET", `${INSIGHTS}?days=7`);
  assert.equal(theirs.body.totals.searches, 0);
  assertError(await call(stack, other, "GET", `${INSIGHTS}?project=${project.id}`), 404);

  // Authentication and validation.
  assertError(await call(stack, null, "GET", INSIGHTS), 401);
  assertError(await call(stack, user, "GET", `${INSIGHTS}?days=0`), 400, /days/);
  assertError(await call(stack, user, "GET", `${INSIGHTS}?days=abc`), 400, /days/);
  assertError(await call(stack, user, "GET", `${INSIGHTS}?bogus=1`), 400);
  assertError(await call(stack, user, "GET", `${INSIGHTS}?project=nope`), 404);
  assertError(await call(stack, user, "GET", "/functions/v1/analytics/nope"), 404);
});

stackTest("analytics CORS: functions answer preflights and label responses", async (stack) => {
  for (const path of [INSIGHTS, `${MEMORIES}/search`, "/functions/v1/mcp"]) {
    const res = await fetch(`${stack.url}${path}`, {
      method: "OPTIONS",
      headers: {
        origin: "https://dashboard.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type",
      },
    });
    await res.body?.cancel();
    assert.equal(res.status, 204, path);
    assert.equal(res.headers.get("access-control-allow-origin"), "*");
    assert.match(res.headers.get("access-control-allow-headers")!, /authorization/);
    assert.match(res.headers.get("access-control-allow-methods")!, /POST/);
  }
  const res = await stack.api(null, INSIGHTS, { headers: { origin: "https://x.example" } });
  await res.body?.cancel();
  assert.equal(res.status, 401);
  assert.equal(res.headers.get("access-control-allow-origin"), "*");
  assert.match(res.headers.get("access-control-expose-headers")!, /www-authenticate/);
});
