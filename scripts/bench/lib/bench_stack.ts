/**
 * The databases and embedded stacks the HTTP benchmarks and the soak run against: a fresh
 * in-memory PGlite, or a scratch database on DATABASE_URL's server (dropped afterwards), and
 * the stack on a loopback port with hash embeddings and no rate limit.
 */
import { loadConfig } from "../../../shared/config.ts";
import { migrate } from "../../../shared/db/migrate.ts";
import { openPglite } from "../../local/pglite.ts";
import { openPostgres } from "../../../shared/db/postgres.ts";
import type { Database } from "../../../shared/db/types.ts";
import { type Stack, startStack } from "../../local/stack.ts";
import { scratchDatabase } from "./scratch_db.ts";

export type Backend = "pglite" | "postgres";

/** A comma-separated list, by default PGlite plus PostgreSQL when DATABASE_URL is set. */
export function parseBackends(list: string | undefined, databaseUrl?: string): Backend[] {
  const backends = (list ?? (databaseUrl ? "pglite,postgres" : "pglite")).split(",")
    .map((b) => b.trim());
  for (const b of backends) {
    if (b !== "pglite" && b !== "postgres") throw new Error(`unknown backend ${b}`);
    if (b === "postgres" && !databaseUrl) throw new Error("postgres needs DATABASE_URL");
  }
  return backends as Backend[];
}

export interface BenchDb {
  db: Database;
  close(): Promise<void>;
}

/**
 * A migrated, empty database. PostgreSQL: `<DATABASE_URL's db>_<suffix>`, with the pool size
 * `deno task start` uses (10). PGlite: in memory, or with `persist` in a temporary directory
 * (removed on close), as `deno task start` keeps it, so its files and WAL are not in RAM.
 */
export async function openBenchDb(
  backend: Backend,
  databaseUrl: string | undefined,
  suffix: string,
  opts: { persist?: boolean } = {},
): Promise<BenchDb> {
  const scratch = backend === "postgres" ? await scratchDatabase(databaseUrl!, suffix) : null;
  const dir = !scratch && opts.persist ? await Deno.makeTempDir({ prefix: `${suffix}-` }) : null;
  const db = scratch ? openPostgres(scratch.url) : await openPglite(dir ?? undefined);
  await migrate(db);
  return {
    db,
    async close() {
      await db.close();
      await scratch?.drop();
      if (dir) await Deno.remove(dir, { recursive: true });
    },
  };
}

/** The embedded stack on 127.0.0.1 (random port): hash embeddings, rate limit off. */
export function startBenchStack(db: Database, env: Record<string, string> = {}): Promise<Stack> {
  const config = loadConfig({
    EMBEDDING_PROVIDER: "hash",
    RATE_LIMIT_REQUESTS: "0",
    CACHE_TTL_SECONDS: "3600",
    ...env,
  });
  return startStack({ config, db, port: 0, hostname: "127.0.0.1" });
}

/**
 * Waits until none of the user's memories waits for its embedding; returns how long that took
 * (ms). Throws after `timeoutMs`, or when one failed.
 */
export async function waitForEmbedded(
  db: Database,
  userId: string,
  timeoutMs = 120_000,
): Promise<number> {
  const started = performance.now();
  while (true) {
    const [{ pending, failed }] = await db.query<{ pending: number; failed: number }>(
      `select count(*) filter (where embedding_status = 'pending')::int as pending,
         count(*) filter (where embedding_status = 'failed')::int as failed
       from public.memories where user_id = $1`,
      [userId],
    );
    if (failed > 0) throw new Error(`${failed} memories failed to embed`);
    const waited = performance.now() - started;
    if (pending === 0) return Math.round(waited);
    if (waited > timeoutMs) {
      throw new Error(`${pending} memories still unembedded after ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
