/**
 * Requests for the HTTP benchmarks and the soak, from the code-memory generator: saves of
 * generated memories, and searches that are distinct per index (so each one misses the results
 * cache the first time). Projects are the `svc-<n>` ones loadBenchData and benchUser create.
 */
import { createApiKey, ensureUser } from "../../../shared/auth/api_keys.ts";
import type { Database } from "../../../shared/db/types.ts";
import type { SaveMemoryInput } from "../../../shared/memory/schemas.ts";
import { MemoryService } from "../../../shared/memory/service.ts";
import type { SearchInput } from "../../../shared/search/schemas.ts";
import { generateMemory, generateQueries } from "./code_memory_generator.ts";

export const BENCH_PROJECTS = 10;

/** Memory `i` of the generator as a save request, in project svc-<i mod BENCH_PROJECTS>. */
export function saveInput(i: number, seed = 42): SaveMemoryInput {
  const { age_days: _, ...memory } = generateMemory(i, seed);
  return { ...memory, project: `svc-${i % BENCH_PROJECTS}` };
}

/** Narrowings agents use, from none to a few percent of the rows. */
const FILTERS: Partial<SearchInput>[] = [
  {},
  { kinds: ["bug"] },
  { project: "svc-1" },
  { tags: ["postgres"] },
  { kinds: ["decision", "convention"] },
  { project: ["svc-2", "svc-7"] },
  { tags: ["redis"] },
  { project: "svc-4", kinds: ["solution"] },
];
/** The generator's templates yield some 600 distinct queries; stay well inside. */
const MAX_QUERIES = 500;

/**
 * Search requests by index, the first `distinct` of them all different (at most 4000): request
 * i is query i mod Q under one of eight filters (Q = distinct / 8); later indexes repeat.
 */
export function searchRequests(distinct: number, seed = 7): (i: number) => SearchInput {
  const count = Math.ceil(distinct / FILTERS.length);
  if (count > MAX_QUERIES) {
    throw new Error(`at most ${MAX_QUERIES * FILTERS.length} distinct searches, not ${distinct}`);
  }
  const queries = generateQueries(count, seed);
  return (i) => ({
    query: queries[i % queries.length],
    ...FILTERS[Math.floor(i / queries.length) % FILTERS.length],
  });
}

/**
 * Of `requests`, the share of one of `slots` runs (a transport, a concurrency level): its request
 * j is every `slots`-th one, so that each run sees the same mix of queries and filters (they come
 * in blocks) and none repeats another's.
 */
export const slotOf = <T>(requests: (i: number) => T, slots: number, slot: number) => (j: number) =>
  requests(j * slots + slot);

/** A new user with the svc-<n> projects and a read-write API key. */
export async function benchUser(db: Database): Promise<{ userId: string; key: string }> {
  const userId = await ensureUser(db, `bench-${crypto.randomUUID()}@bench.local`);
  const service = new MemoryService(db);
  for (let p = 0; p < BENCH_PROJECTS; p++) {
    await service.createProject(userId, { name: `Service ${p}`, slug: `svc-${p}` });
  }
  const { key } = await createApiKey(db, userId, { name: "bench" });
  return { userId, key };
}
