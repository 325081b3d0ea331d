/**
 * The pg_net stand-in (scripts/dev/pg_net): pg_net's SQL surface, and a relay that delivers
 * only committed requests, honours timeouts, records every outcome and keeps going after
 * errors. Each test uses its own HTTP receiver on 127.0.0.1 and finds its own requests by id,
 * so it works on the shared PostgreSQL too (where other relays may deliver them).
 */
import assert from "node:assert/strict";
import type { Database } from "../shared/db/types.ts";
import { installPgNetStandIn } from "../scripts/dev/pg_net/install.ts";
import { startNetRelay } from "../scripts/dev/pg_net/relay.ts";
import { type Backend, openTestDb, testEachBackend } from "./helpers/db.ts";
import { waitFor } from "./helpers/wait.ts";

interface Received {
  method: string;
  url: URL;
  headers: Headers;
  body: unknown;
}

/** A local HTTP server that records requests; `respond` shapes the answer. */
function startReceiver(
  respond: (req: Request) => Response | Promise<Response> = () =>
    Response.json({ ok: true }, { status: 201, headers: { "x-receiver": "yes" } }),
) {
  const received: Received[] = [];
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (req) => {
    const text = await req.text();
    received.push({
      method: req.method,
      url: new URL(req.url),
      headers: req.headers,
      body: text ? JSON.parse(text) : null,
    });
    return await respond(req);
  });
  return { url: `http://127.0.0.1:${server.addr.port}/hook`, received, server };
}

async function withStandIn(backend: Backend, fn: (db: Database) => Promise<void>) {
  const db = await openTestDb(backend);
  try {
    assert.equal(await installPgNetStandIn(db), true, "no real pg_net here: the stand-in");
    await fn(db);
  } finally {
    await db.close();
  }
}

const post = async (db: Pick<Database, "query">, url: string, body: unknown, extra = "") =>
  Number(
    (await db.query<{ id: string }>(`select net.http_post($1, $2::jsonb${extra}) as id`, [
      url,
      body,
    ]))[0].id,
  );

const responseFor = async (db: Database, id: number) =>
  (await db.query<Record<string, unknown>>(
    `select status_code, content_type, headers, content, timed_out, error_msg
     from net._http_response where id = $1`,
    [id],
  ))[0];

testEachBackend(
  "pg_net stand-in: pg_net's signature, defaults, tables and checks",
  (backend) =>
    withStandIn(backend, async (db) => {
      assert.equal(await installPgNetStandIn(db), true, "installing again is harmless");
      const [fn] = await db.query<{ args: string; result: string }>(
        `select pg_get_function_arguments(p.oid) as args, pg_get_function_result(p.oid) as result
       from pg_proc p where p.oid = 'net.http_post(text, jsonb, jsonb, jsonb, integer)'::regprocedure`,
      );
      assert.equal(
        fn.args,
        `url text, body jsonb DEFAULT '{}'::jsonb, params jsonb DEFAULT '{}'::jsonb, ` +
          `headers jsonb DEFAULT '{"Content-Type": "application/json"}'::jsonb, ` +
          `timeout_milliseconds integer DEFAULT 5000`,
      );
      assert.equal(fn.result, "bigint");

      const columns = async (table: string) =>
        (await db.query<{ c: string }>(
          `select attname || ' ' || format_type(atttypid, atttypmod) as c from pg_attribute
         where attrelid = $1::regclass and attnum > 0 and not attisdropped order by attnum`,
          [table],
        )).map((r) => r.c);
      assert.deepEqual(await columns("net.http_request_queue"), [
        "id bigint",
        "method net.http_method",
        "url text",
        "headers jsonb",
        "body bytea",
        "timeout_milliseconds integer",
      ]);
      assert.deepEqual(await columns("net._http_response"), [
        "id bigint",
        "status_code integer",
        "content_type text",
        "headers jsonb",
        "content text",
        "timed_out boolean",
        "error_msg text",
        "created timestamp with time zone",
      ]);

      // Defaults land in the queue; pg_net's checks reject what it rejects.
      const url = `http://127.0.0.1:9/${crypto.randomUUID()}`;
      await db.transaction(async (tx) => {
        const id = await post(tx, url, { a: 1 });
        const [row] = await tx.query<Record<string, unknown>>(
          `select method, url, headers, convert_from(body, 'UTF8') as body, timeout_milliseconds
         from net.http_request_queue where id = $1`,
          [id],
        );
        assert.deepEqual(row, {
          method: "POST",
          url,
          headers: { "Content-Type": "application/json" },
          body: '{"a": 1}',
          timeout_milliseconds: 5000,
        });
        throw new Error("roll back: nothing may be delivered to port 9");
      }).catch((err) => assert.match(err.message, /roll back/));
      await assert.rejects(
        post(db, url, {}, `, headers := '{"Content-Type": "text/plain"}'::jsonb`),
        /Content-Type header must be "application\/json"/,
      );
      await assert.rejects(
        db.query("select net.http_post($1, null::jsonb)", [url]),
        /body must not be null/,
      );
    }),
);

