import type { Config } from "../config.ts";
import { authIssuer } from "./jwt.ts";

/**
 * The mcp function as an OAuth 2.0 protected resource (RFC 9728). Supabase only routes
 * /functions/v1/<name>/… to a function, so the metadata lives under the function itself and
 * every 401 points there; the embedded stack's gateway also serves the RFC's root locations.
 */

export const MCP_PATH = "/functions/v1/mcp";
export const RESOURCE_METADATA_SUFFIX = "/.well-known/oauth-protected-resource";
/** Scopes Supabase's OAuth 2.1 server issues; data access itself follows project roles. */
export const OAUTH_SCOPES = ["openid", "email", "profile"];

const HOST = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/**
 * Where clients reach the functions: PUBLIC_URL when configured, else the origin the client
 * used (honouring a proxy's X-Forwarded-Proto/Host). Only a well-formed host is echoed back.
 */
export function publicBaseUrl(config: Pick<Config, "PUBLIC_URL">, req: Request): string {
  if (config.PUBLIC_URL) {
    return config.PUBLIC_URL.replace(/\/+$/, "").replace(/\/functions\/v1$/, "");
  }
  const url = new URL(req.url);
  const first = (name: string) => req.headers.get(name)?.split(",")[0].trim();
  const proto = first("x-forwarded-proto");
  const host = first("x-forwarded-host") ?? req.headers.get("host") ?? url.host;
  return `${proto === "https" || proto === "http" ? proto : url.protocol.slice(0, -1)}://${
    HOST.test(host) ? host : url.host
  }`;
}

export const mcpResourceUrl = (base: string) => `${base}${MCP_PATH}`;
export const resourceMetadataUrl = (base: string) =>
  `${mcpResourceUrl(base)}${RESOURCE_METADATA_SUFFIX}`;

/** The RFC 9728 document for the mcp function. */
export function protectedResourceMetadata(
  config: Pick<Config, "SUPABASE_URL" | "DOCS_URL">,
  base: string,
): Record<string, unknown> {
  return {
    resource: mcpResourceUrl(base),
    ...(config.SUPABASE_URL ? { authorization_servers: [authIssuer(config.SUPABASE_URL)] } : {}),
    bearer_methods_supported: ["header"],
    scopes_supported: OAUTH_SCOPES,
    resource_name: "Code Memory",
    ...(config.DOCS_URL ? { resource_documentation: config.DOCS_URL } : {}),
  };
}

const CORS = {
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "GET, OPTIONS",
  "access-control-allow-headers": "*",
};

/** Serves the document (public, CORS-enabled so browser-based clients can read it). */
export function resourceMetadataResponse(
  config: Pick<Config, "PUBLIC_URL" | "SUPABASE_URL" | "DOCS_URL">,
  req: Request,
): Response {
  if (req.method === "OPTIONS") return new Response(null, { status: 204, headers: CORS });
  if (req.method !== "GET" && req.method !== "HEAD") {
    return Response.json(
      { error: { code: "method_not_allowed", message: "Use GET" } },
      { status: 405, headers: { ...CORS, allow: "GET, OPTIONS" } },
    );
  }
  return Response.json(protectedResourceMetadata(config, publicBaseUrl(config, req)), {
    headers: { ...CORS, "cache-control": "public, max-age=300" },
  });
}
