/**
 * Edge bundles: `deno task bench edge [--starts 5] [--requests 400] [--concurrency 8]
 * [--out bench-results] [--doc docs/benchmarks.md]`. Needs DATABASE_URL (a scratch database
 * `<db>_edge_bench` is created and dropped).
 *
 * For each function in supabase/config.toml: the bundle `deno task deploy` uploads (minified and
 * gzipped bytes, against its budget) and the `deno info` size of its source graph; its cold
 * start, from spawning the bundle as Edge Runtime would (its own process, network and
 * environment permissions only) to the first 200 of an authenticated request, median of
 * `--starts` fresh processes; and its process memory (RSS) idle and at its peak under
 * `--requests` requests from `--concurrency` closed-loop clients (hash embeddings).
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createApiKey, ensureUser } from "../../shared/auth/api_keys.ts";
import { asUser } from "../../shared/db/as_user.ts";
import { migrate } from "../../shared/db/migrate.ts";
import type { Database } from "../../shared/db/types.ts";
import { MemoryService } from "../../shared/memory/service.ts";
import { openPostgres } from "../../shared/db/postgres.ts";
import { type Artifact, BUDGETS, buildArtifact, kb, mb } from "../deploy/artifact.ts";
import { denoInfoSize, functionGraph } from "../deploy/graph.ts";
import { type BundleProcess, edgeEnvironment, startBundle } from "../deploy/run_bundle.ts";
import { readSupabaseConfig, REPO_ROOT } from "../deploy/supabase_config.ts";
import { markdownTable, textTable } from "../lib/tables.ts";
import { runLoad } from "./lib/load_generator.ts";
import { updateDocSection, writeResults } from "./lib/output.ts";
import { scratchDatabase } from "./lib/scratch_db.ts";
import { commandLine, machineInfo, machineLine } from "./lib/search_report.ts";
import { summarize } from "./lib/stats.ts";

const SECRET = "edge-bench-webhook-secret-0123456789";

export interface EdgeResult {
  name: string;
  bytes: number;
  gzip_bytes: number;
  budget: { bytes: number; gzipBytes: number };
  deno_info_bytes: number;
  largest_modules: Artifact["modules"];
  /** Spawn → "Listening", and spawn → first 200, per fresh process (ms). */
  listen_ms: number[];
  first_200_ms: number[];
  rss_idle_mb: number;
  rss_peak_mb: number;
  load: { requests: number; errors: number; per_second: number; p50_ms: number; p95_ms: number };
}

/** One authenticated request per function that answers 200 (and does real work). */
type Probe = (url: string, i: number) => Promise<Response>;

