import { insightsQuerySchema, InsightsService } from "../analytics/insights.ts";
import type { Authenticator } from "../auth/authenticate.ts";
import type { RateLimiter } from "../cache/types.ts";
import type { Database } from "../db/types.ts";
import { createApiApp } from "./api_app.ts";
import { userOf, valid } from "./validate.ts";

/** What `analytics` uses: it reads rollups as the caller, so no embedder or memory service. */
export interface AnalyticsApiContext {
  db: Database;
  auth: Authenticator;
  rateLimiter: RateLimiter;
}

/**
 * REST API of the `analytics` function, mounted where Supabase routes it: /analytics/…
 *   GET /analytics/insights?project=&days=   public.get_insights() as the caller
 * Authenticated like `memories` (API key or Supabase JWT); the 'read' scope suffices.
 */
export function createAnalyticsApi(ctx: AnalyticsApiContext) {
  const insights = new InsightsService(ctx.db);
  const app = createApiApp(ctx, { basePath: "/analytics" });

  app.get(
    "/insights",
    valid("query", insightsQuerySchema),
    async (c) => c.json(await insights.get(userOf(c), c.req.valid("query"))),
  );

  return app;
}
