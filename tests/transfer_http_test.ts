// Export/import over HTTP (REST API as the key's user) and through `deno task export|import`
// on every access path: REST, the running stack's admin API, PGlite directly, DATABASE_URL.
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "../shared/config.ts";
import { HASH_MODEL } from "../shared/embeddings/hash.ts";
import { openPglite } from "../scripts/local/pglite.ts";
import type { Database } from "../shared/db/types.ts";
import { startStack } from "../scripts/local/stack.ts";
import { pgliteDir, removeState, writeState } from "../scripts/local/state.ts";
import { REPO_ROOT } from "../scripts/deploy/supabase_config.ts";
import { available, openTestDb, testEachBackend } from "./helpers/db.ts";
import { withStack } from "./helpers/stack.ts";
import { AWKWARD_CONTENT, seedUser, syntheticLine } from "./helpers/transfer.ts";

const EXPORT = "/functions/v1/memories/export";
const IMPORT = "/functions/v1/memories/import";

const lines = (text: string) => text.split("\n").filter((l) => l !== "");

testEachBackend(
  "transfer REST: export as one user, import as another",
  (backend) =>
    withStack(backend, async (stack) => {
      const alice = await stack.newUser();
      const bob = await stack.newUser();
      for (const content of AWKWARD_CONTENT.slice(0, 4)) {
        const res = await stack.api(alice, "/functions/v1/memories", {
          method: "POST",
          json: { content },
        });
        assert.equal(res.status, 201, await res.text());
      }
      const exported = await stack.api(alice, `${EXPORT}?with_embeddings=true`);
      assert.equal(exported.status, 200);
      assert.match(exported.headers.get("content-type") ?? "", /application\/x-ndjson/);
      const jsonl = await exported.text();
      assert.deepEqual(lines(jsonl).map((l) => JSON.parse(l).content), AWKWARD_CONTENT.slice(0, 4));

      const post = (user: typeof bob, body: string, query = "") =>
        stack.api(user, `${IMPORT}${query}`, { method: "POST", body });
      let res = await post(bob, jsonl);
      assert.equal(res.status, 200);
      // Same database: alice's ids stay hers, bob's copies get new ones.
      assert.equal((await res.json()).import.reassigned, 4);
      res = await post(bob, jsonl);
      assert.equal((await res.json()).import.duplicates, 4, "importing again adds nothing");

      // A bad line is named by its number in the whole file (first_line of this chunk).
      res = await post(bob, `${syntheticLine(1)}\n{broken`, "?first_line=41");
      assert.equal(res.status, 400);
      assert.match((await res.json()).error.message, /^line 42: not valid JSON/);
      res = await post(bob, "x".repeat(1024 * 1024 + 1));
      assert.equal(res.status, 413);
      await res.body?.cancel();

      const reader = await stack.newUser(["read"]);
      res = await post(reader, jsonl);
      assert.equal(res.status, 403);
      await res.body?.cancel();
      res = await stack.api(alice, `${EXPORT}?project=nope`);
      assert.equal(res.status, 404);
      await res.body?.cancel();
      res = await stack.api(null, EXPORT);
      assert.equal(res.status, 401);
      await res.body?.cancel();
    }),
);

async function cli(args: string[], env: Record<string, string>, stdin?: string) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "scripts/transfer.ts", ...args],
    cwd: REPO_ROOT,
    // No DATABASE_URL unless a test passes one: the data-dir paths must not see CI's.
    env: { NO_COLOR: "1", EMBEDDING_PROVIDER: "hash", DATABASE_URL: "", ...env },
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(stdin));
    await writer.close();
  }
  const out = await child.output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

async function emailOf(db: Database, userId: string): Promise<string> {
  const [row] = await db.query<{ email: string }>("select email from auth.users where id = $1", [
    userId,
  ]);
  return row.email;
}

const ADMIN_TOKEN = "admin-t0k3n";