export async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      starts: { type: "string", default: "5" },
      requests: { type: "string", default: "400" },
      concurrency: { type: "string", default: "8" },
      out: { type: "string", default: "bench-results" },
      doc: { type: "string", default: "docs/benchmarks.md" },
    },
  });
  const databaseUrl = Deno.env.get("DATABASE_URL");
  if (!databaseUrl) throw new Error("bench edge needs DATABASE_URL (a PostgreSQL with pgvector)");
  const scratch = await scratchDatabase(databaseUrl, "edge_bench");
  // Inside the repository, so `deno bundle` finds deno.json.
  await Deno.mkdir(join(REPO_ROOT, ".build"), { recursive: true });
  const buildDir = await Deno.makeTempDir({ dir: join(REPO_ROOT, ".build"), prefix: "bench-" });
  const db = openPostgres(scratch.url, { max: 2 });
  try {
    await migrate(db);
    const userId = await ensureUser(db, "edge-bench@bench.local");
    const { key } = await createApiKey(db, userId);
    // Rows for embed to embed: 10 per request, every one of them still pending.
    const starts = Number(values.starts);
    const pending = await pendingMemories(db, userId, 10 * (starts + Number(values.requests)));
    const env = edgeEnvironment({
      projectRef: "benchbenchbenchbench",
      databaseUrl: scratch.url,
      webhookSecret: SECRET,
      settings: { EMBEDDING_PROVIDER: "hash", RATE_LIMIT_REQUESTS: "0" },
    });
    const probes = probesFor(key, pending);
    const results: EdgeResult[] = [];
    for (const fn of (await readSupabaseConfig()).functions) {
      console.log(`\n== ${fn.name}`);
      const artifact = await buildArtifact(fn, buildDir);
      const graph = await functionGraph(fn.entrypointPath);
      const probe = probes[fn.name];
      if (!probe) throw new Error(`no benchmark request for function ${fn.name}`);
      results.push({
        name: fn.name,
        bytes: artifact.bytes,
        gzip_bytes: artifact.gzipBytes,
        budget: (BUDGETS as Record<string, EdgeResult["budget"]>)[fn.name],
        deno_info_bytes: graph.totalBytes,
        largest_modules: artifact.modules.slice(0, 5),
        ...await measureProcess(artifact.path, env, probe, {
          starts,
          requests: Number(values.requests),
          concurrency: Number(values.concurrency),
        }),
      });
    }
    console.log(`\n${textTable(HEADER, results.map(cells))}`);
    const command = commandLine("edge", args, databaseUrl);
    const machine = await machineInfo(databaseUrl);
    const json = await writeResults(values.out, "edge", { command, machine, results });
    await updateDocSection(
      values.doc,
      "edge",
      [
        "## Edge bundles",
        "",
        machineLine(machine) +
        " The machine was shared with other engineers' jobs during this run:",
        "cold starts and latencies are noisy, sizes are exact.",
        "",
        `Command: \`${command}\` (raw figures: \`${json}\`).`,
        "",
        "Each function as `deno task deploy` uploads it: one file bundled by `deno bundle --minify`",
        "(gzip level 9 for the gzipped size) and checked against its budget (sizes in 1000-byte KB",
        "and MB); `deno info` is the size of its source graph as Supabase's troubleshooting guide",
        "measures it (whole npm package folders, in deno's MiB), which is what server-side bundling",
        "would have to fit in 5 MB. Cold start: a fresh `deno run --allow-net --allow-env` process",
        `of the bundle until its first 200 to an authenticated request, median of ${values.starts}`,
        `(spawn → listening in brackets). Memory: the process's RSS once started, and its peak over`,
        `${values.requests} requests from ${values.concurrency} closed-loop clients (hash`,
        "embeddings; mcp: tools/call search and save, memories: search and save, embed: webhooks of",
        "10 pending memories each, analytics: insights). The first answer includes that request's",
        "own work; analytics' `get_insights` over the bench user's thousands of memories (its",
        "near-duplicate search) is a database query of seconds here, and dominates its row.",
        "",
        markdownTable(HEADER, results.map(cells)),
        "",
        "Largest modules per bundle (from its source map):",
        "",
        ...results.map((r) =>
          `- ${r.name}: ${r.largest_modules.map((m) => `${m.module} ${kb(m.bytes)}`).join(", ")}`
        ),
      ].join("\n"),
    );
  } finally {
    await db.close();
    await scratch.drop();
    await Deno.remove(buildDir, { recursive: true }).catch(() => {});
  }
}

const HEADER = [
  "function",
  "bundle",
  "gzipped",
  "budget",
  "deno info",
  "cold start ms (listen)",
  "RSS idle MB",
  "RSS peak MB",
  "req/s",
  "p95 ms",
  "errors",
];

const median = (xs: number[]) => summarize(xs).p50;

function cells(r: EdgeResult): (string | number)[] {
  return [
    r.name,
    mb(r.bytes),
    kb(r.gzip_bytes),
    `${mb(r.budget.bytes)} / ${kb(r.budget.gzipBytes)}`,
    denoInfoSize(r.deno_info_bytes),
    `${Math.round(median(r.first_200_ms))} (${Math.round(median(r.listen_ms))})`,
    r.rss_idle_mb,
    r.rss_peak_mb,
    r.load.per_second,
    r.load.p95_ms,
    r.load.errors,
  ];
}

async function measureProcess(
  path: string,
  env: Record<string, string>,
  probe: Probe,
  opts: { starts: number; requests: number; concurrency: number },
): Promise<
  Pick<EdgeResult, "listen_ms" | "first_200_ms" | "rss_idle_mb" | "rss_peak_mb" | "load">
