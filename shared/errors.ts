import { log } from "./log.ts";

export interface AppErrorOptions {
  /** HTTP status, 4xx for the caller's mistakes, 5xx for ours. */
  status: number;
  /** Stable, machine-readable: "bad_request", "rate_limited", … */
  code: string;
  /** Safe to show to the caller: never SQL, stack traces or other users' data. */
  message: string;
  /** JSON the caller can act on, e.g. `{ retry_after_seconds }`. */
  details?: unknown;
  /** Response headers that go with it, e.g. Retry-After or WWW-Authenticate. */
  headers?: Record<string, string>;
}

/** An error the caller can act on: HTTP status, a stable code and a message safe to show. */
export class AppError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details?: unknown;
  readonly headers?: Record<string, string>;

  constructor({ status, code, message, details, headers }: AppErrorOptions) {
    super(message);
    this.name = "AppError";
    this.status = status;
    this.code = code;
    this.details = details;
    this.headers = headers;
  }
}

export const badRequest = (message: string, details?: unknown) =>
  new AppError({ status: 400, code: "bad_request", message, details });
export const unauthorized = (message: string, headers?: Record<string, string>) =>
  new AppError({ status: 401, code: "unauthorized", message, headers });
export const forbidden = (message: string) =>
  new AppError({ status: 403, code: "forbidden", message });
export const notFound = (message: string) =>
  new AppError({ status: 404, code: "not_found", message });
export const conflict = (message: string, details?: unknown) =>
  new AppError({ status: 409, code: "conflict", message, details });

/** Postgres SQLSTATEs that mean "the input was wrong", with what to tell the caller. */
const PG_CLIENT_ERRORS: Record<string, [number, string, string]> = {
  "23505": [409, "conflict", "That would duplicate an existing record"],
  "23503": [400, "bad_request", "A referenced record does not exist"],
  "23502": [400, "bad_request", "A required field is missing"],
  "23514": [400, "bad_request", "A value is out of its allowed range"],
  "22001": [400, "bad_request", "A value is too long"],
  "22P02": [400, "bad_request", "A value has the wrong format"],
  "22007": [400, "bad_request", "A date or time has the wrong format"],
  "22008": [400, "bad_request", "A date or time is out of range"],
  "22023": [400, "bad_request", "A parameter has an invalid value"],
  "2202E": [400, "bad_request", "An array index is out of range"],
  "22021": [400, "bad_request", "Text contains a byte sequence that is not valid UTF-8"],
  "22P05": [400, "bad_request", "Text contains a character that cannot be stored (e.g. NUL)"],
  "54000": [400, "bad_request", "A value is too large"],
  "42501": [403, "forbidden", "You do not have permission to do that"],
};

/**
 * The database could not be reached: it is restarting or failing over, or has no connection
 * left. From postgres.js (socket errors and its own codes) or the server: SQLSTATE class 08
 * (connection exception), 57P01–57P03 (shutting down, starting up), 53300 (too many
 * connections). Nothing was wrong with the request, so it is a 503 to retry, not a 500.
 */
const DB_UNAVAILABLE = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "CONNECT_TIMEOUT",
  "CONNECTION_CLOSED",
  "CONNECTION_DESTROYED",
  "CONNECTION_ENDED",
  "57P01",
  "57P02",
  "57P03",
  "53300",
]);

/** Whether `err` says the database could not be reached (rather than that a query was wrong). */
export function isDatabaseUnavailable(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === "string" && (DB_UNAVAILABLE.has(code) || /^08[0-9A-Z]{3}$/.test(code));
}

/** Seconds a client should wait before retrying while the database is away (a restart). */
export const DB_RETRY_AFTER_SECONDS = 1;

/**
 * Turns anything thrown into an AppError. Database errors caused by input become 4xx with a
 * generic message (constraint names only, never SQL or row data); an unreachable database is
 * a 503 with Retry-After; the rest is a 500 whose message hides internals.
 */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const code = (err as { code?: unknown })?.code;
  if (typeof code === "string" && code in PG_CLIENT_ERRORS) {
    const [status, kind, message] = PG_CLIENT_ERRORS[code];
    const constraint = (err as { constraint?: string; constraint_name?: string }).constraint ??
      (err as { constraint_name?: string }).constraint_name;
    return new AppError({
      status,
      code: kind,
      message,
      details: constraint ? { constraint } : undefined,
    });
  }
  if (isDatabaseUnavailable(err)) {
    return new AppError({
      status: 503,
      code: "unavailable",
      message:
        `The database is unavailable for a moment (restarting or unreachable); retry in ${DB_RETRY_AFTER_SECONDS} s`,
      details: { retry_after_seconds: DB_RETRY_AFTER_SECONDS },
      headers: { "Retry-After": String(DB_RETRY_AFTER_SECONDS) },
    });
  }
  return new AppError({
    status: 500,
    code: "internal",
    message: "Internal error; it has been logged",
  });
}

/**
 * Logs what a caller's error hides: a fault of ours (500) with its cause, at error level; an
 * outage (503, e.g. the database restarting) as a warning, since retrying is the remedy.
 */
export function logServerFault(err: AppError, thrown: unknown, context: string): void {
  if (err.status === 503) log.warn(`${context}: ${err.message}`);
  else if (err.status >= 500) log.error(context, thrown);
}
