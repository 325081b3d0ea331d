import type { AppContext } from "../app/context.ts";
import { McpServer, WebStandardStreamableHTTPServerTransport } from "../mcp/sdk.ts";
import { registerMemoryTools } from "../mcp/tools.ts";
import { errorResponse } from "./errors.ts";

export const MCP_SERVER_INFO = { name: "code-memory", version: "0.1.0" };

const INSTRUCTIONS =
  "Code Memory is your long-term memory across sessions and projects. Search it before starting work on something you may have seen before; save decisions, fixes, conventions and answers worth recalling.";

/**
 * The `mcp` function: stateless Streamable HTTP. Every POST gets a fresh server bound to the
 * authenticated caller, so no session state is kept between requests (scales horizontally).
 */
export function createMcpHandler(ctx: AppContext) {
  return async (req: Request): Promise<Response> => {
    try {
      const principal = await ctx.auth.authenticate(req);
      const server = new McpServer(MCP_SERVER_INFO, { instructions: INSTRUCTIONS });
      registerMemoryTools(server, ctx.service, principal);
      const transport = new WebStandardStreamableHTTPServerTransport({
        sessionIdGenerator: undefined,
        enableJsonResponse: true,
      });
      await server.connect(transport);
      return await transport.handleRequest(req);
    } catch (err) {
      return errorResponse(err);
    }
  };
}
