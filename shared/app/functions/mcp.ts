import { createMcpHandler } from "../../http/mcp_handler.ts";
import { clientFacing } from "../client_facing.ts";
import { type AppContext, createContext } from "../context.ts";
import type { EdgeFunction } from "../edge_function.ts";

/** The MCP endpoint (Streamable HTTP, stateless): every memory tool, so the whole context. */
export const mcp: EdgeFunction<AppContext> = {
  context: (config, db) => createContext(config, db),
  handler: (ctx) => clientFacing("mcp", createMcpHandler(ctx)),
};
