import { createMcpHandler } from "../http/mcp_handler.ts";
import { createMemoriesApi } from "../http/memories_api.ts";
import type { AppContext } from "./context.ts";

export type Handler = (req: Request) => Promise<Response>;

/** Every Edge Function by name; functions/<name>/index.ts and the embedded stack both use it. */
export const FUNCTIONS: Record<string, (ctx: AppContext) => Handler> = {
  memories: (ctx) => {
    const app = createMemoriesApi(ctx);
    return async (req) => await app.fetch(req);
  },
  mcp: createMcpHandler,
};

export type FunctionName = keyof typeof FUNCTIONS;
