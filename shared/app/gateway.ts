import {
  MCP_PATH,
  RESOURCE_METADATA_SUFFIX,
  resourceMetadataResponse,
} from "../auth/resource_metadata.ts";
import type { AppContext } from "./context.ts";
import { FUNCTIONS, type Handler } from "./functions.ts";

const PREFIX = "/functions/v1/";

/**
 * Routes /functions/v1/<name>/… to the function as Supabase does: the function sees the path
 * without the /functions/v1 prefix (e.g. /memories/123).
 */
export function createGateway(ctx: AppContext): Handler {
  const handlers = new Map(
    Object.entries(FUNCTIONS).map(([name, fn]) => [name, fn.handler(ctx)]),
  );
  return async (req) => {
    const url = new URL(req.url);
    if (url.pathname === "/health") return Response.json({ ok: true });
    // RFC 9728 root locations for the mcp function (Supabase only serves the in-function one).
    if (
      url.pathname === RESOURCE_METADATA_SUFFIX ||
      url.pathname === `${RESOURCE_METADATA_SUFFIX}${MCP_PATH}`
    ) return resourceMetadataResponse(ctx.config, req);
    if (!url.pathname.startsWith(PREFIX)) return notFound(url.pathname);
    const rest = url.pathname.slice(PREFIX.length - 1);
    const handler = handlers.get(rest.split("/")[1]);
    if (!handler) return notFound(url.pathname);
    url.pathname = rest;
    return await handler(new Request(url, req));
  };
}

const notFound = (path: string) =>
  Response.json({ error: { code: "not_found", message: `No function at ${path}` } }, {
    status: 404,
  });
