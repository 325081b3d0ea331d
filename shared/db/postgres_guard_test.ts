import assert from "node:assert/strict";
import { isWriteToClosedConnection } from "./postgres_guard.ts";

Deno.test("postgres guard: recognises only the driver's write to a closed connection", () => {
  const nullWrite = new TypeError("Cannot read properties of null (reading 'write')");
  nullWrite.stack =
    `${nullWrite.message}\n    at Immediate.nextWrite (postgres/src/connection.js:255:22)`;
  assert.equal(isWriteToClosedConnection(nullWrite), true);
  assert.equal(isWriteToClosedConnection(new TypeError(nullWrite.message)), false);
  assert.equal(isWriteToClosedConnection(new Error("Cannot read properties of null")), false);
});
