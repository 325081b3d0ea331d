/**
 * The embedded stack of a load benchmark in a process of its own, so that its CPU time and
 * memory are measured apart from the load generator's: `startStackProcess(backend, rows)` spawns
 * this module, which opens a fresh bench database (PGlite in the process, or a scratch database
 * on DATABASE_URL's server), loads generated memories, starts the stack and reports its URL, an
 * API key and the database's name on its first line of output; it stops when its stdin closes.
 * CPU time comes from /proc (Linux): the stack process's, and the PostgreSQL server processes'
 * serving its database (PGlite's work is inside the stack process).
 */
import { createApiKey } from "../../../shared/auth/api_keys.ts";
import { openPostgres } from "../../../shared/db/postgres.ts";
import type { Database } from "../../../shared/db/types.ts";
import { type Backend, openBenchDb, startBenchStack } from "./bench_stack.ts";
import { loadBenchData } from "./load_memories.ts";

interface Ready {
  url: string;
  key: string;
  /** The PostgreSQL database the stack uses; null on PGlite. */
  database: string | null;
  rss_mb: { idle: number; loaded: number };
}

export interface StackProcess extends Ready {
  pid: number;
  /** CPU seconds (user + system) so far: the stack process, and its PostgreSQL backends. */
  cpu(): Promise<{ stack_s: number; db_s: number | null }>;
  /** Resident set size of the stack process, MB. */
  rssMb(): number;
  stop(): Promise<void>;
}

export async function startStackProcess(
  backend: Backend,
  rows: number,
  databaseUrl: string | undefined,
): Promise<StackProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--unstable-no-legacy-abort", import.meta.filename!, backend, String(rows)],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  // Its log lines go to stdout too: the ready line is the one with the marker.
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  while (!buffered.match(READY_LINE)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`stack process exited before it was ready: ${buffered}`);
    buffered += value;
  }
  const ready: Ready = JSON.parse(buffered.match(READY_LINE)![1]);
  void (async () => { // drain the rest of its output
    while (!(await reader.read()).done);
  })();

  let admin: Database | null = null;
  if (ready.database && databaseUrl) {
    const url = new URL(databaseUrl);
    url.pathname = `/${ready.database}`;
    admin = openPostgres(url.href, { max: 1 });
  }
  const writer = child.stdin.getWriter();
  return {
    ...ready,
    pid: child.pid,
    async cpu() {
      const stack_s = await cpuSeconds(child.pid);
      if (!admin) return { stack_s, db_s: null };
      // Client backends only: autovacuum workers of a freshly loaded database are no request's.
      const backends = await admin.query<{ pid: number }>(
        `select pid from pg_stat_activity
         where datname = current_database() and backend_type = 'client backend'
           and pid <> pg_backend_pid()`,
      );
      let db_s = 0;
      for (const { pid } of backends) db_s += await cpuSeconds(pid).catch(() => 0);
      return { stack_s, db_s };
    },
    rssMb: () => rssMb(child.pid),
    async stop() {
      await admin?.close();
      await writer.close();
      const { code } = await child.status;
      if (code !== 0) throw new Error(`stack process exited with ${code}`);
    },
  };
}

const READY = "stack-process-ready ";
const READY_LINE = new RegExp(`^${READY}(.*)\\n`, "m");
const CLOCK_TICKS = 100; // USER_HZ on Linux

/** utime + stime of a process (all its threads), in seconds. */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  // Fields after the command name (which may hold spaces) start at field 3.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

function rssMb(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kb = Number(status.match(/^VmRSS:\s+(\d+) kB/m)?.[1] ?? 0);
  return Math.round((kb / 1024) * 10) / 10;
}

/** The child: database, data, stack; reports ready on stdout and runs until stdin closes. */
async function runChild(backend: Backend, rows: number) {
  const rss = () => rssMb(Deno.pid);
  const { db, close } = await openBenchDb(backend, Deno.env.get("DATABASE_URL"), "load_bench");
  try {
    const stack = await startBenchStack(db);
    try {
      const idle = rss();
      const data = await loadBenchData(db, rows);
      const { key } = await createApiKey(db, data.userId, { name: "bench" });
      const database = backend === "postgres"
        ? (await db.query<{ name: string }>("select current_database() as name"))[0].name
        : null;
      const ready: Ready = { url: stack.url, key, database, rss_mb: { idle, loaded: rss() } };
      console.log(READY + JSON.stringify(ready));
      for await (const _ of Deno.stdin.readable); // until the parent closes our stdin
    } finally {
      await stack.close();
    }
  } finally {
    await close();
  }
}

if (import.meta.main) {
  const [backend, rows] = Deno.args;
  await runChild(backend as Backend, Number(rows));
}
