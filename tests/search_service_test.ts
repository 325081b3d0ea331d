/**
 * SearchService over a real database: the results cache (miss, hit, invalidation by every kind
 * of write, shared projects), query-embedding cache, mode fallbacks, Redis outages, the
 * Upstash stand-in over the real Redis, and access statistics written after the response.
 *
 * Exact result comparisons use keyword mode: on the shared PostgreSQL another process's embed
 * relay may embed these rows at any moment, which moves semantic results.
 */
import assert from "node:assert/strict";
import { Redis } from "@upstash/redis";
import { startUpstashServer } from "../scripts/dev/upstash_server.ts";
import { type AppContext, createContext } from "../shared/app/context.ts";
import { MemoryCache } from "../shared/cache/memory.ts";
import { loadConfig } from "../shared/config.ts";
import type { Database } from "../shared/db/types.ts";
import { HashEmbeddingProvider } from "../shared/embeddings/hash.ts";
import { MemoryService } from "../shared/memory/service.ts";
import type { EmbeddingProvider } from "../shared/embeddings/types.ts";
import { AccessTracker, foldAccess } from "../shared/search/access.ts";
import { sha256Hex } from "../shared/search/fingerprint.ts";
import { bumpGenerations } from "../shared/search/generations.ts";
import { SearchService } from "../shared/search/service.ts";
import { type Backend, openTestDb, testEachBackend } from "./helpers/db.ts";
import { dropUsers, newTestUser } from "./helpers/users.ts";

/** A context over a migrated database (no HTTP); closes both and drops the users afterwards. */
async function withContext(
  backend: Backend,
  fn: (ctx: AppContext, users: string[]) => Promise<void>,
  env: Record<string, string> = {},
) {
  const db = await openTestDb(backend);
  const ctx = createContext(loadConfig({ EMBEDDING_PROVIDER: "hash", ...env }), db);
  const users: string[] = [];
  try {
    await fn(ctx, users);
  } finally {
    await ctx.search.close();
    if (users.length) await dropUsers(db, ...users);
    await db.close();
  }
}

/** A word no other test's memories contain. */
const uniqueWord = () => `wombat${crypto.randomUUID().slice(0, 8)}`;

const ids = (r: { hits: { id: string }[] }) => r.hits.map((h) => h.id).sort();

/** A provider that counts calls and can be told to fail. */
class SpyEmbedder implements EmbeddingProvider {
  readonly name = "hash" as const;
  readonly semantic = false;
  calls = 0;
  fail = false;
  readonly #inner = new HashEmbeddingProvider();
  constructor(readonly model = "hash-v2") {}
  embed(texts: string[]) {
    this.calls++;
    if (this.fail) return Promise.reject(new Error("provider down"));
    return this.#inner.embed(texts);
  }
}

testEachBackend(
  "search cache: miss then hit, retired by save, update and delete",
  (backend) =>
    withContext(backend, async (ctx, users) => {
      const alice = await newTestUser(ctx.db);
      const other = await newTestUser(ctx.db);
      users.push(alice, other);
      const word = uniqueWord();
      const search = (query = word, extra = {}) =>
        ctx.search.search(alice, { query, mode: "keyword", ...extra });
      const { memory: first } = await ctx.service.save(alice, { content: `${word} first` });
      const { memory: second } = await ctx.service.save(alice, { content: `${word} second` });

      const miss = await search();
      assert.equal(miss.cached, false);
      assert.deepEqual(ids(miss), [first.id, second.id].sort());
      const hit = await search();
      assert.equal(hit.cached, true);
      assert.deepEqual(hit.hits, miss.hits);
      // Same request up to whitespace: same entry. Other filters: another entry.
      assert.equal((await search(`  ${word}\n`)).cached, true);
      assert.equal((await search(word, { kinds: ["note"] })).cached, false);
      assert.equal((await search(word, { kinds: ["note"] })).cached, true);

      // Someone else's write elsewhere leaves the entry alone.
      await ctx.service.save(other, { content: `${word} not yours` });
      assert.equal((await search()).cached, true);

      const { memory: third } = await ctx.service.save(alice, { content: `${word} third` });
      const afterSave = await search();
      assert.equal(afterSave.cached, false);
      assert.deepEqual(ids(afterSave), [first.id, second.id, third.id].sort());
      assert.equal((await search()).cached, true);

      await ctx.service.update(alice, first.id, { content: "no longer matching" });
      const afterUpdate = await search();
      assert.equal(afterUpdate.cached, false);
      assert.deepEqual(ids(afterUpdate), [second.id, third.id].sort());

      await ctx.service.delete(alice, second.id);
      const afterDelete = await search();
      assert.equal(afterDelete.cached, false);
      assert.deepEqual(ids(afterDelete), [third.id]);
      // The filtered entry depended on the same project: retired too.
      assert.equal((await search(word, { kinds: ["note"] })).cached, false);
    }),
);