> {
  const listen: number[] = [];
  const first: number[] = [];
  let last: BundleProcess | undefined;
  for (let i = 0; i < opts.starts; i++) {
    await last?.stop();
    const t0 = performance.now();
    last = await startBundle(path, env);
    listen.push(performance.now() - t0);
    const res = await probe(last.url, i);
    await res.body?.cancel();
    if (!res.ok) throw new Error(`first request: ${res.status}\n${last.output()}`);
    first.push(performance.now() - t0);
  }
  const child = last!;
  try {
    const idle = rssMb(child.pid, "VmRSS");
    let errors = 0;
    const load = await runLoad({
      concurrency: opts.concurrency,
      operations: opts.requests,
      next: (i) => ({
        kind: "request",
        async run() {
          const res = await probe(child.url, opts.starts + i);
          await res.body?.cancel();
          if (!res.ok) {
            errors++;
            throw new Error(`status ${res.status}`);
          }
        },
      }),
    });
    const latency = load.kinds.request?.latency;
    console.log(`  ${load.operations} requests, ${errors} errors, ${load.per_second}/s`);
    return {
      listen_ms: listen.map(Math.round),
      first_200_ms: first.map(Math.round),
      rss_idle_mb: idle,
      rss_peak_mb: rssMb(child.pid, "VmHWM"),
      load: {
        requests: load.operations,
        errors: load.errors,
        per_second: load.per_second,
        p50_ms: latency?.p50 ?? 0,
        p95_ms: latency?.p95 ?? 0,
      },
    };
  } finally {
    await child.stop();
  }
}

/** The process's resident memory (VmRSS) or its peak so far (VmHWM), in MB. */
function rssMb(pid: number, field: "VmRSS" | "VmHWM"): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kbytes = Number(status.match(new RegExp(`^${field}:\\s+(\\d+) kB`, "m"))?.[1] ?? 0);
  return Math.round(kbytes / 1024);
}

/** `count` memories of the user, inserted in one statement: pending until embed runs. */
async function pendingMemories(db: Database, userId: string, count: number): Promise<string[]> {
  const project = await new MemoryService(db).createProject(userId, {
    name: "Bench",
    slug: "bench",
  });
  return await asUser(db, userId, async (tx) =>
    (await tx.query<{ id: string }>(
      `insert into public.memories (user_id, project_id, content)
       select $1, $2, 'edge bench pending memory ' || i from generate_series(1, $3) as i
       returning id`,
      [userId, project.id, count],
    )).map((r) => r.id));
}

function probesFor(key: string, pending: string[]): Record<string, Probe> {
  const auth = { authorization: `Bearer ${key}`, "content-type": "application/json" };
  const post = (url: string, body: unknown, headers: Record<string, string> = auth) =>
    fetch(url, { method: "POST", headers, body: JSON.stringify(body) });
  const rpc = (i: number, name: string, args: unknown) => ({
    jsonrpc: "2.0",
    id: i,
    method: "tools/call",
    params: { name, arguments: args },
  });
  const mcpHeaders = { ...auth, accept: "application/json, text/event-stream" };
  return {
    mcp: (url, i) =>
      post(
        `${url}/mcp`,
        i % 2
          ? rpc(i, "save_memory", { content: `edge bench memory ${i} ${crypto.randomUUID()}` })
          : rpc(i, "search_memories", { query: "edge bench memory" }),
        mcpHeaders,
      ),
    memories: (url, i) =>
      i % 2
        ? post(`${url}/memories`, { content: `edge bench rest ${i} ${crypto.randomUUID()}` })
        : post(`${url}/memories/search`, { query: "edge bench" }),
    embed: (url, i) =>
      post(`${url}/embed`, { ids: pending.slice(10 * i, 10 * i + 10) }, {
        "content-type": "application/json",
        "x-webhook-secret": SECRET,
      }),
    analytics: (url) => fetch(`${url}/analytics/insights?days=30`, { headers: auth }),
  };
}
