/**
 * The REST API of the `memories` function, end to end over HTTP against the embedded stack:
 * CRUD, dedup, filters, cursor pagination, optimistic locking, projects, and user isolation.
 */
import assert from "node:assert/strict";
import { sha256Hex } from "../shared/auth/api_keys.ts";
import type { Memory, Project } from "../shared/memory/types.ts";
import {
  assertError,
  assertSameMemory,
  call,
  createProject,
  MEMORIES,
  saveMemory,
  stackTest,
  uniqueSlug,
} from "./helpers/foundation.ts";
import type { TestStack, TestUser } from "./helpers/stack.ts";

interface Page {
  memories: Memory[];
  next_cursor: string | null;
}

/** GET /memories?query; asserts 200. */
async function list(stack: TestStack, user: TestUser, query = ""): Promise<Page> {
  const r = await call<Page>(stack, user, "GET", `${MEMORIES}?${query}`);
  assert.equal(r.status, 200, `${query}: ${JSON.stringify(r.body)}`);
  return r.body;
}

const ids = (page: Page) => page.memories.map((m) => m.id);

/** Follows next_cursor to the end; returns every page's ids. */
async function allPages(stack: TestStack, user: TestUser, query: string): Promise<string[][]> {
  const pages: string[][] = [];
  let cursor: string | null = null;
  do {
    const page: Page = await list(
      stack,
      user,
      `${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
    );
    pages.push(ids(page));
    cursor = page.next_cursor;
    assert.ok(pages.length <= 50, "pagination does not terminate");
  } while (cursor);
  return pages;
}

/** Sets created_at directly (privileged), to make time filters and ordering deterministic. */
async function backdate(stack: TestStack, id: string, createdAt: string) {
  await stack.db.query("update memories set created_at = $2::text::timestamptz where id = $1", [
    id,
    createdAt,
  ]);
}

// ---------------------------------------------------------------------------------------------

stackTest(
  "rest: create normalises tags, defaults kind, makes the default project",
  async (stack) => {
    const alice = await stack.newUser();
    const owned = () =>
      stack.db.query<{ slug: string; is_default: boolean }>(
        "select slug, is_default from projects where owner_id = $1",
        [alice.userId],
      );
    assert.equal((await owned()).length, 0, "a new user has no projects");

    const content = "Run `deno task check` before pushing";
    const r = await call<{ memory: Memory; duplicate: boolean }>(stack, alice, "POST", MEMORIES, {
      content,
      tags: ["Build", " CI ", "build"],
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const m = r.body.memory;
    assert.equal(r.body.duplicate, false);
    assert.equal(m.kind, "note");
    assert.deepEqual(m.tags, ["build", "ci"]);
    assert.equal(m.project, "default");
    assert.equal(m.user_id, alice.userId);
    assert.equal(m.content, content);
    assert.equal(m.content_hash, await sha256Hex(content));
    assert.equal(m.version, 1);
    assert.equal(m.embedding_status, "pending");
    assert.match(m.id, /^[0-9a-f-]{36}$/);
    assert.ok(!Number.isNaN(Date.parse(m.created_at)));

    assert.deepEqual([...await owned()].map((p) => ({ ...p })), [
      { slug: "default", is_default: true },
    ]);
    const second = await saveMemory(stack, alice, { content: "A second note", kind: "fact" });
    assert.equal(second.kind, "fact");
    assert.equal(second.project_id, m.project_id, "the default project is reused");
    assert.equal((await owned()).length, 1);
  },
);

stackTest(
  "rest: an exact duplicate returns the existing memory; other projects copy",
  async (stack) => {
    const alice = await stack.newUser();
    const content = "Postgres advisory locks serialise the migration runners";
    const first = await saveMemory(stack, alice, { content, tags: ["db"] });

    const again = await call<{ memory: Memory; duplicate: boolean }>(
      stack,
      alice,
      "POST",
      MEMORIES,
      { content, tags: ["other"], title: "ignored" },
    );
    assert.equal(again.status, 200);
    assert.equal(again.body.duplicate, true);
    assert.equal(again.body.memory.id, first.id);
    assert.deepEqual(again.body.memory.tags, ["db"], "a duplicate does not modify the original");
    assert.equal(again.body.memory.version, 1);

    const project = await createProject(stack, alice, { name: "Elsewhere" });
    const copy = await saveMemory(stack, alice, { content, project: project.slug });
    assert.notEqual(copy.id, first.id);
    assert.equal(copy.project, project.slug);

    // Exact means exact: a trailing newline is different content.
    const near = await saveMemory(stack, alice, { content: `${content}\n` });
    assert.notEqual(near.id, first.id);

    const [{ n }] = await stack.db.query<{ n: number }>(
      "select count(*)::int as n from memories where user_id = $1",
      [alice.userId],
    );
    assert.equal(n, 3);
  },
);

stackTest("rest: get returns the memory; delete removes it; then 404", async (stack) => {
  const alice = await stack.newUser();
  const saved = await saveMemory(stack, alice, {
    content: "The CI cache key includes deno.lock",
    title: "CI cache",
    kind: "fact",
    tags: ["ci"],
    metadata: { source: "review", n: 3 },
    repo: "github.com/acme/api",
    file_path: ".github/workflows/ci.yml",
    language: "yaml",
    symbol: "cache",
    commit_sha: "abc1234",
    importance: 0.9,
  });

  const got = await call<{ memory: Memory }>(stack, alice, "GET", `${MEMORIES}/${saved.id}`);
  assert.equal(got.status, 200);
  assertSameMemory(got.body.memory, saved);
  assert.deepEqual(got.body.memory.metadata, { source: "review", n: 3 });
  assert.equal(got.body.memory.importance, 0.9);

  const del = await call(stack, alice, "DELETE", `${MEMORIES}/${saved.id}`);
  assert.equal(del.status, 200);
  assert.deepEqual(del.body, { id: saved.id, deleted: true, versions_deleted: 0 });
  assertError(await call(stack, alice, "GET", `${MEMORIES}/${saved.id}`), 404, /not found/);
  assertError(await call(stack, alice, "DELETE", `${MEMORIES}/${saved.id}`), 404, /not found/);
  assertError(
    await call(stack, alice, "PATCH", `${MEMORIES}/${saved.id}`, { title: "x" }),
    404,
    /not found/,
  );
  assert.equal(
    (await stack.db.query("select 1 from memories where id = $1", [saved.id])).length,
    0,
  );
});

stackTest("rest: list filters by project (slug or id), kind, tags and time", async (stack) => {
  const alice = await stack.newUser();
  const p1 = await createProject(stack, alice, { name: "One", slug: uniqueSlug("one") });
  const p2 = await createProject(stack, alice, { name: "Two", slug: uniqueSlug("two") });
  const m1 = await saveMemory(stack, alice, {
    content: "m1",
    project: p1.slug,
    kind: "fact",
    tags: ["a", "b"],
  });
  const m2 = await saveMemory(stack, alice, {
    content: "m2",
    project: p1.slug,
    kind: "decision",
    tags: ["a"],
  });
  const m3 = await saveMemory(stack, alice, {
    content: "m3",
    project: p2.id,
    kind: "fact",
    tags: ["b", "a", "c"],
  });
  const m4 = await saveMemory(stack, alice, { content: "m4" });
  await backdate(stack, m1.id, "2021-01-01T00:00:00Z");
  await backdate(stack, m2.id, "2022-01-01T00:00:00.000005Z");
  await backdate(stack, m3.id, "2023-01-01T00:00:00Z");
  await backdate(stack, m4.id, "2024-01-01T00:00:00Z");
  const expect = async (query: string, want: Memory[]) =>
    assert.deepEqual(ids(await list(stack, alice, query)), want.map((m) => m.id), query);

  await expect("", [m4, m3, m2, m1]);
  await expect(`project=${p1.slug}`, [m2, m1]);
  await expect(`project=${p1.id}`, [m2, m1]);
  await expect(`project=${p1.slug.toUpperCase()}`, [m2, m1]);
  await expect("project=default", [m4]);
  await expect("kind=fact", [m3, m1]);
  await expect("tags=a,b", [m3, m1]);
  await expect("tags=a&tags=b", [m3, m1]);
  await expect("tags=B&tags=A", [m3, m1]);
  await expect("tags=a", [m3, m2, m1]);
  await expect("tags=c", [m3]);
  await expect("tags=a,b,c,d", []);
  await expect(`since=${encodeURIComponent("2022-01-01T00:00:00Z")}`, [m4, m3, m2]);
  await expect(`until=${encodeURIComponent("2023-01-01T00:00:00Z")}`, [m2, m1]);
  await expect(
    `since=${encodeURIComponent("2022-01-01T01:00:00+01:00")}&until=2023-01-01T00:00:00Z`,
    [m2],
  );
  await expect(`project=${p1.slug}&kind=fact&tags=b`, [m1]);
  // Bounds keep microseconds (m2 was created at …00.000005Z).
  await expect("since=2022-01-01T00:00:00.000006Z&until=2023-01-01T00:00:00Z", []);
  await expect("since=2022-01-01T00:00:00.000005Z&until=2022-01-01T00:00:00.000006Z", [m2]);
  await expect("until=2022-01-01T00:00:00.000005Z", [m1]);
});

stackTest("rest: cursor pagination is complete, ordered and stable", async (stack) => {
  const alice = await stack.newUser();

  // 25 memories saved one by one.
  const paging = await createProject(stack, alice, { name: "Paging" });
  const saved: string[] = [];
  for (let i = 0; i < 25; i++) {
    saved.push(
      (await saveMemory(stack, alice, { content: `page ${i}`, project: paging.slug }))
        .id,
    );
  }
  const pages = await allPages(stack, alice, `project=${paging.slug}&limit=10`);
  assert.deepEqual(pages.map((p) => p.length), [10, 10, 5]);
  const flat = pages.flat();
  assert.equal(new Set(flat).size, 25, "no duplicates");
  assert.deepEqual([...flat].sort(), [...saved].sort(), "no gaps");
  const full = await list(stack, alice, `project=${paging.slug}&limit=100`);
  assert.equal(full.next_cursor, null);
  assert.deepEqual(flat, ids(full), "pages concatenate to the unpaged order");
  const times = full.memories.map((m) => Date.parse(m.created_at));
  assert.ok(times.every((t, i) => i === 0 || times[i - 1] >= t), "newest first");
  assert.equal(
    (await list(stack, alice, `project=${paging.slug}&limit=25`)).next_cursor,
    null,
    "an exactly full last page has no next page",
  );

  // A save between pages neither duplicates nor skips anything on the next page.
  const first = await list(stack, alice, `project=${paging.slug}&limit=10`);
  await saveMemory(stack, alice, { content: "newer than everything", project: paging.slug });
  const second = await list(
    stack,
    alice,
    `project=${paging.slug}&limit=10&cursor=${first.next_cursor}`,
  );
  assert.deepEqual(ids(second), flat.slice(10, 20));

  // 25 rows whose created_at differ by single microseconds, three sharing each instant:
  // order falls back to id, and the cursor keeps microsecond precision.
  const ties = await createProject(stack, alice, { name: "Ties" });
  await stack.db.query(
    `insert into memories (user_id, project_id, content, created_at)
       select $1, $2, 'tie ' || i,
              '2030-01-01T00:00:00Z'::timestamptz + ((i / 3) * interval '1 microsecond')
       from generate_series(0, 24) as i`,
    [alice.userId, ties.id],
  );
  const expected = (await stack.db.query<{ id: string }>(
    "select id from memories where project_id = $1 order by created_at desc, id desc",
    [ties.id],
  )).map((r) => r.id);
  for (const limit of [10, 7, 3]) {
    const tiePages = await allPages(stack, alice, `project=${ties.id}&limit=${limit}`);
    assert.deepEqual(tiePages.flat(), expected, `limit ${limit}`);
    assert.equal(tiePages.length, Math.ceil(25 / limit));
  }
});

stackTest("rest: partial update, version bump, optimistic locking", async (stack) => {
  const alice = await stack.newUser();
  const saved = await saveMemory(stack, alice, {
    content: "Use zod for config parsing",
    title: "Config",
    kind: "decision",
    tags: ["config"],
    importance: 0.7,
    file_path: "shared/config.ts",
    metadata: { why: "clear errors" },
  });
  const path = `${MEMORIES}/${saved.id}`;
  // As if the embed worker had run (it may really run too: either way the row is ready).
  await stack.db.query(
    `update memories set embedding_status = 'ready',
           embedding_model = coalesce(embedding_model, 'test-model'), embedding_attempts = 1
         where id = $1`,
    [saved.id],
  );
  const patch = async (body: Record<string, unknown>) => {
    const r = await call<{ memory: Memory }>(stack, alice, "PATCH", path, body);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.memory;
  };

  const titled = await patch({ title: "Configuration" });
  const unembedded = { embedding_status: "pending" as const, embedding_model: null };
  assertSameMemory(
    { ...titled, title: null, version: 0, updated_at: "", ...unembedded },
    { ...saved, title: null, version: 0, updated_at: "", ...unembedded },
    "nothing but the title (and so the embedding) changed",
  );
  assert.equal(titled.title, "Configuration");
  assert.equal(titled.version, 2);
  assert.ok(Date.parse(titled.updated_at) >= Date.parse(saved.updated_at));
  // The vector covers title and content, so a new title needs a new embedding.
  assert.equal(titled.embedding_status, "pending", "a title change re-embeds");
  assert.equal(titled.embedding_model, null);

  const rewritten = await patch({ content: "Use zod for config parsing and fail fast" });
  assert.equal(rewritten.version, 3);
  assert.equal(rewritten.embedding_status, "pending", "new content needs a new embedding");
  assert.equal(rewritten.embedding_model, null);
  assert.equal(rewritten.title, "Configuration");
  assert.deepEqual(rewritten.tags, ["config"]);
  assert.equal(rewritten.content_hash, await sha256Hex(rewritten.content));

  const retagged = await patch({ tags: ["Config", "Zod"], expected_version: 3 });
  assert.equal(retagged.version, 4);
  assert.deepEqual(retagged.tags, ["config", "zod"]);

  const stale = await call(stack, alice, "PATCH", path, { title: "lost", expected_version: 3 });
  assertError(stale, 409, /version 4/);
  assert.deepEqual((stale.body as { error: { details: unknown } }).error.details, {
    version: 4,
  });

  assertError(await call(stack, alice, "PATCH", path, {}), 400, /Nothing to update/);
  const moved = await patch({
    project: (await createProject(stack, alice, { name: "Moved" })).slug,
  });
  assert.equal(moved.project, "moved");
  assert.equal(moved.version, 5);

  const got = await call<{ memory: Memory }>(stack, alice, "GET", path);
  assert.equal(got.body.memory.title, "Configuration");
  assert.deepEqual(got.body.memory.metadata, { why: "clear errors" });
  assert.equal(got.body.memory.importance, 0.7);
  assert.equal(got.body.memory.kind, "decision");
  assert.equal(got.body.memory.file_path, "shared/config.ts");
});

stackTest(
  "rest: projects — slug from name, duplicate 409, list with roles, save by slug",
  async (stack) => {
    const alice = await stack.newUser();
    const bob = await stack.newUser();

    const app = await createProject(stack, alice, { name: "  My Cool App! " });
    assert.equal(app.slug, "my-cool-app");
    assert.equal(app.name, "My Cool App!");
    assert.equal(app.role, "owner");
    assert.equal(app.is_default, false);
    assert.equal(app.owner_id, alice.userId);
    assertError(
      await call(stack, alice, "POST", `${MEMORIES}/projects`, { name: "My cool app" }),
      409,
      /my-cool-app/,
    );
    assertError(
      await call(stack, alice, "POST", `${MEMORIES}/projects`, { name: "X", slug: "my-cool-app" }),
      409,
    );
    // Slugs are per owner: Bob may use the same one.
    const bobs = await createProject(stack, bob, { name: "My Cool App" });
    assert.equal(bobs.slug, "my-cool-app");
    const explicit = await createProject(stack, alice, {
      name: "Explicit",
      slug: "explicit_1",
      description: "set by hand",
    });
    assert.equal(explicit.slug, "explicit_1");
    assert.equal(explicit.description, "set by hand");

    // Bob shares his project with Alice as a reader.
    await stack.db.query(
      "insert into project_members (project_id, user_id, role) values ($1, $2, 'reader')",
      [bobs.id, alice.userId],
    );
    const bobsMemory = await saveMemory(stack, bob, {
      content: "Bob's shared knowledge",
      project: bobs.id,
    });

    const listed = await call<{ projects: Project[] }>(stack, alice, "GET", `${MEMORIES}/projects`);
    assert.equal(listed.status, 200);
    const summary = listed.body.projects.map((p) => `${p.slug}:${p.role}:${p.is_default}`);
    assert.equal(summary[0], "default:owner:true", "the default project comes first");
    assert.deepEqual(summary.slice(1).sort(), [
      "explicit_1:owner:false",
      "my-cool-app:owner:false",
      "my-cool-app:reader:false",
    ]);

    // A slug names Alice's own project first; the shared one is reachable by id.
    const mine = await saveMemory(stack, alice, { content: "in my app", project: "my-cool-app" });
    assert.equal(mine.project_id, app.id);
    const viaShared = await list(stack, alice, `project=${bobs.id}`);
    assert.deepEqual(ids(viaShared), [bobsMemory.id]);
    assertError(
      await call(stack, alice, "POST", MEMORIES, { content: "sneak", project: bobs.id }),
      403,
      /read-only/,
    );
    assertError(
      await call(stack, alice, "PATCH", `${MEMORIES}/${bobsMemory.id}`, { title: "x" }),
      403,
      /read-only/,
    );
    assertError(await call(stack, alice, "DELETE", `${MEMORIES}/${bobsMemory.id}`), 403);
    assertError(
      await call(stack, alice, "PATCH", `${MEMORIES}/${mine.id}`, { project: bobs.id }),
      403,
      /read-only/,
    );
  },
);

stackTest("rest: another user's memory is a 404 for GET, PATCH and DELETE", async (stack) => {
  const alice = await stack.newUser();
  const bob = await stack.newUser();
  const secret = await saveMemory(stack, alice, {
    content: "Alice's private note",
    tags: ["x"],
  });
  const missing = crypto.randomUUID();

  for (
    const [method, body] of [["GET"], ["PATCH", { title: "mine now" }], ["DELETE"]] as const
  ) {
    const theirs = await call(stack, bob, method, `${MEMORIES}/${secret.id}`, body);
    const nothing = await call(stack, bob, method, `${MEMORIES}/${missing}`, body);
    assertError(theirs, 404, /not found/);
    assertError(nothing, 404, /not found/);
    // Indistinguishable from a memory that does not exist.
    assert.equal(
      JSON.stringify(theirs.body).replaceAll(secret.id, "ID"),
      JSON.stringify(nothing.body).replaceAll(missing, "ID"),
    );
  }
  assert.deepEqual(ids(await list(stack, bob, "")), []);
  assert.deepEqual(ids(await list(stack, bob, "tags=x")), []);
  assertError(await call(stack, bob, "GET", `${MEMORIES}?project=${secret.project_id}`), 404);
  assertError(
    await call(stack, bob, "POST", MEMORIES, { content: "x", project: secret.project_id }),
    404,
  );

  const still = await call<{ memory: Memory }>(stack, alice, "GET", `${MEMORIES}/${secret.id}`);
  assertSameMemory(still.body.memory, secret, "Alice's memory is untouched");
});
