/**
 * Fault: the pg_net stand-in's relay dies while webhooks are queued. It runs inside the stack's
 * process, so it dies with it; what brings it back is the process restarting (a supervisor, or
 * the user running `deno task start` again). The restarted stack's relay delivers the queue,
 * and its sweep re-sends what the dead relay had taken but never delivered: every memory ends
 * up embedded once, with nothing done by hand. Also: a delivery that hangs (an `embed` call
 * whose process died) holds up only itself.
 */
import assert from "node:assert/strict";
import { installPgNetStandIn } from "../scripts/dev/pg_net/install.ts";
import { startNetRelay } from "../scripts/dev/pg_net/relay.ts";
import { testEachBackend } from "./helpers/db.ts";
import { embeddingState } from "./helpers/embed.ts";
import { waitForEmbeddings } from "./helpers/embed.ts";
import {
  assertEmbeddedAs,
  embedAnswers,
  openIsolatedDb,
  queuedRequests,
} from "./helpers/faults.ts";
import { startTestStack } from "./helpers/stack.ts";
import { waitFor } from "./helpers/wait.ts";

const MEMORIES = "/functions/v1/memories";
/** Webhooks queued while the relay is dead; the dead relay had taken LOST of them. */
const QUEUED = 12;
const LOST = 3;

testEachBackend(
  "faults: relay killed with webhooks queued; the restarted stack delivers them, each once",
  async (backend) => {
    const db = await openIsolatedDb(backend);
    try {
      // Polling far beyond the test: the restarted relay must deliver on its own at start-up,
      // and on the NOTIFY of the sweep's re-sends.
      const relay = { pollIntervalMs: 600_000 };
      const first = await startTestStack(backend, {}, {
        db,
        embed: { relay, sweep: { pendingAfterMs: 600_000 } },
      });
      const port = Number(new URL(first.url).port);
      const texts = new Map<string, string>();
      try {
        await first.embeds.relay!.stop(); // killed: nothing delivers any more
        const user = await first.newUser();
        for (let i = 0; i < QUEUED; i++) {
          const content = `queued while the relay was dead ${i} ${crypto.randomUUID()}`;
          const res = await first.api(user, MEMORIES, { method: "POST", json: { content } });
          assert.equal(res.status, 201);
          texts.set((await res.json()).memory.id, content);
        }
      } finally {
        await first.close(); // the rest of the process goes down too
      }
      const ids = [...texts.keys()];
      const queued = await queuedRequests(db, ids);
      assert.equal(queued.length, QUEUED, "one queued webhook per save");
      // Taken off the queue by the dying relay, never delivered: the newest, so the sweep would
      // find the others due first if the restarted relay left them queued.
      const lost = queued.slice(-LOST);
      await db.query("delete from net.http_request_queue where id = any($1::bigint[])", [lost]);
      for (const id of ids) assert.equal((await embeddingState(db, id)).status, "pending");

      // The restart, where the stack ran before (the queued webhooks name its URL).
      const second = await startTestStack(backend, {}, {
        db,
        port,
        embed: { relay, sweep: { intervalMs: 100, pendingAfterMs: 4_000 } },
      });
      try {
        await waitForEmbeddings(db, ids, 20_000);
        await assertEmbeddedAs(db, texts);
        await second.embeds.relay!.drain(); // every delivery's answer is recorded

        const answers = await embedAnswers(db, ids);
        const delivered = queued.slice(0, -LOST);
        for (const requestId of delivered) {
          const answer = answers.find((a) => a.requestId === requestId);
          assert.equal(answer?.status, 200, `queued webhook ${requestId} was delivered`);
        }
        const swept = await db.query<{ id: string }>(
          `select id from memories where id = any($1::uuid[]) and embedding_requested_at is not null`,
          [ids],
        );
        assert.equal(swept.length, LOST, "the sweep re-sent only the lost webhooks' memories");
        assert.equal(await queuedRequests(db, ids).then((q) => q.length), 0);

        // Each memory embedded exactly once, none failed, no attempt counted.
        const embedded = answers.flatMap((a) => a.embedded).sort();
        assert.deepEqual(embedded, [...ids].sort());
        assert.deepEqual(answers.flatMap((a) => a.failed), []);
        for (const id of ids) assert.equal((await embeddingState(db, id)).attempts, 0);
      } finally {
        await second.close();
      }
    } finally {
      await db.close();
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