testEachBackend("pg_net stand-in: the relay delivers committed requests and records responses", (
  backend,
) =>
  withStandIn(backend, async (db) => {
    const receiver = startReceiver();
    const relay = await startNetRelay(db, { pollIntervalMs: 50 });
    try {
      const id = await post(
        db,
        receiver.url,
        { hello: "wörld" },
        `, params := '{"q": "a b&c", "n": 1}'::jsonb,
           headers := '{"Content-Type": "application/json", "x-trace": "t1"}'::jsonb`,
      );
      const got = await waitFor(() => receiver.received.find((r) => r.headers.get("x-trace")), {
        message: "the request at the receiver",
      });
      assert.equal(got.method, "POST");
      // Appended url-encoded, in jsonb's key order (shorter keys first), as pg_net does.
      assert.equal(got.url.search, "?n=1&q=a%20b%26c");
      assert.equal(got.headers.get("content-type"), "application/json");
      assert.deepEqual(got.body, { hello: "wörld" });

      const response = await waitFor(() => responseFor(db, id), { message: "the response row" });
      assert.equal(response.status_code, 201);
      assert.equal(response.content_type, "application/json");
      assert.equal((response.headers as Record<string, string>)["x-receiver"], "yes");
      assert.deepEqual(JSON.parse(response.content as string), { ok: true });
      assert.equal(response.timed_out, false);
      assert.equal(response.error_msg, null);
      const queued = await db.query("select 1 from net.http_request_queue where id = $1", [id]);
      assert.equal(queued.length, 0, "delivered requests leave the queue");
    } finally {
      await relay.stop();
      await receiver.server.shutdown();
    }
  }));

testEachBackend(
  "pg_net stand-in: a rolled-back request is never sent",
  (backend) =>
    withStandIn(backend, async (db) => {
      const receiver = startReceiver();
      const relay = await startNetRelay(db, { pollIntervalMs: 50 });
      try {
        let rolledBackId = 0;
        await assert.rejects(
          db.transaction(async (tx) => {
            rolledBackId = await post(tx, receiver.url, { n: "rolled back" });
            throw new Error("rollback");
          }),
          /rollback/,
        );
        const committedId = await post(db, receiver.url, { n: "committed" });
        await waitFor(() => responseFor(db, committedId), { message: "the committed request" });
        await relay.drain();

        assert.deepEqual(receiver.received.map((r) => r.body), [{ n: "committed" }]);
        assert.equal(await responseFor(db, rolledBackId), undefined);
        const queued = await db.query("select 1 from net.http_request_queue where id = $1", [
          rolledBackId,
        ]);
        assert.equal(queued.length, 0, "the rolled-back request was never queued");
      } finally {
        await relay.stop();
        await receiver.server.shutdown();
      }
    }),
);

testEachBackend("pg_net stand-in: timeouts and dead hosts are recorded; the relay goes on", (
  backend,
) =>
  withStandIn(backend, async (db) => {
    // Answers only once the test is over, so the relay's timeout decides.
    let finish = () => {};
    const over = new Promise<void>((resolve) => (finish = resolve));
    const slow = startReceiver(async () => {
      await over;
      return new Response(null, { status: 499 });
    });
    const healthy = startReceiver();
    const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const deadUrl = `http://127.0.0.1:${(closed.addr as Deno.NetAddr).port}/nobody`;
    closed.close();
    const relay = await startNetRelay(db, { pollIntervalMs: 50 });
    try {
      const slowId = await post(db, slow.url, {}, ", timeout_milliseconds := 100");
      const deadId = await post(db, deadUrl, {});
      const okId = await post(db, healthy.url, { after: "errors" });

      const timedOut = await waitFor(() => responseFor(db, slowId), { message: "the timeout" });
      assert.equal(timedOut.timed_out, true);
      assert.equal(timedOut.status_code, null);
      assert.equal(timedOut.error_msg, "Timeout of 100 ms reached");

      const dead = await waitFor(() => responseFor(db, deadId), { message: "the dead host" });
      assert.equal(dead.timed_out, false);
      assert.equal(dead.status_code, null);
      assert.ok(dead.error_msg, "the connection error is recorded");

      const ok = await waitFor(() => responseFor(db, okId), { message: "the healthy request" });
      assert.equal(ok.status_code, 201);
    } finally {
      finish();
      await relay.stop();
      await slow.server.shutdown();
      await healthy.server.shutdown();
    }
  }));

testEachBackend(
  "pg_net stand-in: polling delivers what no notification announced",
  (backend) =>
    withStandIn(backend, async (db) => {
      const receiver = startReceiver();
      const relay = await startNetRelay(db, { pollIntervalMs: 30 });
      await relay.drain();
      // Queued behind the relay's back (no pg_notify), e.g. while its LISTEN reconnected.
      const [{ id }] = await db.query<{ id: string }>(
        `insert into net.http_request_queue (method, url, headers, body, timeout_milliseconds)
       values ('POST', $1, '{"Content-Type": "application/json"}', convert_to('{"polled": true}', 'UTF8'), 5000)
       returning id`,
        [receiver.url],
      );
      try {
        await waitFor(() => responseFor(db, Number(id)), { message: "the polled request" });
        assert.deepEqual(receiver.received.map((r) => r.body), [{ polled: true }]);
      } finally {
        await relay.stop();
        await receiver.server.shutdown();
      }
    }),
);
