/**
 * Upstash-REST-compatible HTTP server over a real Redis, for local development and tests.
 * Never for production: one shared Redis connection, a bearer token and no TLS.
 *
 *   REDIS_URL=redis://127.0.0.1:6379 UPSTASH_STANDIN_PORT=8079 UPSTASH_STANDIN_TOKEN=dev \
 *     deno run -A scripts/dev/upstash_server.ts
 *
 * Protocol (what @upstash/redis speaks):
 * - `POST /` with a JSON command `["SET","k","v","EX",10]` → `{"result": …}`, or status 400
 *   `{"error": "ERR …"}`.
 * - `POST /pipeline` with an array of commands → `[{"result"}|{"error"}, …]` in order, not
 *   atomic; `POST /multi-exec` → the same inside MULTI/EXEC (a queueing error discards the
 *   whole transaction and answers 400; runtime errors are per command).
 * - Path commands: `GET|POST|PUT /set/k/v?EX=10`, a POST/PUT body is appended as the last
 *   argument before the query parameters.
 * - `Authorization: Bearer <token>` (or `?_token=`) on every path, else 401.
 * - `Upstash-Encoding: base64`: every string in the result, nested ones too, is base64 of its
 *   bytes, except the status reply "OK", which @upstash/redis expects verbatim.
 *   @upstash/redis sends this header by default.
 */
import { Buffer } from "node:buffer";
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { createClient, ErrorReply, MultiErrorReply, RESP_TYPES } from "@redis/client";

export interface UpstashServerOptions {
  redisUrl?: string;
  /** Bearer token clients must send; a random one when omitted. */
  token?: string;
  /** 0 picks a free port. */
  port?: number;
  hostname?: string;
}

export interface UpstashServer {
  url: string;
  token: string;
  close(): Promise<void>;
}

type Reply = { result: unknown } | { error: string };

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** Commands that would change or block the one connection every request shares. */
const REFUSED = new Set([
  "AUTH",
  "BLMOVE",
  "BLMPOP",
  "BLPOP",
  "BRPOP",
  "BRPOPLPUSH",
  "BZMPOP",
  "BZPOPMAX",
  "BZPOPMIN",
  "CLIENT",
  "DISCARD",
  "EXEC",
  "HELLO",
  "MONITOR",
  "MULTI",
  "PSUBSCRIBE",
  "PUNSUBSCRIBE",
  "QUIT",
  "RESET",
  "SELECT",
  "SSUBSCRIBE",
  "SUBSCRIBE",
  "SUNSUBSCRIBE",
  "UNSUBSCRIBE",
  "UNWATCH",
  "WAIT",
  "WATCH",
]);

/** Script shebang flags open-source Redis 7 knows; Upstash adds others (allow-key-locking). */
const REDIS_SCRIPT_FLAGS = new Set([
  "no-writes",
  "allow-oom",
  "allow-stale",
  "no-cluster",
  "allow-cross-slot-keys",
]);

const sha1 = (s: string) => createHash("sha1").update(s).digest("hex");

