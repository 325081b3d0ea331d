/**
 * Fault: the PostgreSQL server restarts while clients keep saving over REST and MCP. Every
 * save the API acknowledged is stored with its exact content; saves during the outage get a
 * clear, retryable 503 (never a 500 or a hang) and succeed when retried; afterwards the stack
 * recovers by itself (the pool reconnects, so does the relay's LISTEN) and every memory is
 * embedded. The server restarted is a dedicated cluster (FAULTS_DATABASE_URL, created by
 * scripts/ci/setup.sh), never the one the other tests share; without it the test is not
 * registered.
 */
import assert from "node:assert/strict";
import { openPostgres } from "../shared/db/postgres.ts";
import { isWriteToClosedConnection } from "../shared/db/postgres_guard.ts";
import { toAppError } from "../shared/errors.ts";
import { errorResponse } from "../shared/http/errors.ts";
import { waitForEmbeddings } from "./helpers/embed.ts";
import { assertEmbeddedAs } from "./helpers/faults.ts";
import { connectMcp } from "./helpers/mcp.ts";
import { startTestStack, type TestStack, type TestUser } from "./helpers/stack.ts";
import { waitFor } from "./helpers/wait.ts";

const FAULTS_DATABASE_URL = Deno.env.get("FAULTS_DATABASE_URL");
const MEMORIES = "/functions/v1/memories";

Deno.test("errors: a database that cannot be reached is a 503 to retry, not a 500", async () => {
  const unreachable = [
    "ECONNREFUSED", // nothing listens: the server is down
    "ECONNRESET",
    "CONNECTION_CLOSED", // postgres.js: the socket closed under a query
    "CONNECT_TIMEOUT",
    "57P01", // admin_shutdown: terminated by a fast shutdown
    "57P03", // cannot_connect_now: starting up or shutting down
    "08006", // connection_failure
    "53300", // too_many_connections
  ];
  for (const code of unreachable) {
    const res = errorResponse(Object.assign(new Error("connection trouble"), { code }));
    assert.equal(res.status, 503, code);
    assert.equal(res.headers.get("retry-after"), "1");
    const body = await res.json();
    assert.equal(body.error.code, "unavailable");
    assert.match(body.error.message, /database is unavailable.*retry/);
  }
  // Other server errors stay internal errors.
  assert.equal(
    toAppError(Object.assign(new Error("no such table"), { code: "42P01" })).status,
    500,
  );
  assert.equal(toAppError(new Error("plain")).status, 500);
});

Deno.test("postgres guard: recognises only the driver's write to a closed connection", () => {
  const nullWrite = new TypeError("Cannot read properties of null (reading 'write')");
  nullWrite.stack =
    `${nullWrite.message}\n    at Immediate.nextWrite (postgres/src/connection.js:255:22)`;
  assert.equal(isWriteToClosedConnection(nullWrite), true);
  assert.equal(isWriteToClosedConnection(new TypeError(nullWrite.message)), false);
  assert.equal(isWriteToClosedConnection(new Error("Cannot read properties of null")), false);
});

/** A save that did not go through: what the client saw. */
interface Failure {
  channel: "rest" | "mcp";
  status?: number;
  code?: string;
  message: string;
  retryAfter?: string | null;
}

type SaveAttempt = (content: string) => Promise<string | Failure>;

