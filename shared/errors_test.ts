import assert from "node:assert/strict";
import { AppError, badRequest, isDatabaseUnavailable, toAppError, unauthorized } from "./errors.ts";
import { errorBody, errorResponse } from "./http/errors.ts";

const pgError = (code: string, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(`server says ${code}`), { code, ...extra });

Deno.test("AppError: status, code, message, and details or headers only when given", () => {
  const err = new AppError({ status: 418, code: "teapot", message: "short and stout" });
  assert.ok(err instanceof Error);
  assert.equal(err.name, "AppError");
  assert.deepEqual([err.status, err.code, err.message, err.details, err.headers], [
    418,
    "teapot",
    "short and stout",
    undefined,
    undefined,
  ]);
  assert.deepEqual(errorBody(badRequest("no", { field: "x" })), {
    error: { code: "bad_request", message: "no", details: { field: "x" } },
  });
  assert.deepEqual(unauthorized("who?", { "WWW-Authenticate": "Bearer" }).headers, {
    "WWW-Authenticate": "Bearer",
  });
});

Deno.test("errors: input mistakes the database caught are 4xx naming the constraint, no SQL", () => {
  const dup = toAppError(
    pgError("23505", { constraint_name: "memories_project_id_content_hash_key" }),
  );
  assert.deepEqual([dup.status, dup.code, dup.message, dup.details], [
    409,
    "conflict",
    "That would duplicate an existing record",
    { constraint: "memories_project_id_content_hash_key" },
  ]);
  assert.deepEqual([toAppError(pgError("22P05")).status, toAppError(pgError("22P05")).code], [
    400,
    "bad_request",
  ]);
  assert.equal(toAppError(pgError("42501")).status, 403);
  const same = badRequest("kept as it is");
  assert.equal(toAppError(same), same);
});

Deno.test("errors: a database that cannot be reached is a 503 to retry, not a 500", async () => {
  const unreachable = [
    "ECONNREFUSED", // nothing listens: the server is down
    "ECONNRESET",
    "CONNECTION_CLOSED", // postgres.js: the socket closed under a query
    "CONNECT_TIMEOUT",
    "57P01", // admin_shutdown: terminated by a fast shutdown
    "57P03", // cannot_connect_now: starting up or shutting down
    "08006", // connection_failure
    "53300", // too_many_connections
  ];
  for (const code of unreachable) {
    assert.equal(isDatabaseUnavailable(pgError(code)), true, code);
    const res = errorResponse(pgError(code));
    assert.equal(res.status, 503, code);
    assert.equal(res.headers.get("retry-after"), "1");
    const body = await res.json();
    assert.equal(body.error.code, "unavailable");
    assert.match(body.error.message, /database is unavailable.*retry/);
  }
  // Other server errors stay internal errors, their text hidden.
  for (const thrown of [pgError("42P01"), new Error("plain"), "a string", null]) {
    const err = toAppError(thrown);
    assert.deepEqual([err.status, err.code], [500, "internal"]);
    assert.doesNotMatch(err.message, /42P01|plain|string/);
  }
  assert.equal(isDatabaseUnavailable(pgError("42P01")), false);
});
