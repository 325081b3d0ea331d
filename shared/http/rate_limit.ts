import type { Principal } from "../auth/authenticate.ts";
import type { RateLimiter, RateLimitResult } from "../cache/types.ts";
import { AppError } from "../errors.ts";
import { errorResponse } from "./errors.ts";

/**
 * Rate limits apply per user, whatever credential they use: minting more API keys does not buy
 * more requests, and every agent of one person shares one budget.
 */
const identifier = (principal: Principal) => `user:${principal.userId}`;

/** 429 with Retry-After (seconds, RFC 9110) and the draft RateLimit-* headers. */
export function rateLimited(result: RateLimitResult, now = Date.now()): AppError {
  const seconds = Math.max(1, Math.ceil((result.reset - now) / 1000));
  return new AppError({
    status: 429,
    code: "rate_limited",
    message:
      `Too many requests: the limit is ${result.limit} operations per window. Retry in ${seconds} s.`,
    details: { limit: result.limit, retry_after_seconds: seconds },
    headers: {
      "Retry-After": String(seconds),
      "RateLimit-Limit": String(result.limit),
      "RateLimit-Remaining": "0",
      "RateLimit-Reset": String(seconds),
    },
  });
}

/**
 * Counts `operations` (a REST request is one; an MCP request one per JSON-RPC message, so every
 * tool call counts however they are framed); the 429 AppError when the caller is over their
 * limit, else null.
 */
export async function checkRateLimit(
  limiter: RateLimiter,
  principal: Principal,
  operations = 1,
): Promise<AppError | null> {
  const result = await limiter.limit(identifier(principal), operations);
  return result.success ? null : rateLimited(result);
}

/** checkRateLimit that throws the 429. */
export async function enforceRateLimit(limiter: RateLimiter, principal: Principal): Promise<void> {
  const limited = await checkRateLimit(limiter, principal);
  if (limited) throw limited;
}

/**
 * The MCP endpoint's answer to a rate-limited request. A single `tools/call` gets a normal
 * JSON-RPC result with `isError: true`: MCP clients hand that to the model, which can read the
 * wait and retry, whereas an HTTP error surfaces as a transport failure. Anything else
 * (initialize, tools/list, notifications, batches) gets HTTP 429 with Retry-After, which HTTP
 * clients and proxies understand. Both carry the Retry-After header. `body` is the request's
 * body as the handler parsed it (anything, when it is not a JSON-RPC request).
 */
export function mcpRateLimitedResponse(body: unknown, err: AppError): Response {
  const message = body as { jsonrpc?: string; method?: string; id?: string | number } | null;
  if (
    message && typeof message === "object" && !Array.isArray(message) &&
    message.method === "tools/call" &&
    (typeof message.id === "string" || typeof message.id === "number")
  ) {
    return Response.json({
      jsonrpc: "2.0",
      id: message.id,
      result: { content: [{ type: "text", text: `Error: ${err.message}` }], isError: true },
    }, { headers: err.headers });
  }
  return errorResponse(err);
}
