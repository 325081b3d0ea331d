/**
 * The key CLI (`deno task key create`) as users run it: a subprocess with its own data dir.
 * Without a running stack it writes to the database itself; with `scripts/start.ts` running
 * (which holds PGlite exclusively) it goes through the stack's loopback admin API.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { sha256Hex } from "../shared/auth/api_keys.ts";
import { loadConfig } from "../shared/config.ts";
import { openPglite } from "../scripts/local/pglite.ts";
import type { Database } from "../shared/db/types.ts";
import { startStack } from "../scripts/local/stack.ts";
import { pgliteDir, readLiveState, type ServerState, stateFile } from "../scripts/local/state.ts";
import { type Backend, testEachBackend } from "./helpers/db.ts";
import { MEMORIES, reply } from "./helpers/foundation.ts";
import { startTestStack } from "./helpers/stack.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const KEY_LINE = /^cm_[A-Za-z0-9_-]{43}$/;
const USAGE = /usage: deno task key create --email EMAIL/;

/** Environment for a child process: its data dir, and the database of the backend under test. */
function childEnv(backend: Backend, dataDir: string, extra: Record<string, string> = {}) {
  return {
    CODEMEMORY_DATA_DIR: dataDir,
    // Empty means unset (see shared/config.ts): PGlite in the data dir.
    DATABASE_URL: backend === "postgres" ? Deno.env.get("DATABASE_URL")! : "",
    SUPABASE_DB_URL: "",
    EMBEDDING_PROVIDER: "hash",
    ...extra,
  };
}

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  lines: string[];
}

/** Runs `scripts/cli.ts ...args` to completion. */
async function cli(args: string[], env: Record<string, string>): Promise<CliResult> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "scripts/cli.ts", ...args],
    cwd: ROOT,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr);
  return { code: out.code, stdout, stderr, lines: stdout.trimEnd().split("\n") };
}

/** `key create`, asserting success; returns the key from the last line of stdout. */
async function createKeyWithCli(env: Record<string, string>, email: string, name?: string) {
  const r = await cli(["key", "create", "--email", email, ...(name ? ["--name", name] : [])], env);
  assert.equal(r.code, 0, `cli failed:\n${r.stdout}\n${r.stderr}`);
  const key = r.lines.at(-1)!;
  assert.match(key, KEY_LINE, `the last line is the key:\n${r.stdout}`);
  return { key, output: r.stdout };
}

/** Runs fn in a fresh temporary data dir, removed afterwards. */
async function withDataDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "codememory-cli-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Every row of every table (the key must appear in none of them). */
async function rowsContaining(db: Database, needle: string): Promise<string[]> {
  const tables = await db.query<{ name: string }>(
    `select format('%I.%I', schemaname, tablename) as name from pg_tables
     where schemaname not in ('pg_catalog', 'information_schema')`,
  );
  const hits: string[] = [];
  for (const { name } of tables) {
    const [{ n }] = await db.query<{ n: number }>(
      `select count(*)::int as n from ${name} t where strpos(t::text, $1) > 0`,
      [needle],
    );
    if (n > 0) hits.push(name);
  }
  return hits;
}

/** Asserts the key authenticates against the stack at `url` for both read and write. */
async function assertKeyWorks(url: string, key: string): Promise<void> {
  const headers = { authorization: `Bearer ${key}`, "content-type": "application/json" };
  const list = await reply(await fetch(`${url}${MEMORIES}`, { headers }));
  assert.equal(list.status, 200, JSON.stringify(list.body));
  const saved = await reply(
    await fetch(`${url}${MEMORIES}`, {
      method: "POST",
      headers,
      body: JSON.stringify({ content: `saved with a CLI key ${crypto.randomUUID()}` }),
    }),
  );
  assert.equal(saved.status, 201, JSON.stringify(saved.body));
}

/** Asserts what is stored about the key: its SHA-256 and prefix, never the key itself. */
async function assertOnlyHashStored(db: Database, key: string, email: string, name: string) {
  const rows = await db.query<{ prefix: string; name: string; email: string }>(
    `select k.prefix, k.name, u.email from api_keys k join auth.users u on u.id = k.user_id
     where k.key_hash = $1`,
    [await sha256Hex(key)],
  );
  assert.deepEqual(rows.map((r) => ({ ...r })), [{ prefix: key.slice(0, 10), name, email }]);
  assert.deepEqual(await rowsContaining(db, key), [], "the key itself is stored nowhere");
  assert.deepEqual(await rowsContaining(db, key.slice(10)), [], "nor its secret part");
}

// ---------------------------------------------------------------------------------------------

testEachBackend(
  "cli: key create prints a working key and stores only its hash",
  async (backend) => {
    await withDataDir(async (dataDir) => {
      const email = `cli-${crypto.randomUUID()}@test.local`;
      const env = childEnv(backend, dataDir);
      const { key, output } = await createKeyWithCli(env, email, "laptop");
      assert.match(output, new RegExp(`'laptop' for ${email}`));
      const second = await createKeyWithCli(env, email.toUpperCase());
      assert.notEqual(second.key, key);

      if (backend === "postgres") {
        const stack = await startTestStack("postgres");
        try {
          await assertKeyWorks(stack.url, key);
          await assertKeyWorks(stack.url, second.key);
          await assertOnlyHashStored(stack.db, key, email, "laptop");
        } finally {
          await stack.close();
        }
        return;
      }
      // PGlite: a stack over the same data dir sees what the CLI wrote.
      assert.ok((await Deno.stat(pgliteDir(dataDir))).isDirectory);
      const db = await openPglite(pgliteDir(dataDir));
      try {
        const stack = await startStack({
          config: loadConfig({ EMBEDDING_PROVIDER: "hash" }),
          db,
          port: 0,
          hostname: "127.0.0.1",
          embed: { defaultTarget: false },
        });
        try {
          await assertKeyWorks(stack.url, key);
          await assertKeyWorks(stack.url, second.key);
        } finally {
          await stack.close();
        }
        await assertOnlyHashStored(db, key, email, "laptop");
        const [{ users }] = await db.query<{ users: number }>(
          "select count(distinct user_id)::int as users from api_keys",
        );
        assert.equal(users, 1, "the same email (any case) is the same user");
      } finally {
        await db.close();
      }
    });
  },
);

