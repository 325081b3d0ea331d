/**
 * `deno task bench brief [--rows 10000] [--runs 100] [--backends postgres,pglite] [--out ...]
 * [--doc docs/benchmarks.md]`: the session brief (shared/brief) — its size (estimated tokens,
 * UTF-8 bytes, items) per token budget, and its latency per kind of request, from a repository
 * alone to the whole request with a task (search uncached, and cached). Same data for every
 * variant; the variants alternate in blocks of 10 briefs, so a busy machine weighs on all alike.
 */
import { parseArgs } from "node:util";
import { BriefService } from "../../shared/brief/service.ts";
import type { Brief, BriefInput } from "../../shared/brief/schemas.ts";
import { MemoryCache } from "../../shared/cache/memory.ts";
import type { Database } from "../../shared/db/types.ts";
import { HashEmbeddingProvider } from "../../shared/embeddings/hash.ts";
import { SearchService } from "../../shared/search/service.ts";
import { markdownTable, textTable } from "../lib/tables.ts";
import { type Backend, openBenchDb, parseBackends } from "./lib/bench_stack.ts";
import { generateQueries } from "./lib/code_memory_generator.ts";
import { type BenchData, loadBenchData } from "./lib/load_memories.ts";
import { updateDocSection, writeResults } from "./lib/output.ts";
import { commandLine, machineInfo, machineLine } from "./lib/search_report.ts";
import { type Latency, summarize } from "./lib/stats.ts";

const BLOCK = 10;
const BUDGETS = [500, 1500, 4000, 8000];
const REPO = "git@github.com:acme/api.git";
const PROJECT = "svc-3";

type Request = Omit<BriefInput, "task"> & { task?: true };
/** What is asked; `task: true` takes the block's task (a generated query). */
const VARIANTS: Record<string, { request: (paths: string[]) => Request; cached?: boolean }> = {
  "repo": { request: () => ({ repo: REPO }) },
  "project": { request: () => ({ project: PROJECT }) },
  "project + repo + 5 paths": { request: (paths) => ({ project: PROJECT, repo: REPO, paths }) },
  "+ task, search uncached": {
    request: (paths) => ({ project: PROJECT, repo: REPO, paths, task: true }),
  },
  "+ task, search cached": {
    request: (paths) => ({ project: PROJECT, repo: REPO, paths, task: true }),
    cached: true,
  },
};

interface SizeResult {
  max_tokens: number;
  tokens: number;
  bytes: number;
  items: number;
  truncated: boolean;
}
interface BackendResult {
  backend: Backend;
  rows: number;
  latency: { variant: string; latency: Latency; tokens: number; items: number }[];
  sizes: SizeResult[];
}

export async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      rows: { type: "string", default: "10000" },
      runs: { type: "string", default: "100" },
      backends: { type: "string" },
      out: { type: "string", default: "bench-results" },
      doc: { type: "string", default: "docs/benchmarks.md" },
    },
  });
  const databaseUrl = Deno.env.get("DATABASE_URL");
  const runs = Number(values.runs);
  const results: BackendResult[] = [];
  for (const backend of parseBackends(values.backends, databaseUrl)) {
    const { db, close } = await openBenchDb(backend, databaseUrl, "brief");
    try {
      const data = await loadBenchData(db, Number(values.rows));
      console.log(`\n== ${backend}, ${data.rows} memories, ${runs} briefs per variant (ms)`);
      const result = await benchBackend(backend, db, data, runs);
      console.log(textTable(LATENCY_HEADER, latencyRows(result)));
      console.log(textTable(SIZE_HEADER, sizeRows(result)));
      results.push(result);
    } finally {
      await close();
    }
  }
  const command = commandLine("brief", args, databaseUrl);
  const machine = await machineInfo(databaseUrl);
  const json = await writeResults(values.out, "brief", { command, machine, results });
  await updateDocSection(
    values.doc,
    "brief",
    markdown(command, json, machineLine(machine), runs, results),
  );
}

