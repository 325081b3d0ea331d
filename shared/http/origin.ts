import type { Config } from "../config.ts";
import { AppError } from "../errors.ts";

const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);

/**
 * Which browser pages may call the MCP endpoint (the MCP spec: servers MUST validate Origin,
 * against DNS rebinding, where a page of another site reaches a local server under its own
 * name). Allowed: requests without an Origin (agents, CLIs, servers), pages on a loopback
 * address (the embedded stack's own dashboard, local tools), PUBLIC_URL's origin, and those
 * listed in ALLOWED_ORIGINS ("*": any). The Host header is never trusted for this: under DNS
 * rebinding it carries the attacker's name too.
 */
export function originAllowed(config: Config, origin: string | null): boolean {
  if (origin === null) return true;
  if (config.ALLOWED_ORIGINS.includes("*") || config.ALLOWED_ORIGINS.includes(origin)) return true;
  if (!URL.canParse(origin)) return false; // "null" (sandboxed frames, files) and garbage
  const url = new URL(origin);
  if (LOOPBACK.has(url.hostname)) return true;
  return config.PUBLIC_URL !== undefined && new URL(config.PUBLIC_URL).origin === url.origin;
}

/** 403 for a request from a page whose origin is not allowed. */
export function forbiddenOrigin(origin: string): AppError {
  return new AppError({
    status: 403,
    code: "forbidden_origin",
    message: `Origin '${
      origin.slice(0, 200)
    }' may not call this endpoint: browser pages need an allowed origin (ALLOWED_ORIGINS)`,
  });
}