/** Starts `scripts/start.ts` on a free port; resolves once it answers and published its state. */
async function startServer(env: Record<string, string>, dataDir: string) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "scripts/start.ts"],
    cwd: ROOT,
    env: { ...env, PORT: "0", HOST: "127.0.0.1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = child.output(); // drains both pipes until exit
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch { /* already exited */ }
    const out = await output;
    return {
      code: out.code,
      log: new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr),
    };
  };
  let state: ServerState | null = null;
  const deadline = Date.now() + 60_000;
  while (!state && Date.now() < deadline) {
    state = await readLiveState(dataDir);
    if (!state) await new Promise((r) => setTimeout(r, 200));
  }
  if (!state) {
    const { log } = await stop();
    throw new Error(`scripts/start.ts did not come up:\n${log}`);
  }
  return { child, state, stop };
}

// With DATABASE_URL the CLI always writes to PostgreSQL directly (covered above); the admin API
// exists for PGlite, which only one process can hold.
Deno.test("cli: with the stack running, key create goes through its admin API [pglite]", async () => {
  await withDataDir(async (dataDir) => {
    const env = childEnv("pglite", dataDir);
    const server = await startServer(env, dataDir);
    let stopped: { code: number; log: string } | null = null;
    try {
      assert.equal(server.state.pid, server.child.pid);
      assert.match(server.state.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.notEqual(new URL(server.state.url).port, "0");
      assert.equal((await Deno.stat(stateFile(dataDir))).mode! & 0o777, 0o600, "token file mode");

      const email = `running-${crypto.randomUUID()}@test.local`;
      const { key } = await createKeyWithCli(env, email, "desktop");
      // The running server holds the database in memory: a key it accepts came through it.
      await assertKeyWorks(server.state.url, key);

      // The admin API wants the token from the state file.
      const denied = await reply(
        await fetch(`${server.state.url}/admin/keys`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-admin-token": "wrong" },
          body: JSON.stringify({ email: "intruder@test.local" }),
        }),
      );
      assert.equal(denied.status, 401);
    } finally {
      stopped = await server.stop();
    }
    assert.equal(stopped.code, 0, `clean shutdown on SIGTERM:\n${stopped.log}`);
    await assert.rejects(Deno.stat(stateFile(dataDir)), Deno.errors.NotFound);
  });
});

Deno.test("cli: bad usage exits 2 with the usage text and touches no database", async () => {
  await withDataDir(async (dataDir) => {
    const env = childEnv("pglite", dataDir);
    const cases: [string[], RegExp][] = [
      [[], USAGE],
      [["key"], USAGE],
      [["key", "create"], USAGE],
      [["key", "delete", "--email", "a@b.c"], USAGE],
      [["keys", "create", "--email", "a@b.c"], USAGE],
      [["key", "create", "--email", "not-an-email"], /Not an email address/],
      [["key", "create", "--email", "a@b.c", "--bogus"], USAGE],
      [["key", "create", "--email"], USAGE],
    ];
    for (const [args, pattern] of cases) {
      const r = await cli(args, env);
      const label = `cli ${args.join(" ")}`;
      assert.equal(r.code, 2, `${label}: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
      assert.match(r.stderr, pattern, label);
      assert.doesNotMatch(r.stdout, /cm_/, label);
    }
    const entries = [];
    for await (const e of Deno.readDir(dataDir)) entries.push(e.name);
    assert.deepEqual(entries, [], "no database was created");
    await assert.rejects(Deno.stat(join(dataDir, "pgdata")), Deno.errors.NotFound);
  });
});

Deno.test("start: the local model loads at start, before any search asks for it", async () => {
  await withDataDir(async (dataDir) => {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--unstable-no-legacy-abort", "scripts/start.ts"],
      cwd: ROOT,
      env: {
        ...childEnv("pglite", dataDir, { EMBEDDING_PROVIDER: "local" }),
        PORT: "0",
        HOST: "127.0.0.1",
      },
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const seen: string[] = [];
    // Without the warm-up no such line ever comes: the server is stopped, its output ends.
    const kill = () => {
      try {
        child.kill("SIGTERM");
      } catch { /* already exited */ }
    };
    const deadline = setTimeout(kill, 120_000);
    try {
      // The log lines as they come, until the model's or the process's end.
      for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
        seen.push(...chunk.split("\n").filter(Boolean));
        if (seen.some((l) => l.includes("Embedding model"))) break;
      }
      const line = seen.find((l) => l.includes("Embedding model"));
      assert.ok(line, `no model line in:\n${seen.join("\n")}`);
      const entry = JSON.parse(line);
      assert.deepEqual([entry.level, entry.msg, entry.data.model], [
        "info",
        "Embedding model loaded",
        "minilm-l6-v2-q4",
      ]);
    } finally {
      clearTimeout(deadline);
      kill();
      await child.status;
    }
  });
});