async function benchBackend(
  backend: Backend,
  db: Database,
  data: BenchData,
  runs: number,
): Promise<BackendResult> {
  const embedder = new HashEmbeddingProvider();
  const search = (ttlSeconds: number) =>
    new SearchService({ db, embedder, cache: new MemoryCache(), ttlSeconds });
  const searches = { uncached: search(0), cached: search(300) };
  const briefs = {
    uncached: new BriefService(db, searches.uncached),
    cached: new BriefService(db, searches.cached),
  };
  const [project] = await db.query<{ id: string }>(
    "select id from public.projects where owner_id = $1 and slug = $2",
    [data.userId, PROJECT],
  );
  const paths = (await db.query<{ file_path: string }>(
    `select file_path from public.memories where project_id = $1 and file_path is not null
     order by created_at desc limit 5`,
    [project.id],
  )).map((r) => r.file_path);
  const tasks = generateQueries(BLOCK);
  const input = (request: Request, i: number): BriefInput => {
    const { task, ...rest } = request;
    return task ? { ...rest, task: tasks[i % BLOCK] } : rest;
  };

  const samples: Record<string, number[]> = Object.fromEntries(
    Object.keys(VARIANTS).map((v) => [v, []]),
  );
  const last: Record<string, Brief> = {};
  for (let done = 0; done < runs + BLOCK; done += BLOCK) {
    for (const [name, variant] of Object.entries(VARIANTS)) {
      const service = variant.cached ? briefs.cached : briefs.uncached;
      for (let i = 0; i < BLOCK; i++) {
        const started = performance.now();
        last[name] = await service.brief(data.userId, input(variant.request(paths), i));
        // The first block of each variant warms it up and is not counted.
        if (done > 0) samples[name].push(performance.now() - started);
      }
    }
  }

  const full = input(VARIANTS["+ task, search uncached"].request(paths), 0);
  const sizes: SizeResult[] = [];
  for (const max_tokens of BUDGETS) {
    const b = await briefs.uncached.brief(data.userId, { ...full, max_tokens });
    sizes.push({
      max_tokens,
      tokens: b.tokens,
      bytes: new TextEncoder().encode(b.text).length,
      items: b.items.length,
      truncated: b.truncated,
    });
  }
  await Promise.all([searches.uncached.close(), searches.cached.close()]);
  return {
    backend,
    rows: data.rows,
    latency: Object.entries(samples).map(([variant, ms]) => ({
      variant,
      latency: summarize(ms),
      tokens: last[variant].tokens,
      items: last[variant].items.length,
    })),
    sizes,
  };
}

const LATENCY_HEADER = ["request", "p50 ms", "p95 ms", "mean ms", "tokens", "items"];
const latencyRows = (r: BackendResult) =>
  r.latency.map((
    l,
  ) => [l.variant, l.latency.p50, l.latency.p95, l.latency.mean, l.tokens, l.items]);
const SIZE_HEADER = ["max_tokens", "tokens", "bytes", "items", "truncated"];
const sizeRows = (r: BackendResult) =>
  r.sizes.map((s) => [s.max_tokens, s.tokens, s.bytes, s.items, s.truncated ? "yes" : "no"]);

function markdown(
  command: string,
  json: string,
  machine: string,
  runs: number,
  results: BackendResult[],
): string {
  const parts = [
    "## Session brief",
    "",
    "What `get_session_brief` / `POST /memories/brief` costs (shared/brief): latency of one brief",
    `as the service computes it (${runs} per request kind, in alternating blocks of ${BLOCK}, so`,
    "the kinds share the machine's load alike), and its size per `max_tokens` for the whole",
    "request (project, repo, 5 paths and a task). Tokens are the brief's own estimate",
    "(characters / 4). The machine was shared with other engineers' builds and tests: compare the",
    "rows of one run, not the absolute figures.",
    "",
    "```sh",
    command,
    "```",
    "",
    `${machine} Raw figures: \`${json}\`.`,
  ];
  for (const r of results) {
    parts.push(
      "",
      `### ${r.backend}, ${r.rows} memories`,
      "",
      markdownTable(LATENCY_HEADER, latencyRows(r)),
      "",
      markdownTable(SIZE_HEADER, sizeRows(r)),
    );
  }
  return parts.join("\n");
}
