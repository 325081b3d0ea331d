/**
 * CORS for the functions browsers call (dashboards on another origin, browser MCP clients).
 * Credentials travel in the Authorization header, never in cookies, so any origin may call:
 * a page can only use a key or token it already holds.
 */
const ALLOW_HEADERS = [
  "authorization",
  "content-type",
  "apikey",
  "x-client-info",
  "x-client-name",
  "x-client-version",
  "mcp-protocol-version",
  "mcp-session-id",
  "last-event-id",
].join(", ");

const EXPOSE_HEADERS = [
  "www-authenticate",
  "mcp-session-id",
  "retry-after",
  "ratelimit-limit",
  "ratelimit-remaining",
  "ratelimit-reset",
].join(", ");

const CORS_HEADERS: Record<string, string> = {
  "access-control-allow-origin": "*",
  "access-control-expose-headers": EXPOSE_HEADERS,
};

/** Answers preflights itself and adds the CORS headers to every other response. */
export function withCors(
  handler: (req: Request) => Promise<Response>,
): (req: Request) => Promise<Response> {
  return async (req) => {
    if (req.method === "OPTIONS" && req.headers.has("access-control-request-method")) {
      return new Response(null, {
        status: 204,
        headers: {
          ...CORS_HEADERS,
          "access-control-allow-methods": "GET, POST, PATCH, DELETE, OPTIONS",
          "access-control-allow-headers": ALLOW_HEADERS,
          "access-control-max-age": "86400",
        },
      });
    }
    const res = await handler(req);
    try {
      for (const [name, value] of Object.entries(CORS_HEADERS)) res.headers.set(name, value);
      return res;
    } catch {
      // Immutable headers (a fetched response passed through): copy once.
      const copy = new Response(res.body, res);
      for (const [name, value] of Object.entries(CORS_HEADERS)) copy.headers.set(name, value);
      return copy;
    }
  };
}
