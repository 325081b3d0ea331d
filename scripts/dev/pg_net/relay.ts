import type { Database } from "../../../shared/db/types.ts";
import { log } from "../../../shared/log.ts";
import { startPeriodic } from "../../../shared/periodic.ts";
import { PG_NET_CHANNEL } from "./install.ts";

/**
 * The pg_net stand-in's worker: takes committed requests from net.http_request_queue, sends
 * them over HTTP, and records each outcome in net._http_response, as pg_net does. It wakes on
 * the NOTIFY that net.http_post sends at commit and also polls, in case a notification is
 * missed (e.g. while the LISTEN connection reconnects). It never throws: every failure is
 * logged or recorded, so a bad request or a database hiccup cannot take the stack down.
 */
export interface NetRelay {
  /** Delivers everything queued now and resolves when those requests are recorded. */
  drain(): Promise<void>;
  /** Stops listening and polling; resolves after in-flight requests are recorded. */
  stop(): Promise<void>;
}

export interface NetRelayOptions {
  /** Safety-net polling period. */
  pollIntervalMs?: number;
  /** Requests in flight at the same time. */
  concurrency?: number;
  /** How long responses are kept (pg_net.ttl defaults to 6 hours). */
  responseTtlMs?: number;
}

interface QueuedRequest {
  id: string | number;
  method: string;
  url: string;
  headers: Record<string, string> | string;
  body: string | null;
  timeout_milliseconds: number;
}

interface Outcome {
  status_code: number | null;
  content_type: string | null;
  headers: Record<string, string> | null;
  content: string | null;
  timed_out: boolean;
  error_msg: string | null;
}

const DEFAULTS = { pollIntervalMs: 1000, concurrency: 8, responseTtlMs: 6 * 3600_000 };
const PRUNE_EVERY_MS = 60_000;

export async function startNetRelay(db: Database, opts: NetRelayOptions = {}): Promise<NetRelay> {
  const { pollIntervalMs, concurrency, responseTtlMs } = { ...DEFAULTS, ...opts };
  let stopped = false;
  const workers = new Set<Promise<void>>();
  let again = false;
  let lastPrune = 0;

  /** Resolves when every worker running now (and any started meanwhile) has finished. */
  const settled = async (): Promise<void> => {
    while (workers.size > 0) await Promise.all(workers);
  };

  /**
   * Starts a worker unless `concurrency` are running; resolves when that worker is done and
   * rejects if it failed (null: none started). A worker takes one request at a time until the
   * queue is empty and starts another worker for each request it takes, so a backlog fans out
   * while an empty queue costs one query; a slow or hung request holds up only its own worker.
   * A wake-up while all are busy makes the next to find the queue empty look again.
   */
  const wake = (): Promise<void> | null => {
    if (stopped) return null;
    again = true;
    return workers.size < concurrency ? startWorker() : null;
  };
  const logFailure = (err: unknown) => log.warn("pg_net relay: delivery failed", err);

  const startWorker = (): Promise<void> => {
    const running = worker();
    const tracked: Promise<void> = running.catch(() => {}).finally(() => workers.delete(tracked));
    workers.add(tracked);
    return running;
  };

  const worker = async () => {
    while (!stopped) {
      again = false;
      // Deleting while taking (skip locked) lets several relays share one database safely.
      const [req] = await db.query<QueuedRequest>(
        `delete from net.http_request_queue
         where id = (select id from net.http_request_queue order by id
                     limit 1 for update skip locked)
         returning id, method, url, headers, convert_from(body, 'UTF8') as body,
                   timeout_milliseconds`,
      );
      if (!req) {
        if (again) continue;
        break;
      }
      if (workers.size < concurrency) startWorker().catch(logFailure); // maybe more are waiting
      await record(req.id, await deliver(req));
    }
    await prune();
  };

  const record = async (id: QueuedRequest["id"], o: Outcome) => {
    try {
      await db.query(
        `insert into net._http_response
           (id, status_code, content_type, headers, content, timed_out, error_msg)
         values ($1, $2, $3, $4::jsonb, $5, $6, $7)`,
        [
          id,
          o.status_code,
          o.content_type,
          o.headers,
          o.content,
          o.timed_out,
          o.error_msg,
        ],
      );
    } catch (err) {
      log.warn("pg_net relay: could not record a response", err);
    }
  };

  const prune = async () => {
    if (Date.now() - lastPrune < PRUNE_EVERY_MS) return;
    lastPrune = Date.now();
    await db.query(
      `delete from net._http_response where created < now() - $1::bigint * interval '1 ms'`,
      [responseTtlMs],
    );
  };

  let unlisten: (() => Promise<void>) | null = null;
  try {
    unlisten = await db.listen(PG_NET_CHANNEL, () => void wake()?.catch(logFailure));
  } catch (err) {
    log.warn("pg_net relay: LISTEN failed; relying on polling", err);
  }
  // Polls at once (requests queued while nobody was listening), then after each poll; one
  // that fails (the database gone) makes the next wait longer.
  const poller = startPeriodic(async () => await wake(), {
    label: "pg_net relay: delivery",
    intervalMs: pollIntervalMs,
    firstRunAfterMs: 0,
  });

  return {
    async drain() {
      wake()?.catch(logFailure);
      await settled();
    },
    async stop() {
      stopped = true;
      await poller.stop();
      await unlisten?.().catch((err) => log.warn("pg_net relay: UNLISTEN failed", err));
      await settled();
    },
  };
}

/** One HTTP request with pg_net's semantics: any status is a response; only transport fails. */
export async function deliver(req: QueuedRequest): Promise<Outcome> {
  const headers = typeof req.headers === "string" ? JSON.parse(req.headers) : req.headers;
  const controller = new AbortController();
  const timeout = setTimeout(() => controller.abort(), req.timeout_milliseconds);
  try {
    const res = await fetch(req.url, {
      method: req.method.toUpperCase(),
      headers,
      body: req.body,
      signal: controller.signal,
    });
    const content = await res.text();
    return {
      status_code: res.status,
      content_type: res.headers.get("content-type"),
      headers: Object.fromEntries(res.headers),
      content,
      timed_out: false,
      error_msg: null,
    };
  } catch (err) {
    const timedOut = controller.signal.aborted;
    return {
      status_code: null,
      content_type: null,
      headers: null,
      content: null,
      timed_out: timedOut,
      error_msg: timedOut
        ? `Timeout of ${req.timeout_milliseconds} ms reached`
        : (err as Error).message ?? String(err),
    };
  } finally {
    clearTimeout(timeout);
  }
}