Deno.test({
  name: "transfer CLI: running stack (admin API) → file → PGlite data dir, ids preserved",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dirA = await Deno.makeTempDir();
    const dirB = await Deno.makeTempDir();
    try {
      // A stack on data dir A, published in server.json like `deno task start` does.
      const db = await openPglite(pgliteDir(dirA));
      const config = loadConfig({ EMBEDDING_PROVIDER: "hash", CODEMEMORY_DATA_DIR: dirA });
      const stack = await startStack({ config, db, adminToken: "t0k3n", port: 0 });
      await writeState(dirA, { pid: Deno.pid, url: stack.url, adminToken: "t0k3n" });
      // Vectors labelled with the stack's own model: its embedding webhook may redo them
      // meanwhile, and either way the target (also on hash) keeps them.
      const user = await seedUser(db, HASH_MODEL);
      const email = await emailOf(db, user);
      const file = join(dirB, "memories.jsonl");
      try {
        const out = await cli(["export", "--email", email, "--out", file, "--with-embeddings"], {
          CODEMEMORY_DATA_DIR: dirA,
        });
        assert.equal(out.code, 0, out.stderr);
        assert.match(out.stderr, new RegExp(`Exported ${AWKWARD_CONTENT.length} memories`));
        const missing = await cli(["export", "--email", "nobody@test.local"], {
          CODEMEMORY_DATA_DIR: dirA,
        });
        assert.equal(missing.code, 1);
        assert.match(missing.stderr, /No user with email nobody@test\.local/);
      } finally {
        await removeState(dirA);
        await stack.close();
        await db.close();
      }

      // No stack on data dir B: the CLI opens PGlite itself (and migrates it).
      const env = { CODEMEMORY_DATA_DIR: join(dirB, "data") };
      const first = await cli(["import", file, "--email", "me@test.local"], env);
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stdout, new RegExp(`${AWKWARD_CONTENT.length} new, 0 new under a fresh`));
      const again = await cli(
        ["import", "--email", "me@test.local"],
        env,
        await Deno.readTextFile(file),
      );
      assert.match(
        again.stdout,
        new RegExp(`0 new, 0 new under a fresh id, ${AWKWARD_CONTENT.length} already present`),
      );
      const bad = await cli(["import", "-", "--email", "me@test.local"], env, "{}\n");
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /error: line 1: /);

      const exported = await Deno.readTextFile(file);
      const back = await cli(["export", "--email", "me@test.local", "--with-embeddings"], env);
      assert.equal(back.code, 0, back.stderr);
      const strip = (text: string) =>
        lines(text).map((l) => {
          const { user_id: _u, project_id: _p, ...rest } = JSON.parse(l);
          return rest;
        });
      // A long memory's vector stays behind (exports carry no chunks): it arrives pending, to be
      // embedded again by the target.
      const long = AWKWARD_CONTENT.at(-1)!;
      const expected = strip(exported).map(({ embedding, ...r }) =>
        r.content === long
          ? { ...r, embedding_model: null, embedding_status: "pending" }
          : { ...r, embedding }
      );
      assert.deepEqual(strip(back.stdout), expected, "identical apart from owner ids");
    } finally {
      await Deno.remove(dirA, { recursive: true });
      await Deno.remove(dirB, { recursive: true });
    }
  },
});

testEachBackend(
  "transfer CLI: --url/--key against a deployment's REST API",
  (backend) =>
    withStack(backend, async (stack) => {
      const alice = await stack.newUser();
      const bob = await stack.newUser();
      await stack.api(alice, "/functions/v1/memories", {
        method: "POST",
        json: { content: "héllo\r\nwörld 🎉" },
      }).then((r) => r.body?.cancel());
      const out = await cli(["export", "--url", stack.url, "--key", alice.key], {});
      assert.equal(out.code, 0, out.stderr);
      assert.equal(JSON.parse(lines(out.stdout)[0]).content, "héllo\r\nwörld 🎉");
      const imported = await cli(["import", "--url", `${stack.url}/functions/v1/memories`], {
        CODEMEMORY_API_KEY: bob.key,
      }, out.stdout);
      assert.equal(imported.code, 0, imported.stderr);
      assert.match(imported.stdout, /Imported 1 memories: 0 new, 1 new under a fresh id/);
      const denied = await cli(["export", "--url", stack.url, "--key", "cm_wrong"], {});
      assert.equal(denied.code, 1);
      assert.match(denied.stderr, /error: .*API key/);
    }),
);

Deno.test({
  name: "transfer CLI: --email with DATABASE_URL reads and writes that database [postgres]",
  ignore: !available("postgres"),
}, async () => {
  const url = Deno.env.get("DATABASE_URL")!;
  const db = await openTestDb("postgres");
  try {
    const user = await seedUser(db);
    const out = await cli(["export", "--email", await emailOf(db, user)], { DATABASE_URL: url });
    assert.equal(out.code, 0, out.stderr);
    const target = `cli-${crypto.randomUUID()}@test.local`;
    const imported = await cli(["import", "--email", target], { DATABASE_URL: url }, out.stdout);
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(imported.stdout, new RegExp(`${AWKWARD_CONTENT.length} new under a fresh id`));
  } finally {
    await db.close();
  }
});

for (const via of ["REST", "admin API"] as const) {
  testEachBackend(
    `transfer ${via}: an import retires the running stack's cached searches`,
    (backend) =>
      withStack(
        backend,
        async (stack) => {
          const user = await stack.newUser();
          const word = `zq${crypto.randomUUID().slice(0, 8)}`;
          const search = async () => {
            const res = await stack.api(user, "/functions/v1/memories/search", {
              method: "POST",
              json: { query: word, mode: "keyword" },
            });
            assert.equal(res.status, 200);
            return await res.json() as { cached: boolean; results: { content: string }[] };
          };
          assert.equal((await search()).results.length, 0);
          assert.equal((await search()).cached, true);

          const body = syntheticLine(1, { content: `imported ${word}` });
          const res = via === "REST"
            ? await stack.api(user, IMPORT, { method: "POST", body })
            : await fetch(`${stack.url}/admin/import?email=${encodeURIComponent(user.email)}`, {
              method: "POST",
              headers: { "x-admin-token": ADMIN_TOKEN },
              body,
            });
          assert.equal(res.status, 200, await res.clone().text());
          assert.equal((await res.json()).import.inserted, 1);
          const after = await search();
          assert.equal(after.cached, false);
          assert.deepEqual(after.results.map((r) => r.content), [`imported ${word}`]);
        },
        undefined,
        { adminToken: ADMIN_TOKEN },
      ),
  );
}
