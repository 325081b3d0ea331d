import * as z from "zod";
import { asUser } from "../db/as_user.ts";
import type { Database } from "../db/types.ts";
import { resolveProject } from "../memory/projects.ts";
import { projectRef } from "../memory/schemas.ts";

export const MAX_INSIGHT_DAYS = 366;

/** GET /analytics/insights?project=&days= */
export const insightsQuerySchema = z.strictObject({
  project: projectRef.optional().describe(
    "Project ref (your slug, or a shared project's id); omit for all your activity.",
  ),
  days: z.coerce.number().int().min(1).max(MAX_INSIGHT_DAYS).default(30),
});
export type InsightsQuery = z.input<typeof insightsQuerySchema>;

export interface DaySeries {
  day: string;
  searches: number;
  zero_result_searches: number;
  hit_rate: number | null;
  cache_hit_rate: number | null;
  latency_p50_ms: number | null;
  latency_p95_ms: number | null;
  saves: number;
  updates: number;
  deletes: number;
}

export interface MemoryRef {
  id: string;
  title: string | null;
  content: string;
  project: string;
}

/** public.get_insights() as JSON (see migration 20261124000500_analytics.sql). */
export interface Insights {
  project_id: string | null;
  days: number;
  from: string;
  to: string;
  last_rollup_at: string | null;
  /** Days of the window counted live from raw events (not rolled up yet), oldest first. */
  live_days: string[];
  totals: Omit<DaySeries, "day"> & { cache_hits: number };
  series: DaySeries[];
  top_queries: { query: string; count: number; zero_results: number }[];
  zero_result_queries: { query: string; count: number }[];
  most_hit_memories: (MemoryRef & { hits: number })[];
  suggestions: {
    repeated_zero_result_queries: { query: string; count: number; last_day: string }[];
    stale_memories: (MemoryRef & { created_at: string; last_accessed_at: string | null })[];
    stale_memories_total: number;
    stale_after_days: number;
    duplicate_clusters: {
      method: "embedding" | "title";
      similarity: number;
      memories: MemoryRef[];
    }[];
  };
}

/** Insights for one user, through the RPC as that user (row level security applies). */
export class InsightsService {
  constructor(readonly db: Database) {}

  async get(userId: string, query: InsightsQuery): Promise<Insights> {
    const { project, days } = insightsQuerySchema.parse(query);
    return await asUser(this.db, userId, async (tx) => {
      // Refs resolve as everywhere else (a slug is always your own project); an unknown one is a 404.
      const projectId = project === undefined
        ? null
        : (await resolveProject(tx, userId, project)).id;
      const [row] = await tx.query<{ insights: Insights }>(
        "select public.get_insights($1::uuid, $2::int) as insights",
        [projectId, days],
      );
      return row.insights;
    });
  }
}
