/**
 * Invalidation of cached search results by generation counters.
 *
 * Every write that can change search results increments the writer's user counter and the
 * counter of each project it touched (`bumpGenerations`). A cached result records the counters
 * it was computed under: the user's, and those of every project it searched. It is served only
 * while all of them are unchanged, so a write anywhere in that scope (by the user, or by a
 * teammate in a shared project) retires it without anyone enumerating keys.
 */
import type { Cache } from "../cache/types.ts";
import type { Queryable } from "../db/types.ts";

const userKey = (userId: string) => `gen:u:${userId}`;
const projectKey = (projectId: string) => `gen:p:${projectId}`;

/** Counters a cached result depends on; a counter never incremented reads as 0. */
export interface Generations {
  user: number;
  projects: Record<string, number>;
}

/**
 * Retires cached search results that may include these projects' memories (and all of the
 * user's, when given). Call it after any write that changes what search returns: saves,
 * updates, deletes, imports, and the embed worker storing vectors (semantic results change).
 * Never throws: through createCache() a failed increment is remembered and replayed.
 */
export async function bumpGenerations(
  cache: Cache,
  userId: string | null,
  projectIds: readonly string[],
): Promise<void> {
  const keys = [...new Set(projectIds)].map(projectKey);
  if (userId) keys.push(userKey(userId));
  await Promise.all(keys.map((k) => cache.incr(k)));
}

/**
 * Retires the user's cached searches and those over every project they own: an import lands
 * rows there without going through the memory service's per-write notifications.
 */
export async function retireOwnedSearches(
  cache: Cache,
  db: Queryable,
  userId: string,
): Promise<void> {
  const owned = await db.query<{ id: string }>(
    "select id from public.projects where owner_id = $1",
    [userId],
  );
  await bumpGenerations(cache, userId, owned.map((p) => p.id));
}

/** Current counters of a user and projects, in one round trip. */
export async function readGenerations(
  cache: Cache,
  userId: string,
  projectIds: readonly string[],
): Promise<Generations> {
  const ids = [...new Set(projectIds)];
  const values = await cache.mget<number>(userKey(userId), ...ids.map(projectKey));
  const n = (v: number | null) => Number(v ?? 0);
  return {
    user: n(values[0]),
    projects: Object.fromEntries(ids.map((id, i) => [id, n(values[i + 1])])),
  };
}

/** True when `current` has every counter of `recorded` at the same value. */
export function sameGenerations(recorded: Generations, current: Generations): boolean {
  if (recorded.user !== current.user) return false;
  return Object.entries(recorded.projects).every(([id, g]) => current.projects[id] === g);
}
