/**
 * Fault: the stack's process is killed (SIGKILL) while its pg_net stand-in relay has webhooks
 * in flight and more queued. The relay runs inside the stack's process, so it dies with it;
 * what brings it back is the process restarting (a supervisor, or the user running
 * `deno task start` again). Every save acknowledged before the kill is stored; the restarted
 * stack's relay delivers the queue, and its sweep re-sends what the dead relay had taken but
 * never delivered: every memory ends up embedded once, with nothing done by hand. Also: a
 * delivery that hangs (an `embed` call whose process died) holds up only itself.
 */
import assert from "node:assert/strict";
import { installPgNetStandIn } from "../scripts/dev/pg_net/install.ts";
import { startNetRelay } from "../scripts/dev/pg_net/relay.ts";
import { pgliteDir } from "../scripts/local/state.ts";
import { migrate } from "../shared/db/migrate.ts";
import { openPglite } from "../scripts/local/pglite.ts";
import type { Database } from "../shared/db/types.ts";
import { type Backend, openScratchDb, testEachBackend } from "./helpers/db.ts";
import { embeddingState, waitForEmbeddings } from "./helpers/embed.ts";
import { startFakeOpenAI } from "./helpers/fake_openai.ts";
import { embedAnswers, openIsolatedDb, queuedRequests } from "./helpers/faults.ts";
import { startTestStack } from "./helpers/stack.ts";
import { newKeyedUser, type TestUser } from "./helpers/users.ts";
import { waitFor } from "./helpers/wait.ts";

const MEMORIES = "/functions/v1/memories";
/** Saves acknowledged before the kill; the relay delivers up to 8 at once (its default). */
const SAVES = 12;
const IN_FLIGHT = 8;

/** A loopback port nobody listens on right now. */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}

interface DataPlace {
  /** The child's environment that points it at the data. */
  env: Record<string, string>;
  db: Database;
  reopen(): Promise<Database>;
  dir: string | null;
}

/** Where the killed process keeps its data: a scratch PostgreSQL, or a PGlite directory. */
async function dataPlace(backend: Backend): Promise<DataPlace> {
  if (backend === "postgres") {
    const db = await openScratchDb(backend, { migrated: true });
    return { env: { DATABASE_URL: db.url! }, db, reopen: () => Promise.resolve(db), dir: null };
  }
  const dir = await Deno.makeTempDir();
  const db = await openPglite(pgliteDir(dir));
  await migrate(db);
  return {
    env: { DATABASE_URL: "", CODEMEMORY_DATA_DIR: dir },
    db,
    // PGlite allows one process per directory: closed while the child runs, reopened after.
    reopen: async () => await openPglite(pgliteDir(dir)),
    dir,
  };
}

