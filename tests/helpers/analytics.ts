/**
 * Analytics test helpers: a seeded event history written straight into the event tables (as
 * the recorder would), the aggregates the rollup must compute from it, and small SQL helpers.
 */
import type { Insights } from "../../shared/analytics/insights.ts";
import { asUser } from "../../shared/db/as_user.ts";
import type { Database, Queryable } from "../../shared/db/types.ts";

/** Deterministic PRNG: the same seed gives the same history on every run. */
import { prng as seededRandom } from "../../scripts/bench/lib/code_memory_generator.ts";
export { seededRandom };

/** PostgreSQL's percentile_cont: linear interpolation between the closest ranks. */
export function percentileCont(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const pos = p * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** A UTC date `offset` days from today, as YYYY-MM-DD. */
export function utcDay(offset = 0): string {
  const d = new Date();
  d.setUTCDate(d.getUTCDate() + offset);
  return d.toISOString().slice(0, 10);
}

export interface SearchRow {
  user_id: string;
  project_ids: string[] | null;
  query: string;
  mode: string;
  result_count: number;
  top_score: number | null;
  latency_ms: number;
  cache_hit: boolean;
  hit_ids: string[];
  hit_project_ids: string[];
  created_at: string;
  channel?: string;
  client_name?: string;
}

export interface MemoryEventRow {
  user_id: string;
  project_id: string;
  memory_id: string;
  action: "save" | "update" | "delete";
  created_at: string;
}

export async function insertSearchEvents(db: Queryable, rows: SearchRow[]): Promise<void> {
  if (!rows.length) return;
  await db.query(
    `insert into public.search_events (user_id, project_ids, query, mode, result_count,
       top_score, latency_ms, cache_hit, hit_ids, hit_project_ids, created_at, channel,
       client_name)
     select * from jsonb_to_recordset($1::jsonb) as e(user_id uuid, project_ids uuid[],
       query text, mode text, result_count int, top_score float8, latency_ms real,
       cache_hit boolean, hit_ids uuid[], hit_project_ids uuid[], created_at timestamptz,
       channel text, client_name text)`,
    [rows.map((r) => ({ channel: null, client_name: null, ...r }))],
  );
}

export async function insertMemoryEvents(db: Queryable, rows: MemoryEventRow[]): Promise<void> {
  if (!rows.length) return;
  await db.query(
    `insert into public.memory_events (user_id, project_id, memory_id, action, created_at)
     select * from jsonb_to_recordset($1::jsonb) as e(user_id uuid, project_id uuid,
       memory_id uuid, action text, created_at timestamptz)`,
    [rows],
  );
}

export interface HistorySpec {
  userId: string;
  /** Searches limited to this project (a third of them); the rest are unscoped. */
  projectId: string;
  /** Memories that searches return: [memory id, its project id]. */
  hitPool: [string, string][];
  day: string;
  searches: number;
  seed: number;
}

const QUERIES = [
  "deploy edge functions",
  "Deploy Edge Functions", // same query, other case: grouped with the one above
  "postgres connection pool",
  "rls policy for teams",
  "hnsw index tuning",
  "why is ci slow",
  "kubernetes helm chart", // never found
];

/** A day of searches: random but fixed by the seed, timestamps spread over the UTC day. */
export function generateSearches(spec: HistorySpec): SearchRow[] {
  const rand = seededRandom(spec.seed);
  const pick = <T>(list: T[]) => list[Math.floor(rand() * list.length)];
  const rows: SearchRow[] = [];
  for (let i = 0; i < spec.searches; i++) {
    // Skewed towards the first queries, so the top list has a clear order.
    const query = QUERIES[Math.floor(rand() ** 2 * QUERIES.length)];
    const zero = query.startsWith("kubernetes") || rand() < 0.1;
    const hits = zero
      ? []
      : Array.from({ length: 1 + Math.floor(rand() * 3) }, () => pick(spec.hitPool));
    const unique = [...new Map(hits.map((h) => [h[0], h])).values()];
    const seconds = Math.floor((i + rand()) * 86_000 / spec.searches);
    rows.push({
      user_id: spec.userId,
      project_ids: i % 3 === 0 ? [spec.projectId] : null,
      query,
      mode: pick(["hybrid", "keyword", "semantic"]),
      result_count: unique.length,
      top_score: unique.length ? Math.round(rand() * 1000) / 1000 : null,
      // Whole milliseconds: exact in `real`, so percentiles compare exactly.
      latency_ms: 5 + Math.floor(rand() * 400),
      cache_hit: rand() < 0.3,
      hit_ids: unique.map((h) => h[0]),
      hit_project_ids: unique.map((h) => h[1]),
      created_at: new Date(Date.parse(`${spec.day}T00:00:00Z`) + seconds * 1000).toISOString(),
    });
  }
  return rows;
}

export interface ExpectedStats {
  searches: number;
  zero_result_searches: number;
  cache_hits: number;
  cache_hit_rate: number | null;
  latency_p50_ms: number | null;
  latency_p95_ms: number | null;
  top_queries: { query: string; count: number; zero_results: number }[];
  zero_result_queries: { query: string; count: number }[];
  most_hit_memories: { memory_id: string; hits: number }[];
}

const byCountThen = <T>(count: (t: T) => number, key: (t: T) => string) => (a: T, b: T) =>
  count(b) - count(a) || (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);

/** What the rollup must produce from `rows` (searches) and `hits` (memory, counted per key). */
export function expectedStats(rows: SearchRow[], hitFilter: (projectId: string) => boolean) {
  const groups = new Map<string, { query: string; count: number; zero_results: number }>();
  for (const r of rows) {
    const g = groups.get(r.query.toLowerCase()) ?? { query: r.query, count: 0, zero_results: 0 };
    if (r.query < g.query) g.query = r.query; // min(query collate "C")
    g.count++;
    if (r.result_count === 0) g.zero_results++;
    groups.set(r.query.toLowerCase(), g);
  }
  const queries = [...groups.values()];
  const hits = new Map<string, number>();
  for (const r of rows) {
    r.hit_ids.forEach((id, i) => {
      if (hitFilter(r.hit_project_ids[i])) hits.set(id, (hits.get(id) ?? 0) + 1);
    });
  }
  const cacheHits = rows.filter((r) => r.cache_hit).length;
  const latencies = rows.map((r) => r.latency_ms);
  return {
    searches: rows.length,
    zero_result_searches: rows.filter((r) => r.result_count === 0).length,
    cache_hits: cacheHits,
    cache_hit_rate: rows.length ? cacheHits / rows.length : null,
    latency_p50_ms: percentileCont(latencies, 0.5),
    latency_p95_ms: percentileCont(latencies, 0.95),
    top_queries: queries.sort(byCountThen((q) => q.count, (q) => q.query)).slice(0, 10),
    zero_result_queries: queries.filter((q) => q.zero_results > 0)
      .map((q) => ({ query: q.query, count: q.zero_results }))
      .sort(byCountThen((q) => q.count, (q) => q.query)).slice(0, 10),
    most_hit_memories: [...hits].map(([memory_id, n]) => ({ memory_id, hits: n }))
      .sort(byCountThen((h) => h.hits, (h) => h.memory_id)).slice(0, 10),
  } satisfies ExpectedStats;
}

/** The rollup rows of a day for the given keys, without computed_at (it changes every run). */
export async function dailyRows(
  db: Database,
  day: string,
  userIds: string[],
  projectIds: string[],
): Promise<Record<string, unknown>[]> {
  return [
    ...await db.query(
      `select d.day::text, d.user_id, d.project_id, d.searches, d.zero_result_searches,
       d.cache_hits, d.cache_hit_rate, d.latency_p50_ms, d.latency_p95_ms, d.saves, d.updates,
       d.deletes, d.top_queries, d.zero_result_queries, d.most_hit_memories,
       d.never_hit_memories, d.never_hit_count
     from public.analytics_daily d
     where d.day = $1::date and (d.user_id = any($2::uuid[]) or d.project_id = any($3::uuid[]))
     order by d.user_id nulls last, d.project_id nulls first`,
      [day, userIds, projectIds],
    ),
  ];
}

export async function rollup(db: Queryable, day: string): Promise<number> {
  const [row] = await db.query<{ n: number }>("select analytics.rollup($1::date) as n", [day]);
  return Number(row.n);
}

/** public.get_insights() as the user: their own activity (projectId null), or the project's. */
export const insightsAs = (db: Database, userId: string, projectId: string | null, days = 7) =>
  asUser(
    db,
    userId,
    async (tx) =>
      (await tx.query<{ i: Insights }>("select public.get_insights($1::uuid, $2::int) as i", [
        projectId,
        days,
      ]))[0].i,
  );
