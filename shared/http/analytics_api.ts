import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { insightsQuerySchema, InsightsService } from "../analytics/insights.ts";
import type { Authenticator } from "../auth/authenticate.ts";
import type { RateLimiter } from "../cache/types.ts";
import type { Database } from "../db/types.ts";
import { badRequest } from "../errors.ts";
import { errorResponse } from "./errors.ts";
import { enforceRateLimit } from "./rate_limit.ts";
import { type ApiEnv, userOf, valid } from "./validate.ts";

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
  const app = new Hono<ApiEnv>().basePath("/analytics");

  app.onError((err) =>
    errorResponse(
      err instanceof HTTPException && err.status < 500
        ? badRequest(err.message || "Bad request")
        : err,
    )
  );
  app.notFound((c) =>
    c.json({ error: { code: "not_found", message: `No route ${c.req.method} ${c.req.path}` } }, 404)
  );
  app.use("*", async (c, next) => {
    c.set("principal", await ctx.auth.authenticate(c.req.raw));
    await enforceRateLimit(ctx.rateLimiter, c.get("principal"));
    await next();
  });

  app.get(
    "/insights",
    valid("query", insightsQuerySchema),
    async (c) => c.json(await insights.get(userOf(c), c.req.valid("query"))),
  );

  return app;
}
