import { type AnalyticsApiContext, createAnalyticsApi } from "../../http/analytics_api.ts";
import { createAuth } from "../auth.ts";
import { createLimiter } from "../cache.ts";
import { clientFacing } from "../client_facing.ts";
import type { EdgeFunction } from "../edge_function.ts";

/** Insights for dashboards: reads rollups as the caller; no embedder, no memory service. */
export const analytics: EdgeFunction<AnalyticsApiContext> = {
  context: (config, db) => ({
    db,
    auth: createAuth(config, db),
    rateLimiter: createLimiter(config),
  }),
  handler: (ctx) => {
    const app = createAnalyticsApi(ctx);
    return clientFacing("rest", async (req) => await app.fetch(req));
  },
};