/** Controls the local cluster that serves `url` with pg_ctlcluster (run as root or postgres). */
async function clusterServing(url: string) {
  const port = new URL(url).port || "5432";
  const shared = Deno.env.get("DATABASE_URL");
  assert.notEqual(port, shared && (new URL(shared).port || "5432"), "not the shared server");
  const status = async () => {
    const list = await new Deno.Command("pg_lsclusters", { args: ["-h"] }).output();
    const fields = new TextDecoder().decode(list.stdout).split("\n")
      .map((line) => line.trim().split(/\s+/)).find((f) => f[2] === port);
    assert.ok(fields, `pg_lsclusters lists no cluster on port ${port}`);
    return { version: fields[0], name: fields[1], online: fields[3] === "online" };
  };
  const { version, name } = await status();
  const ctl = async (action: "start" | "stop") => {
    const out = await new Deno.Command("pg_ctlcluster", {
      args: ["--skip-systemctl-redirect", version, name, action],
      stdout: "null",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, `pg_ctlcluster ${action}: ${new TextDecoder().decode(out.stderr)}`);
  };
  return {
    stop: () => ctl("stop"),
    start: () => ctl("start"),
    /** Starts it if an interrupted earlier run left it down. */
    async ensureOnline() {
      if (!(await status()).online) await ctl("start");
    },
  };
}

/** One REST save: the new (or existing) memory's id, or what went wrong. */
function restSaver(stack: TestStack, user: TestUser): SaveAttempt {
  return async (content) => {
    try {
      const res = await stack.api(user, MEMORIES, {
        method: "POST",
        json: { content },
        signal: AbortSignal.timeout(10_000), // a hang is a failure too
      });
      const body = await res.json();
      if (res.ok) return body.memory.id as string;
      return {
        channel: "rest",
        status: res.status,
        code: body.error?.code,
        message: body.error?.message,
        retryAfter: res.headers.get("retry-after"),
      };
    } catch (err) {
      return { channel: "rest", message: String(err) };
    }
  };
}

/** One save_memory call over MCP: the memory's id, or what went wrong. */
async function mcpSaver(stack: TestStack, user: TestUser) {
  const client = await connectMcp(stack, user);
  const save: SaveAttempt = async (content) => {
    try {
      const result = await client.callTool(
        { name: "save_memory", arguments: { content } },
        undefined,
        { timeout: 10_000 }, // a hang is a failure too
      );
      if (!result.isError) {
        return (result.structuredContent as { memory: { id: string } }).memory.id;
      }
      const [first] = result.content as { text: string }[];
      return { channel: "mcp", message: first.text };
    } catch (err) {
      // The endpoint answered with an HTTP error (authentication needs the database too).
      return { channel: "mcp", status: (err as { code?: number }).code, message: String(err) };
    }
  };
  return { save, close: () => client.close() };
}

/**
 * Clients saving new memories one after another until stopped, each retrying a failed save
 * (after its Retry-After) until it is acknowledged, for at most 30 s.
 */
function startWriters(attempts: SaveAttempt[]) {
  const acknowledged = new Map<string, string>(); // id → content
  const failures: Failure[] = [];
  let stopping = false;
  let broken: unknown;
  const tag = crypto.randomUUID();
  const saveUntilAcknowledged = async (content: string, attempt: SaveAttempt) => {
    const deadline = performance.now() + 30_000;
    while (true) {
      const result = await attempt(content);
      if (typeof result === "string") return void acknowledged.set(result, content);
      failures.push(result);
      assert.ok(performance.now() < deadline, `still failing after 30 s: ${result.message}`);
      await new Promise((r) => setTimeout(r, Number(result.retryAfter ?? 1) * 1000));
    }
  };
  const running = attempts.map(async (attempt, w) => {
    try {
      for (let i = 0; !stopping; i++) {
        await saveUntilAcknowledged(`writer ${w} saves memory ${i} (${tag})`, attempt);
      }
    } catch (err) {
      broken ??= err;
    }
  });
  /** Throws a writer's failure at once instead of letting the caller wait for nothing. */
  const check = () => {
    if (broken) throw broken;
  };
  return {
    acknowledged,
    failures,
    until: (count: number, timeoutMs: number, message: string) =>
      waitFor(() => (check(), count <= acknowledged.size), { timeoutMs, message }),
    failedAtLeast: (count: number, message: string) =>
      waitFor(() => (check(), count <= failures.length), { timeoutMs: 15_000, message }),
    async stop() {
      stopping = true;
      await Promise.all(running);
      check();
    },
  };
}

Deno.test({
  name: "faults: PostgreSQL restarted mid-load; nothing acknowledged is lost [postgres]",
  ignore: !FAULTS_DATABASE_URL,
  fn: async () => {
    const url = FAULTS_DATABASE_URL!;
    const cluster = await clusterServing(url);
    await cluster.ensureOnline();
    const app = `codememory-faults-${crypto.randomUUID().slice(0, 8)}`;
    const db = openPostgres(url, { max: 4, applicationName: app });
    // The relay polls far beyond the test: after the restart only its LISTEN wakes it.
    const stack = await startTestStack("postgres", {}, {
      db,
      embed: {
        relay: { pollIntervalMs: 600_000 },
        sweep: { intervalMs: 200, pendingAfterMs: 1_000, backoffBaseMs: 200 },
      },
    });
    try {
      const users = await Promise.all([1, 2, 3, 4].map(() => stack.newUser()));
      const mcp = await mcpSaver(stack, users[3]);
      const writers = startWriters([
        ...users.slice(0, 3).map((u) => restSaver(stack, u)),
        mcp.save,
      ]);
      try {
        await writers.until(8, 10_000, "saves before the restart");
        await cluster.stop();
        try {
          await writers.failedAtLeast(4, "saves failing during the outage");
        } finally {
          await cluster.start();
        }
        const before = writers.acknowledged.size;
        await writers.until(before + 8, 20_000, "saves after the restart");
      } finally {
        await writers.stop();
        await mcp.close();
      }

      // Failures were clear and retryable: 503 + Retry-After over REST; MCP says the same.
      for (const f of writers.failures) {
        assert.match(f.message, /database is unavailable.*retry/, JSON.stringify(f));
        if (f.channel === "rest") {
          assert.equal(f.status, 503);
          assert.equal(f.code, "unavailable");
          assert.equal(f.retryAfter, "1");
        } else if (f.status !== undefined) {
          assert.equal(f.status, 503);
        }
      }

      // Every acknowledged save is stored with its exact content, once; nothing else is.
      const { acknowledged } = writers;
      const rows = await db.query<{ id: string; content: string }>(
        "select id, content from memories where user_id = any($1::uuid[])",
        [users.map((u) => u.userId)],
      );
      assert.equal(rows.length, acknowledged.size);
      for (const row of rows) assert.equal(row.content, acknowledged.get(row.id));

      // Recovered by itself: the relay listens again, and every memory gets embedded.
      await waitForEmbeddings(db, [...acknowledged.keys()], 20_000);
      await assertEmbeddedAs(db, acknowledged);
      const [{ listening }] = await db.query<{ listening: number }>(
        `select count(*)::int as listening from pg_stat_activity
         where application_name = $1 and query ilike 'listen %'`,
        [app],
      );
      assert.equal(listening, 1, "the relay's LISTEN connection is back");
    } finally {
      await stack.close();
      await db.close();
      await cluster.ensureOnline();
    }
  },
});
