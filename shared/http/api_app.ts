import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { type Authenticator, requireScope } from "../auth/authenticate.ts";
import type { RateLimiter } from "../cache/types.ts";
import { AppError } from "../errors.ts";
import { MAX_BODY_BYTES, payloadTooLarge } from "./body_limit.ts";
import { errorResponse } from "./errors.ts";
import { enforceRateLimit } from "./rate_limit.ts";
import type { ApiEnv } from "./validate.ts";

/** What every API app needs, whatever else its function uses. */
export interface ApiAppContext {
  auth: Authenticator;
  rateLimiter: RateLimiter;
}

export interface ApiAppOptions {
  /** Where Supabase routes the function, e.g. "/memories". */
  basePath: string;
  /** Whether a request changes something, so needs the 'write' scope. Default: none do. */
  writes?: (c: Context<ApiEnv>) => boolean;
}

/** Codes for the 4xx statuses hono itself raises; the status is kept either way. */
const HTTP_CODES: Record<number, string> = {
  400: "bad_request",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  405: "method_not_allowed",
  413: "payload_too_large",
  415: "unsupported_media_type",
};

/** A hono HTTPException as our error, its 4xx status kept (a 5xx stays hidden as internal). */
function fromHttpException(err: HTTPException): unknown {
  if (err.status >= 500) return err;
  return new AppError({
    status: err.status,
    code: HTTP_CODES[err.status] ?? "bad_request",
    message: err.message || "Bad request",
  });
}

/**
 * A REST API app as every function builds it: errors in our JSON shape with their status, a
 * JSON 404 for unknown routes, bodies over MAX_BODY_BYTES refused before they are read, then
 * per request the caller authenticated, rate-limited and, for writes, checked for the 'write'
 * scope. Routes read the caller with `userOf(c)`.
 */
export function createApiApp(
  ctx: ApiAppContext,
  opts: ApiAppOptions,
): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>().basePath(opts.basePath);
  app.onError((err) => errorResponse(err instanceof HTTPException ? fromHttpException(err) : err));
  app.notFound((c) =>
    errorResponse(
      new AppError({
        status: 404,
        code: "not_found",
        message: `No route ${c.req.method} ${c.req.path}`,
      }),
    )
  );
  app.use(
    "*",
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () => {
        throw payloadTooLarge();
      },
    }),
  );
  app.use("*", async (c, next) => {
    c.set("principal", await ctx.auth.authenticate(c.req.raw));
    await enforceRateLimit(ctx.rateLimiter, c.get("principal"));
    if (opts.writes?.(c)) requireScope(c.get("principal"), "write");
    await next();
  });
  return app;
}