testEachBackend(
  "search cache: a teammate's write in a shared project retires it",
  (backend) =>
    withContext(backend, async (ctx, users) => {
      const owner = await newTestUser(ctx.db);
      const reader = await newTestUser(ctx.db);
      users.push(owner, reader);
      const word = uniqueWord();
      const project = await ctx.service.createProject(owner, { name: "Shared", slug: "shared" });
      await ctx.db.query(
        "insert into public.project_members (project_id, user_id, role) values ($1, $2, 'reader')",
        [project.id, reader],
      );
      await ctx.service.save(owner, { content: `${word} one`, project: project.id });
      const search = () => ctx.search.search(reader, { query: word, mode: "keyword" });
      assert.equal((await search()).hits.length, 1);
      assert.equal((await search()).cached, true);
      await ctx.service.save(owner, { content: `${word} two`, project: project.id });
      const fresh = await search();
      assert.equal(fresh.cached, false);
      assert.equal(fresh.hits.length, 2);
    }),
);

testEachBackend(
  "search cache: bumpGenerations (the embed worker's hook) retires it",
  (backend) =>
    withContext(backend, async (ctx, users) => {
      const alice = await newTestUser(ctx.db);
      users.push(alice);
      const word = uniqueWord();
      const { memory } = await ctx.service.save(alice, { content: "nothing to see yet" });
      const search = () => ctx.search.search(alice, { query: word, mode: "keyword" });
      assert.equal((await search()).hits.length, 0);
      // A privileged write the service does not see, like the embed worker storing vectors.
      await ctx.db.query("update public.memories set title = $2 where id = $1", [memory.id, word]);
      const stale = await search();
      assert.equal(stale.cached, true);
      assert.equal(stale.hits.length, 0);
      await bumpGenerations(ctx.cache, null, [memory.project_id]);
      const fresh = await search();
      assert.equal(fresh.cached, false);
      assert.deepEqual(ids(fresh), [memory.id]);
    }),
);

testEachBackend(
  "search: query embeddings are cached per provider, model and text",
  (backend) =>
    withService(backend, async (db, make, users) => {
      const alice = await newTestUser(db);
      users.push(alice);
      const cache = new MemoryCache();
      const embedder = new SpyEmbedder();
      const search = make({ embedder, cache });
      const word = uniqueWord();
      const r = await search.search(alice, { query: word });
      assert.equal(r.effective_mode, "hybrid");
      assert.equal(r.model, "hash-v2");
      assert.equal(embedder.calls, 1);
      // Another filter misses the results cache but not the embedding cache.
      await search.search(alice, { query: word, kinds: ["fact"] });
      assert.equal(embedder.calls, 1);
      await search.search(alice, { query: `${word} more` });
      assert.equal(embedder.calls, 2);
      // Another model never reuses these vectors.
      const otherModel = new SpyEmbedder("hash-v3");
      await make({ embedder: otherModel, cache }).search(alice, { query: word });
      assert.equal(otherModel.calls, 1);
      await search.close();
    }),
);

testEachBackend(
  "search: modes fall back to keyword with a note, never an error",
  (backend) =>
    withService(backend, async (db, make, users) => {
      const alice = await newTestUser(db);
      users.push(alice);
      const embedder = new SpyEmbedder();
      const search = make({ embedder, cache: new MemoryCache() });
      const word = uniqueWord();

      const semantic = await search.search(alice, { query: word, mode: "semantic" });
      assert.equal(semantic.mode, "semantic");
      assert.equal(semantic.effective_mode, "keyword");
      assert.equal(semantic.model, null);
      assert.match(semantic.notes[0], /not semantic/);
      assert.equal(embedder.calls, 0);

      embedder.fail = true;
      const down = await search.search(alice, { query: word });
      assert.equal(down.effective_mode, "keyword");
      assert.match(down.notes[0], /embedding provider failed/);
      // A degraded answer is not cached: the next search tries the provider again.
      const again = await search.search(alice, { query: word });
      assert.equal(again.cached, false);
      assert.equal(embedder.calls, 2);
      embedder.fail = false;
      const healed = await search.search(alice, { query: word });
      assert.equal(healed.effective_mode, "hybrid");
      // Alice has no memories: the only note is that nothing relevant was found.
      assert.equal(healed.notes.length, 1);
      assert.match(healed.notes[0], /^Nothing relevant found/);
      // And one with something to find carries no note.
      const { memory } = await new MemoryService(db).save(alice, { content: `${word} is here` });
      const found = await search.search(alice, { query: word, mode: "keyword" });
      assert.deepEqual(found.hits.map((h) => h.id), [memory.id]);
      assert.deepEqual(found.notes, []);
      await search.close();
    }),
);