testEachBackend(
  "faults: stack process killed (SIGKILL) mid-delivery; the restarted stack embeds each memory once",
  async (backend) => {
    const hold = Promise.withResolvers<void>();
    await using openai = startFakeOpenAI({ hold: () => hold.promise });
    // Before the server shuts down (it waits for held answers), whatever happens.
    using _release = { [Symbol.dispose]: () => hold.resolve() };
    const provider = {
      EMBEDDING_PROVIDER: "openai",
      OPENAI_API_KEY: "sk-test",
      OPENAI_BASE_URL: openai.baseURL,
    };
    const place = await dataPlace(backend);
    let db: Database = place.db;
    try {
      const user: TestUser = await newKeyedUser(db);
      if (backend === "pglite") await db.close();
      const port = freePort();
      const url = `http://127.0.0.1:${port}`;
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "--unstable-no-legacy-abort", "scripts/start.ts"],
        env: { ...provider, ...place.env, PORT: String(port), NO_COLOR: "1" },
        stdout: "null",
        stderr: "null",
      }).spawn();
      const texts = new Map<string, string>();
      try {
        await waitFor(
          () =>
            fetch(`${url}${MEMORIES}`).then((r) => r.body?.cancel().then(() => true), () => false),
          { timeoutMs: 60_000, message: "the child stack to listen" },
        );
        for (let i = 0; i < SAVES; i++) {
          const content = `saved before the kill ${i} ${crypto.randomUUID()}`;
          const res = await fetch(`${url}${MEMORIES}`, {
            method: "POST",
            headers: { authorization: `Bearer ${user.key}`, "content-type": "application/json" },
            body: JSON.stringify({ content }),
          });
          assert.equal(res.status, 201);
          texts.set((await res.json()).memory.id, content);
        }
        // The relay is mid-delivery: each of its workers waits on a held provider call.
        await waitFor(() => openai.requests.length >= IN_FLIGHT, {
          timeoutMs: 30_000,
          message: "deliveries in flight at the provider",
        });
      } finally {
        child.kill("SIGKILL");
        await child.status;
      }

      db = await place.reopen();
      const ids = [...texts.keys()];
      // Nothing acknowledged was lost, and nothing was embedded by the dead process.
      const rows = await db.query<{ id: string; content: string }>(
        "select id, content from memories where id = any($1::uuid[])",
        [ids],
      );
      assert.deepEqual(new Map(rows.map((r) => [r.id, r.content])), texts);
      for (const id of ids) assert.equal((await embeddingState(db, id)).status, "pending");
      // The queue is unlogged, like pg_net's. PostgreSQL outlived the process: the webhooks the
      // relay had not taken are still queued. PGlite died with it, and crash recovery empties
      // unlogged tables (as a PostgreSQL crash would): only the sweep can bring those back.
      // At least IN_FLIGHT were taken; on a slow machine a held delivery can reach the webhook's
      // 30 s timeout before the kill, and its worker then takes one more.
      const queued = await queuedRequests(db, ids);
      if (backend === "postgres") {
        assert.ok(queued.length >= 1 && queued.length <= SAVES - IN_FLIGHT, `${queued.length}`);
      } else assert.equal(queued.length, 0);

      // The restart, where the stack ran before (the queued webhooks name its URL).
      hold.resolve(); // the provider answers again
      const second = await startTestStack(backend, provider, {
        db,
        port,
        embed: {
          relay: { pollIntervalMs: 600_000 },
          sweep: { intervalMs: 100, pendingAfterMs: 4_000 },
        },
      });
      try {
        await waitForEmbeddings(db, ids, 30_000);
        await second.embeds.relay!.drain(); // every delivery's answer is recorded
        const answers = await embedAnswers(db, ids);
        for (const requestId of queued) {
          const answer = answers.find((a) => a.requestId === requestId);
          assert.equal(answer?.status, 200, `queued webhook ${requestId} was delivered`);
        }
        const swept = await db.query<{ id: string }>(
          `select id from memories where id = any($1::uuid[]) and embedding_requested_at is not null`,
          [ids],
        );
        assert.equal(swept.length, SAVES - queued.length, "the sweep re-sent only the lost ones");
        // Each memory embedded exactly once, none failed, no attempt counted.
        assert.deepEqual(answers.flatMap((a) => a.embedded).sort(), [...ids].sort());
        assert.deepEqual(answers.flatMap((a) => a.failed), []);
        for (const id of ids) {
          const state = await embeddingState(db, id);
          assert.equal(state.status, "ready");
          assert.equal(state.attempts, 0);
          assert.equal(state.error, null);
        }
      } finally {
        await second.close();
      }
    } finally {
      await db.close();
      if (place.dir) await Deno.remove(place.dir, { recursive: true });
    }
  },
);

testEachBackend("faults: a delivery that hangs holds up only itself", async (backend) => {
  const db = await openIsolatedDb(backend);
  const hung = Promise.withResolvers<void>();
  let hanging = false;
  const receiver = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (req) => {
    if (new URL(req.url).pathname === "/hang") {
      hanging = true;
      await hung.promise;
    }
    return Response.json({ ok: true });
  });
  const base = `http://127.0.0.1:${receiver.addr.port}`;
  const post = async (path: string) => {
    const [{ id }] = await db.query<{ id: string }>(
      "select net.http_post($1, '{}'::jsonb, timeout_milliseconds := 60000)::text as id",
      [base + path],
    );
    return id;
  };
  const answered = (id: string) =>
    waitFor(async () => {
      const [row] = await db.query<{ status_code: number }>(
        "select status_code from net._http_response where id = $1",
        [id],
      );
      return row;
    }, { message: `the answer to request ${id}` });
  try {
    assert.equal(await installPgNetStandIn(db), true);
    const relay = await startNetRelay(db, { pollIntervalMs: 600_000 });
    try {
      const stuck = await post("/hang");
      await waitFor(() => hanging, { message: "the hanging request at the receiver" });
      // Later requests, each announced by NOTIFY, are delivered while that one still hangs.
      for (let i = 0; i < 3; i++) {
        assert.equal((await answered(await post(`/ok/${i}`))).status_code, 200);
      }
      hung.resolve();
      assert.equal((await answered(stuck)).status_code, 200);
    } finally {
      hung.resolve();
      await relay.stop();
    }
  } finally {
    await receiver.shutdown();
    await db.close();
  }
});
