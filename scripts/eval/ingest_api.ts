/**
 * `deno task eval --ingest api`: the set goes in the way a bulk importer's data does. The
 * embedded stack runs over the eval's database with the local model; one user with an API key
 * imports every memory through REST (scripts/lib/bulk_ingest.ts) and waits until its projects
 * report nothing pending embedding. The figures: requests, import time, time until everything
 * is searchable by meaning, and memories (and chunks) embedded per second.
 */
import { createApiKey, ensureUser } from "../../shared/auth/api_keys.ts";
import { loadConfig } from "../../shared/config.ts";
import type { Database } from "../../shared/db/types.ts";
import type { EvalMemory } from "../../shared/eval/dataset.ts";
import { MemoryService } from "../../shared/memory/service.ts";
import { bulkIngest, waitUntilIndexed } from "../lib/bulk_ingest.ts";
import { startStack } from "../local/stack.ts";
import type { Fixture } from "./fixture.ts";

export interface IngestStats {
  model: string;
  memories: number;
  chunks: number;
  requests: number;
  import_s: number;
  /** From the first import request until no memory is pending embedding. */
  searchable_s: number;
  memories_per_s: number;
  texts_per_s: number;
}

export async function ingestThroughApi(
  db: Database,
  memories: EvalMemory[],
): Promise<{ fixture: Fixture; stats: IngestStats }> {
  // Rate limits stay on (the default budget): the import is a handful of requests.
  const config = loadConfig({ EMBEDDING_PROVIDER: "local" });
  const stack = await startStack({ config, db, port: 0, hostname: "127.0.0.1" });
  try {
    const userId = await ensureUser(db, `eval-${crypto.randomUUID()}@eval.local`);
    const { key } = await createApiKey(db, userId);
    const rowId = new Map(memories.map((m) => [m.id, crypto.randomUUID()]));
    const started = performance.now();
    const imported = await bulkIngest(
      stack.url,
      key,
      memories.map(({ id, ...m }) => ({ ...m, id: rowId.get(id)! })),
    );
    if (imported.inserted !== memories.length) {
      throw new Error(`imported ${imported.inserted} of ${memories.length} memories`);
    }
    await waitUntilIndexed(stack.url, key);
    const searchable = (performance.now() - started) / 1000;
    const [{ chunks }] = await db.query<{ chunks: number }>(
      `select count(*)::int as chunks from private.memory_chunks c
       join public.memories m on m.id = c.memory_id where m.user_id = $1`,
      [userId],
    );
    const stats: IngestStats = {
      model: stack.ctx.embedder.model,
      memories: memories.length,
      chunks,
      requests: imported.requests,
      import_s: imported.seconds,
      searchable_s: searchable,
      memories_per_s: memories.length / searchable,
      texts_per_s: (memories.length + chunks) / searchable,
    };
    const evalId = new Map([...rowId].map(([e, r]) => [r, e]));
    return { fixture: { userId, service: new MemoryService(db), rowId, evalId }, stats };
  } finally {
    await stack.close();
  }
}