testEachBackend(
  "search: access statistics are written after responding, batched",
  (backend) =>
    withService(backend, async (db, make, users) => {
      const alice = await newTestUser(db);
      users.push(alice);
      const word = uniqueWord();
      const { memory } = await new MemoryService(db).save(alice, { content: `${word} tracked` });
      const access = new AccessTracker(db, { flushAfterMs: 60_000 });
      const search = make({
        embedder: new HashEmbeddingProvider(),
        cache: new MemoryCache(),
        access,
      });
      const stats = async () =>
        (await db.query<{ access_count: number; last_accessed_at: Date | string | null }>(
          "select access_count, last_accessed_at from public.memories where id = $1",
          [memory.id],
        ))[0];

      await search.search(alice, { query: word, mode: "keyword" });
      assert.deepEqual(await stats(), { access_count: 0, last_accessed_at: null });
      await search.search(alice, { query: word, mode: "keyword" }); // a cache hit counts too
      await access.flush();
      // Collected beside memories, whose wide row is rewritten only by the fold.
      assert.deepEqual(await stats(), { access_count: 0, last_accessed_at: null });
      await search.search(alice, { query: word, mode: "keyword" });
      await access.flush(); // adds to the collected delta
      assert.equal(await foldAccess(db) >= 1, true);
      const after = await stats();
      assert.equal(after.access_count, 3);
      assert.ok(after.last_accessed_at !== null);
      const [{ left }] = await db.query<{ left: number }>(
        "select count(*)::int as left from private.memory_access where memory_id = $1",
        [memory.id],
      );
      assert.equal(left, 0, "the fold consumes the delta");
      // A version bump would mean the trigger saw a user write: statistics must not be one.
      const [{ version }] = await db.query<{ version: number }>(
        "select version from public.memories where id = $1",
        [memory.id],
      );
      assert.equal(version, 1);
      await search.close();
    }),
);

testEachBackend("search cache: Redis unreachable, searches still answer", (backend) => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return withContext(backend, async (ctx, users) => {
    assert.equal(ctx.cache.kind, "upstash");
    const alice = await newTestUser(ctx.db);
    users.push(alice);
    const word = uniqueWord();
    await ctx.service.save(alice, { content: `${word} survives an outage` });
    for (let i = 0; i < 3; i++) {
      const r = await ctx.search.search(alice, { query: word });
      assert.equal(r.cached, false);
      assert.equal(r.hits.length, 1);
    }
  }, { UPSTASH_REDIS_REST_URL: `http://127.0.0.1:${port}`, UPSTASH_REDIS_REST_TOKEN: "x" });
});

testEachBackend("search cache: over the Upstash stand-in and real Redis", async (backend) => {
  const server = await startUpstashServer({ token: `tok-${crypto.randomUUID()}` });
  const redis = new Redis({ url: server.url, token: server.token, enableTelemetry: false });
  let stopped = false;
  const cleanup: string[] = [];
  try {
    await withContext(backend, async (ctx, users) => {
      const alice = await newTestUser(ctx.db);
      users.push(alice);
      const word = uniqueWord();
      const { memory } = await ctx.service.save(alice, { content: `${word} in redis` });
      cleanup.push(
        `cm:search:${alice}:*`,
        `cm:gen:u:${alice}`,
        `cm:gen:p:${memory.project_id}`,
        `cm:qemb:hash:hash-v2:${sha256Hex(word)}`,
      );
      const search = () => ctx.search.search(alice, { query: word });
      assert.equal((await search()).cached, false);
      const hit = await search();
      assert.equal(hit.cached, true);
      assert.deepEqual(ids(hit), [memory.id]);
      assert.equal((await redis.keys(`cm:search:${alice}:*`)).length, 1);
      assert.equal(await redis.get(`cm:gen:u:${alice}`), 1); // bumped by the save

      await ctx.service.delete(alice, memory.id);
      const fresh = await search();
      assert.equal(fresh.cached, false);
      assert.equal(fresh.hits.length, 0);

      // The stand-in goes away mid-flight: searches keep answering from the database.
      await server.close();
      stopped = true;
      const during = await search();
      assert.equal(during.cached, false);
      assert.equal(during.hits.length, 0);
    }, { UPSTASH_REDIS_REST_URL: server.url, UPSTASH_REDIS_REST_TOKEN: server.token });
  } finally {
    const again = stopped ? await startUpstashServer({ token: server.token }) : server;
    const admin = new Redis({ url: again.url, token: again.token, enableTelemetry: false });
    for (const pattern of cleanup) {
      const keys = pattern.endsWith("*") ? await admin.keys(pattern) : [pattern];
      if (keys.length) await admin.del(...keys);
    }
    await again.close();
  }
});

/** A database plus a factory of SearchServices over it (each closed by the test). */
async function withService(
  backend: Backend,
  fn: (
    db: Database,
    make: (
      o: Pick<ConstructorParameters<typeof SearchService>[0], "embedder" | "cache" | "access">,
    ) => SearchService,
    users: string[],
  ) => Promise<void>,
) {
  const db = await openTestDb(backend);
  const users: string[] = [];
  try {
    await fn(db, (o) => new SearchService({ db, ttlSeconds: 60, ...o }), users);
  } finally {
    if (users.length) await dropUsers(db, ...users);
    await db.close();
  }
}
