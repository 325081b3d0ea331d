import { insightsQuerySchema, InsightsService } from "../analytics/insights.ts";
import type { AppContext } from "../app/context.ts";
import { createApiApp } from "./api_app.ts";
import { userOf, valid } from "./validate.ts";

/**
 * REST API of the `analytics` function, mounted where Supabase routes it: /analytics/…
 *   GET /analytics/insights?project=&days=   public.get_insights() as the caller
 * Authenticated like `memories` (API key or Supabase JWT); the 'read' scope suffices.
 */
export function createAnalyticsApi(ctx: AppContext) {
  const insights = new InsightsService(ctx.db);
  const app = createApiApp(ctx, { basePath: "/analytics" });

  app.get(
    "/insights",
    valid("query", insightsQuerySchema),
    async (c) => c.json(await insights.get(userOf(c), c.req.valid("query"))),
  );

  return app;
}
