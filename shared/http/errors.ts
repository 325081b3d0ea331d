import { type AppError, logServerFault, toAppError } from "../errors.ts";

/** The JSON body every function uses for errors: `{ error: { code, message, details? } }`. */
export function errorBody(err: AppError) {
  return { error: { code: err.code, message: err.message, details: err.details } };
}

/** Any thrown value as a JSON error response; unexpected errors are logged, not echoed. */
export function errorResponse(thrown: unknown): Response {
  const err = toAppError(thrown);
  logServerFault(err, thrown, "unhandled error");
  return Response.json(errorBody(err), { status: err.status, headers: err.headers });
}