export async function startUpstashServer(
  opts: UpstashServerOptions = {},
): Promise<UpstashServer> {
  const {
    redisUrl = "redis://127.0.0.1:6379",
    token = randomBytes(24).toString("base64url"),
    port = 0,
    hostname = "127.0.0.1",
  } = opts;

  // RESP2 gives the reply shapes Upstash returns (flat arrays, no maps or booleans); bulk
  // strings as Buffers keep binary values exact for base64, while status replies ("OK",
  // "PONG") stay strings. With the offline queue off, a Redis outage fails requests at once.
  let redisDown = true; // until the first "ready": a failed first connect rejects instead
  const base = createClient({
    url: redisUrl,
    RESP: 2,
    disableOfflineQueue: true,
    socket: {
      connectTimeout: 2_000,
      reconnectStrategy: (retries) => Math.min(100 * 2 ** retries, 2_000),
    },
  });
  base.on("error", (err: Error) => {
    if (!redisDown) console.error(`upstash stand-in: redis error: ${err.message}`);
    redisDown = true;
  });
  base.on("ready", () => (redisDown = false));
  // A first connection that fails should reject, not retry forever.
  await Promise.race([
    base.connect(),
    new Promise((_, reject) => base.once("error", reject)),
  ]).catch((err) => {
    base.destroy();
    throw new Error(`upstash stand-in: cannot connect to ${redisUrl}: ${err.message}`);
  });
  const redis = base.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });

  // Scripts are loaded under the SHA-1 of the text we send Redis (flags stripped), but clients
  // EVALSHA the SHA-1 of their original text: translate so EVALSHA hits after the first EVAL.
  const shas = new Map<string, string>();
  const translate = (args: string[]): string[] => {
    const name = args[0].toUpperCase();
    if ((name === "EVAL" || name === "EVAL_RO") && args.length > 1) {
      const script = stripScriptFlags(args[1]);
      if (script === args[1]) return args;
      shas.set(sha1(args[1]), sha1(script));
      return [args[0], script, ...args.slice(2)];
    }
    if ((name === "EVALSHA" || name === "EVALSHA_RO") && args.length > 1) {
      const sha = shas.get(args[1].toLowerCase());
      return sha ? [args[0], sha, ...args.slice(2)] : args;
    }
    return args;
  };

  const run = (args: string[]): Promise<unknown> => {
    const name = args[0].toUpperCase();
    if (REFUSED.has(name)) {
      return Promise.reject(new ErrorReply(`ERR Command is not available: '${args[0]}'`));
    }
    if (name === "SCRIPT" && args[1]?.toUpperCase() === "LOAD" && args.length === 3) {
      // Load the stripped text but answer the SHA-1 the client computed.
      const original = args[2];
      const script = stripScriptFlags(original);
      shas.set(sha1(original), sha1(script));
      return redis.sendCommand(["SCRIPT", "LOAD", script]).then(() => sha1(original));
    }
    return redis.sendCommand(translate(args));
  };

  // Sent back to back on one connection, so Redis runs them in order (node-redis pipelines).
  const pipeline = (cmds: string[][]): Promise<Reply[]> =>
    Promise.all(cmds.map((c) => run(c).then((result) => ({ result }), toErrorReply)));

  const multiExec = async (cmds: string[][]): Promise<Reply[]> => {
    const bad = cmds.find((c) => REFUSED.has(c[0].toUpperCase()));
    if (bad) throw new ErrorReply(`ERR Command is not available: '${bad[0]}'`);
    const multi = redis.multi();
    for (const c of cmds) multi.addCommand(translate(c));
    try {
      return (await multi.exec()).map((result) => ({ result }));
    } catch (err) {
      // Runtime errors inside EXEC: the other commands ran; report each in place.
      if (!(err instanceof MultiErrorReply)) throw err;
      return err.replies.map((r) => r instanceof ErrorReply ? { error: r.message } : { result: r });
    }
  };

  const handle = async (req: Request): Promise<Response> => {
    const url = new URL(req.url);
    if (!authorized(req, url, token)) return json({ error: "Unauthorized" }, 401);
    const base64 = req.headers.get("upstash-encoding")?.toLowerCase() === "base64";
    const out = (r: Reply): Reply => "result" in r ? { result: encode(r.result, base64) } : r;
    try {
      if (url.pathname === "/pipeline" || url.pathname === "/multi-exec") {
        if (req.method !== "POST") throw new HttpError(405, "ERR method not allowed");
        const cmds = parseCommands(await req.text());
        const replies = url.pathname === "/pipeline" ? await pipeline(cmds) : await multiExec(cmds);
        return json(replies.map(out), 200);
      }
      const args = url.pathname === "/" ? await bodyCommand(req) : await pathCommand(req, url);
      return json(out({ result: await run(args) }), 200);
    } catch (err) {
      if (err instanceof HttpError) return json({ error: err.message }, err.status);
      if (err instanceof ErrorReply) return json({ error: err.message }, 400);
      // Not the command's fault: Redis is unreachable or the connection broke.
      return json({ error: `ERR redis unavailable: ${(err as Error).message}` }, 500);
    }
  };

  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({ port, hostname, onListen: () => {} }, handle);
  } catch (err) {
    base.destroy(); // e.g. the port is taken
    throw err;
  }
  const { hostname: host, port: boundPort } = server.addr;
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${boundPort}`,
    token,
    async close() {
      await server.shutdown();
      if (base.isOpen) await base.close();
      else base.destroy();
    },
  };
}

function toErrorReply(err: unknown): Reply {
  if (err instanceof ErrorReply) return { error: err.message };
  throw err; // connection-level: fail the whole request
}

function json(body: unknown, status: number): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  });
}

function authorized(req: Request, url: URL, token: string): boolean {
  const header = req.headers.get("authorization") ?? "";
  const given = header.match(/^Bearer\s+(.+)$/i)?.[1] ?? url.searchParams.get("_token") ?? "";
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Upstash's JSON arguments: strings, numbers and booleans, sent to Redis as text. */
function toArgs(cmd: unknown): string[] {
  if (!Array.isArray(cmd) || cmd.length === 0) {
    throw new HttpError(400, "ERR a command must be a non-empty JSON array");
  }
  return cmd.map((a) => {
    if (typeof a === "string") return a;
    if (typeof a === "number" || typeof a === "boolean") return String(a);
    throw new HttpError(400, `ERR invalid argument ${JSON.stringify(a)}: not a string or number`);
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, "ERR request body is not valid JSON");
  }
}

function parseCommands(text: string): string[][] {
  const cmds = parseJson(text);
  if (!Array.isArray(cmds) || cmds.length === 0) {
    throw new HttpError(400, "ERR expected a non-empty JSON array of commands");
  }
  return cmds.map(toArgs);
}

async function bodyCommand(req: Request): Promise<string[]> {
  if (req.method !== "POST") throw new HttpError(405, "ERR send the command with POST");
  return toArgs(parseJson(await req.text()));
}

async function pathCommand(req: Request, url: URL): Promise<string[]> {
  if (!["GET", "POST", "PUT"].includes(req.method)) {
    throw new HttpError(405, "ERR method not allowed");
  }
  const args = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
  if (req.method !== "GET") {
    const body = await req.text();
    if (body) args.push(body);
  }
  for (const [k, v] of url.searchParams) if (k !== "_token") args.push(k, v);
  return args;
}

/** Encodes a RESP2 reply as Upstash JSON: Buffers are bulk strings, strings status replies. */
function encode(value: unknown, base64: boolean): unknown {
  if (value instanceof Uint8Array) {
    const buf = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    return base64 ? buf.toString("base64") : buf.toString("utf8");
  }
  if (typeof value === "string") {
    return base64 && value !== "OK" ? Buffer.from(value).toString("base64") : value;
  }
  if (Array.isArray(value)) return value.map((v) => encode(v, base64));
  if (value instanceof Error) return value.message; // an error nested in a script's table
  return value ?? null;
}

/** Drops shebang flags open-source Redis rejects ("Unexpected flag in script shebang"). */
function stripScriptFlags(script: string): string {
  const m = script.match(/^#!lua flags=([^\n]*)/);
  if (!m) return script;
  const kept = m[1].split(",").map((f) => f.trim()).filter((f) => REDIS_SCRIPT_FLAGS.has(f));
  return (kept.length ? `#!lua flags=${kept.join(",")}` : "#!lua") + script.slice(m[0].length);
}

if (import.meta.main) {
  const server = await startUpstashServer({
    port: Number(Deno.env.get("UPSTASH_STANDIN_PORT") ?? 8079),
    token: Deno.env.get("UPSTASH_STANDIN_TOKEN") || undefined,
    redisUrl: Deno.env.get("REDIS_URL") || undefined,
  });
  console.log(`UPSTASH_REDIS_REST_URL=${server.url}`);
  console.log(`UPSTASH_REDIS_REST_TOKEN=${server.token}`);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, () => server.close().finally(() => Deno.exit(0)));
  }
}
