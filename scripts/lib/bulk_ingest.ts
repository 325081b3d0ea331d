/**
 * Bulk ingest over a deployment's REST API: many memories in few requests
 * (`POST /functions/v1/memories/import`, JSON Lines up to 1 MiB each, one rate-limit token per
 * request instead of one per memory), then waiting until every memory is searchable by meaning
 * (`GET /functions/v1/memories/projects`: pending_embeddings reaches 0). The eval's
 * `--ingest api` and benchmarks load data this way, so they neither hit the rate limiter nor
 * need it turned off, and they measure the real save → embed path.
 */
import type { ListedProject } from "../../shared/memory/types.ts";

export interface IngestMemory {
  /** Kept as the memory's id (any uuid), so callers can map results back. */
  id: string;
  content: string;
  title?: string;
  kind?: string;
  tags?: string[];
  /** Project slug; created on import. Default: "default". */
  project?: string;
}

export interface IngestResult {
  requests: number;
  inserted: number;
  seconds: number;
}

/** Stays under the endpoint's 1 MiB body limit with room for multi-byte characters. */
const MAX_REQUEST_BYTES = 900_000;

const encoder = new TextEncoder();

/** One import line (the export format) for a memory written now. */
function importLine(m: IngestMemory, now: string): string {
  const project = m.project ?? "default";
  return JSON.stringify({
    id: m.id,
    project,
    project_name: project,
    kind: m.kind ?? "note",
    content: m.content,
    ...(m.title ? { title: m.title } : {}),
    tags: m.tags ?? [],
    created_at: now,
    updated_at: now,
  }) + "\n";
}

async function call(url: string, key: string, init: RequestInit = {}): Promise<unknown> {
  const res = await fetch(url, {
    ...init,
    headers: { authorization: `Bearer ${key}`, ...init.headers },
  });
  const body = await res.text();
  if (!res.ok) throw new Error(`${init.method ?? "GET"} ${url}: HTTP ${res.status} ${body}`);
  return JSON.parse(body);
}

/** Imports the memories in as few requests as the body limit allows. */
export async function bulkIngest(
  baseUrl: string,
  key: string,
  memories: IngestMemory[],
): Promise<IngestResult> {
  const started = performance.now();
  const endpoint = `${baseUrl.replace(/\/+$/, "")}/functions/v1/memories/import`;
  const now = new Date().toISOString();
  let body = "";
  let requests = 0;
  let inserted = 0;
  const flush = async () => {
    if (!body) return;
    const summary = await call(endpoint, key, {
      method: "POST",
      headers: { "content-type": "application/x-ndjson" },
      body,
    }) as { import: { inserted: number } };
    inserted += summary.import.inserted;
    requests++;
    body = "";
  };
  for (const m of memories) {
    const line = importLine(m, now);
    if (encoder.encode(body + line).length > MAX_REQUEST_BYTES) await flush();
    body += line;
  }
  await flush();
  return { requests, inserted, seconds: (performance.now() - started) / 1000 };
}

/**
 * Polls the caller's projects until none has memories pending embedding; returns the wait in
 * milliseconds. Throws after `timeoutMs`, naming what is still pending or failed.
 */
export async function waitUntilIndexed(
  baseUrl: string,
  key: string,
  opts: { timeoutMs?: number; pollMs?: number } = {},
): Promise<number> {
  const started = performance.now();
  const url = `${baseUrl.replace(/\/+$/, "")}/functions/v1/memories/projects`;
  for (;;) {
    const { projects } = await call(url, key) as { projects: ListedProject[] };
    const pending = projects.reduce((n, p) => n + p.pending_embeddings, 0);
    const failed = projects.reduce((n, p) => n + p.failed_embeddings, 0);
    const waited = performance.now() - started;
    if (pending === 0) {
      if (failed > 0) throw new Error(`${failed} memories failed to embed`);
      return waited;
    }
    if (waited > (opts.timeoutMs ?? 600_000)) {
      throw new Error(`${pending} memories still pending embedding after ${waited} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, opts.pollMs ?? 250));
  }
}
