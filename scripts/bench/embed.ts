/**
 * Embedding pipeline benchmark: `deno task bench embed [--n 200] [--providers hash,local]
 * [--backends pglite,postgres] [--out bench-results]`.
 *
 * End to end on the embedded stack — INSERT → trigger → net.http_post → relay → embed →
 * UPDATE — for each backend and provider, three workloads over fresh rows:
 *   idle:       20 saves, each waiting for its embedding: the pipeline's own latency;
 *   concurrent: n saves through MemoryService (as the user, 8 at a time), one webhook per row;
 *   batch:      one INSERT statement of n rows, one webhook per 100 ids.
 * Throughput is rows / (last embedded_at − first created_at) and lag is embedded_at −
 * created_at per row, both on the database's clock (so lag includes any backlog). The local model is loaded before measuring (its load
 * time is reported apart). PostgreSQL runs in a scratch database `<DATABASE_URL's db>_embed_bench`
 * on the same server, dropped afterwards. Prints a table; writes bench-results/embed-<ts>.json.
 */
import { parseArgs } from "node:util";
import { ensureUser } from "../../shared/auth/api_keys.ts";
import { asUser } from "../../shared/db/as_user.ts";
import type { Database } from "../../shared/db/types.ts";
import { MemoryService } from "../../shared/memory/service.ts";
import { textTable } from "../lib/tables.ts";
import { type Backend, openBenchDb, parseBackends, startBenchStack } from "./lib/bench_stack.ts";
import { writeResults } from "./lib/output.ts";
import { machineInfo } from "./lib/search_report.ts";
import { type Latency, summarize } from "./lib/stats.ts";

type Mode = "idle" | "concurrent" | "batch";

export interface EmbedResult {
  backend: Backend;
  provider: string;
  model: string;
  mode: Mode;
  n: number;
  seconds: number;
  per_second: number;
  lag_ms: Latency;
  model_load_ms: number;
}

const CONCURRENCY = 8;
const IDLE_SAVES = 20;
const READY_TIMEOUT_MS = 120_000;

export async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      n: { type: "string", default: "100" },
      providers: { type: "string", default: "hash,local" },
      backends: { type: "string" },
      out: { type: "string", default: "bench-results" },
    },
  });
  const n = Number(values.n);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--n must be a positive integer`);
  const databaseUrl = Deno.env.get("DATABASE_URL");
  const backends = parseBackends(values.backends, databaseUrl);
  const providers = values.providers.split(",").map((p) => p.trim());

  const results: EmbedResult[] = [];
  for (const backend of backends) {
    for (const provider of providers) {
      results.push(...await runOne(backend, provider, n, databaseUrl));
    }
  }

  console.log(table(results));
  await writeResults(values.out, "embed", {
    command: `deno task bench embed ${args.join(" ")}`.trim(),
    machine: await machineInfo(backends.includes("postgres") ? databaseUrl : undefined),
    results,
  });
}

/** One stack on a fresh database; both workloads. */
async function runOne(
  backend: Backend,
  provider: string,
  n: number,
  databaseUrl?: string,
): Promise<EmbedResult[]> {
  const { db, close } = await openBenchDb(backend, databaseUrl, "embed_bench");
  try {
    const stack = await startBenchStack(db, { EMBEDDING_PROVIDER: provider });
    try {
      const loadStarted = performance.now();
      await stack.ctx.embedder.embed(["warm up"]);
      const modelLoadMs = Math.round(performance.now() - loadStarted);
      const userId = await ensureUser(db, `bench-${crypto.randomUUID()}@bench.local`);
      const out: EmbedResult[] = [];
      for (const mode of ["idle", "concurrent", "batch"] as const) {
        const ids = mode === "idle"
          ? await saveAndWait(db, userId, IDLE_SAVES)
          : mode === "concurrent"
          ? await saveConcurrently(db, userId, n)
          : await insertBatch(db, userId, n);
        const m = await measureReady(db, ids);
        out.push({
          backend,
          provider,
          model: stack.ctx.embedder.model,
          mode,
          n: ids.length,
          ...m,
          model_load_ms: modelLoadMs,
        });
      }
      return out;
    } finally {
      await stack.close();
    }
  } finally {
    await close();
  }
}

const text = (i: number) =>
  `Benchmark memory ${i}: retry webhooks with exponential backoff and record each ` +
  `response; pin tool versions in CI (${crypto.randomUUID()})`;

/** n saves, each waiting for its embedding before the next: no backlog. */
async function saveAndWait(db: Database, userId: string, n: number): Promise<string[]> {
  const service = new MemoryService(db);
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const { memory } = await service.save(userId, { content: text(i) });
    await measureReady(db, [memory.id]);
    ids.push(memory.id);
  }
  return ids;
}

/** n saves through the service, CONCURRENCY at a time, each its own transaction. */
async function saveConcurrently(db: Database, userId: string, n: number): Promise<string[]> {
  const service = new MemoryService(db);
  const ids: string[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < n) {
      const { memory } = await service.save(userId, { content: text(next++) });
      ids.push(memory.id);
    }
  }));
  return ids;
}

/** n rows in one INSERT statement, as the user. */
async function insertBatch(db: Database, userId: string, n: number): Promise<string[]> {
  const { id: projectId } = await new MemoryService(db).createProject(userId, {
    name: "batch",
    slug: `batch-${crypto.randomUUID().slice(0, 8)}`,
  });
  const contents = Array.from({ length: n }, (_, i) => text(i));
  return await asUser(db, userId, async (tx) =>
    (await tx.query<{ id: string }>(
      `insert into memories (user_id, project_id, content)
       select $1, $2, c from unnest($3::text[]) as c returning id`,
      [userId, projectId, contents],
    )).map((r) => r.id));
}

/** Waits until every row is embedded; throughput and lag from the database's timestamps. */
async function measureReady(db: Database, ids: string[]) {
  const deadline = performance.now() + READY_TIMEOUT_MS;
  while (true) {
    const [{ ready }] = await db.query<{ ready: number }>(
      `select count(*)::int as ready from memories
       where id = any($1::uuid[]) and embedding_status = 'ready'`,
      [ids],
    );
    if (ready === ids.length) break;
    if (performance.now() > deadline) {
      throw new Error(`only ${ready} of ${ids.length} rows embedded after ${READY_TIMEOUT_MS} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const rows = await db.query<{ lag_ms: number; span_ms: number }>(
    `select extract(epoch from embedded_at - created_at) * 1000 as lag_ms,
       extract(epoch from max(embedded_at) over () - min(created_at) over ()) * 1000 as span_ms
     from memories where id = any($1::uuid[])`,
    [ids],
  );
  const seconds = Number(rows[0].span_ms) / 1000;
  return {
    seconds: Math.round(seconds * 1000) / 1000,
    per_second: Math.round(ids.length / seconds),
    lag_ms: summarize(rows.map((r) => Number(r.lag_ms))),
  };
}

function table(results: EmbedResult[]): string {
  return textTable(
    ["backend", "provider", "mode", "n", "seconds", "memories/s", "lag p50", "p95"],
    results.map((r) => [
      r.backend,
      r.provider,
      r.mode,
      r.n,
      r.seconds.toFixed(2),
      r.per_second,
      `${r.lag_ms.p50} ms`,
      `${r.lag_ms.p95} ms`,
    ]),
  );
}
