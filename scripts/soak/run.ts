/**
 * The soak, shared by `deno task soak` and tests/soak_test.ts: `clients` closed-loop clients of
 * one user hammer a running stack for `seconds` with a mix of saves, searches, gets and
 * updates, each through REST or MCP at random (seeded). Then it checks that nothing failed,
 * every acknowledged write is stored with its exact content and embedded, and memory did not
 * keep growing. `failures` lists what went wrong; empty means the soak passed.
 */
import type { Database } from "../../shared/db/types.ts";
import { memoryClient, TRANSPORTS } from "../bench/lib/api_client.ts";
import { waitForEmbedded } from "../bench/lib/bench_stack.ts";
import { prng } from "../bench/lib/code_memory_generator.ts";
import { type LoadResult, type Operation, runLoad } from "../bench/lib/load_generator.ts";
import { benchUser, saveInput, searchRequests } from "../bench/lib/workload.ts";
import { checkMemoryGrowth, type GrowthCheck } from "./memory_growth.ts";
import { verifySaved } from "./verify_saved.ts";

export interface SoakOptions {
  /** A running stack (hash embeddings, rate limit off) and its database. */
  url: string;
  db: Database;
  seconds: number;
  clients: number;
  seed?: number;
}

export interface SoakReport {
  seconds: number;
  clients: number;
  load: LoadResult;
  /** Memories saved and updates acknowledged. */
  saved: number;
  updated: number;
  /** How long embedding took to catch up after the last write. */
  embed_backlog_ms: number;
  growth: GrowthCheck[];
  failures: string[];
}

/** Share of each operation; the rest are searches. */
const MIX = { save: 0.25, get: 0.2, update: 0.15 };
/**
 * Distinct searches before they repeat (repeats may be served from the results cache). Few
 * enough that the results cache holds them all early on: its filling up is not a leak.
 */
const DISTINCT_SEARCHES = 240;
/** Memory samples over the run, each after a full garbage collection. */
const MEMORY_SAMPLES = 30;

export async function runSoak(opts: SoakOptions): Promise<SoakReport> {
  const { db, seconds, clients, seed = 1 } = opts;
  const { userId, key } = await benchUser(db);
  const transports = TRANSPORTS.map((t) => [t, memoryClient(t, opts.url, key)] as const);
  const searches = searchRequests(DISTINCT_SEARCHES, seed);
  // Each client updates and reads back only its own memories, one request at a time, so the
  // content it last saw acknowledged is what the server must return.
  const owned = Array.from({ length: clients }, () => new Map<string, string>());
  let nextMemory = 0;
  let saved = 0;
  let updated = 0;

  const next = (i: number, worker: number): Operation => {
    const rand = prng(seed * 1_000_003 + i);
    const [transport, client] = transports[rand() < 0.5 ? 0 : 1];
    const mine = owned[worker];
    const pickMine = () => [...mine.keys()][Math.floor(rand() * mine.size)];
    const r = rand();
    const op = (kind: string, run: () => Promise<unknown>) => ({
      kind: `${kind} ${transport}`,
      run,
    });
    if (r < MIX.save || mine.size === 0) {
      const input = saveInput(nextMemory++, seed);
      return op("save", async () => {
        const { memory, duplicate } = await client.save(input);
        if (duplicate || memory.content !== input.content) throw new Error("save not stored");
        mine.set(memory.id, memory.content);
        saved++;
      });
    }
    if (r < MIX.save + MIX.get) {
      const id = pickMine();
      return op("get", async () => {
        const memory = await client.get(id);
        if (memory.content !== mine.get(id)) throw new Error(`get ${id}: stale content`);
      });
    }
    if (r < MIX.save + MIX.get + MIX.update) {
      const id = pickMine();
      const content = saveInput(nextMemory++, seed).content;
      return op("update", async () => {
        const memory = await client.update(id, { content });
        if (memory.content !== content) throw new Error(`update ${id} not applied`);
        mine.set(id, content);
        updated++;
      });
    }
    const request = searches(i);
    return op("search", async () => {
      const { hits } = await client.search(request);
      if (!Array.isArray(hits)) throw new Error("search without hits");
    });
  };

  const load = await runLoad({
    concurrency: clients,
    durationMs: seconds * 1000,
    next,
    sampleEveryMs: (seconds * 1000) / MEMORY_SAMPLES,
    gcBeforeSample: true,
  });

  const failures = load.error_messages.map((m) => `error: ${m}`);
  if (load.errors > load.error_messages.length) {
    failures.push(`… ${load.errors} failed requests in all`);
  }
  const embed_backlog_ms = await waitForEmbedded(db, userId).catch((err) => {
    failures.push(`embedding: ${err.message}`);
    return -1;
  });
  const expected = new Map(owned.flatMap((m) => [...m]));
  failures.push(...await verifySaved(db, expected));
  const growth = checkMemoryGrowth(load.memory);
  for (const g of growth.filter((g) => !g.ok)) {
    failures.push(
      `memory: ${g.metric} grew from ${g.middle_mb} MB to ${g.last_mb} MB (allowed +${g.allowed_mb} MB)`,
    );
  }
  return { seconds, clients, load, saved, updated, embed_backlog_ms, growth, failures };
}
