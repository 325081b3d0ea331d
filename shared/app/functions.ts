import { type Channel, withRequestSource } from "../analytics/request_source.ts";
import { createEmbedHandler } from "../embed/handler.ts";
import { createAnalyticsApi } from "../http/analytics_api.ts";
import { withCors } from "../http/cors.ts";
import { createMcpHandler } from "../http/mcp_handler.ts";
import { createMemoriesApi } from "../http/memories_api.ts";
import type { AppContext } from "./context.ts";

export type Handler = (req: Request) => Promise<Response>;

/** What browsers and agents call: CORS, and the request's source for analytics events. */
const clientFacing = (channel: Channel, handler: Handler): Handler =>
  withCors(withRequestSource(channel, handler));

/** Every Edge Function by name; functions/<name>/index.ts and the embedded stack both use it. */
export const FUNCTIONS: Record<string, (ctx: AppContext) => Handler> = {
  memories: (ctx) => {
    const app = createMemoriesApi(ctx);
    return clientFacing("rest", async (req) => await app.fetch(req));
  },
  mcp: (ctx) => clientFacing("mcp", createMcpHandler(ctx)),
  embed: createEmbedHandler,
  analytics: (ctx) => {
    const app = createAnalyticsApi(ctx);
    return clientFacing("rest", async (req) => await app.fetch(req));
  },
};

export type FunctionName = keyof typeof FUNCTIONS;
