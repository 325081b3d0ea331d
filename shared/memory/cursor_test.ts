import assert from "node:assert/strict";
import { AppError } from "../errors.ts";
import { decodeCursor, encodeCursor } from "./cursor.ts";

const ID = "123e4567-e89b-12d3-a456-426614174000";

Deno.test("cursor: URL-safe base64 of the position, unpadded, round-tripping microseconds", () => {
  const cursor = { t: "2024-05-06T07:08:09.123456Z", id: ID };
  const encoded = encodeCursor(cursor);
  assert.equal(
    encoded,
    "eyJ0IjoiMjAyNC0wNS0wNlQwNzowODowOS4xMjM0NTZaIiwiaWQiOiIxMjNlNDU2Ny1lODliLTEyZDMtYTQ1Ni00MjY2MTQxNzQwMDAifQ",
  );
  assert.doesNotMatch(encoded, /[+/=]/);
  assert.deepEqual(decodeCursor(encoded), cursor);
  // base64url characters ("-", "_") decode too: "?>" encodes to "Pz4" in base64.
  const odd = { t: "2024-01-01T00:00:00Z", id: ID };
  assert.deepEqual(decodeCursor(encodeCursor(odd)), odd);
});

Deno.test("cursor: anything else is a 400 telling to pass next_cursor unchanged", () => {
  const b64 = (v: unknown) => btoa(JSON.stringify(v));
  for (
    const bad of [
      "",
      "garbage!!",
      b64({ t: "2024-01-01T00:00:00Z" }),
      b64({ t: "not a time", id: ID }),
      b64({ t: "2024-01-01T00:00:00Z", id: "x".repeat(36) }),
      b64({ t: 1, id: ID }),
      b64(null),
      b64([]),
    ]
  ) {
    assert.throws(() => decodeCursor(bad), (err) => {
      assert.ok(err instanceof AppError);
      assert.equal(err.status, 400);
      assert.match(err.message, /next_cursor/);
      return true;
    }, bad);
  }
});
