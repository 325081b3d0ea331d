import { type AppError, toAppError } from "../errors.ts";
import { log } from "../log.ts";

/** The JSON body every function uses for errors: `{ error: { code, message, details? } }`. */
export function errorBody(err: AppError) {
  return { error: { code: err.code, message: err.message, details: err.details } };
}

/** Any thrown value as a JSON error response; unexpected errors are logged, not echoed. */
export function errorResponse(thrown: unknown): Response {
  const err = toAppError(thrown);
  if (err.status >= 500) log.error("unhandled error", thrown);
  return Response.json(errorBody(err), { status: err.status, headers: err.headers });
}
