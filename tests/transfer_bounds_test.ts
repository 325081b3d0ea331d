/**
 * Import bounds (security review, finding 6): every field of an import line is bounded the way
 * the table stores it, so a value out of range is a 400 naming its line and field, never a 500
 * from inside the insert; values at the bounds import.
 */
import assert from "node:assert/strict";
import { EMBEDDING_DIMENSIONS } from "../shared/embeddings/types.ts";
import { testEachBackend } from "./helpers/db.ts";
import { withStack } from "./helpers/stack.ts";
import { syntheticLine } from "./helpers/transfer.ts";

const IMPORT = "/functions/v1/memories/import";
const INT4_MAX = 2 ** 31 - 1;
const FLOAT4_MAX = 3.4028234663852886e38;

const vector = (first: number) =>
  Array.from({ length: EMBEDDING_DIMENSIONS }, (_, i) => (i === 0 ? first : 0.01));

testEachBackend(
  "transfer: out-of-range import fields are a 400 naming the line",
  (backend) =>
    withStack(backend, async (stack) => {
      const user = await stack.newUser();
      const model = stack.ctx.embedder.model;
      const bad: [string, Record<string, unknown>][] = [
        ["version", { version: INT4_MAX + 1 }],
        ["access_count", { access_count: INT4_MAX + 1 }],
        ["embedding", { embedding: vector(1e39), embedding_model: model }],
        ["embedding", { embedding: vector(-FLOAT4_MAX * 1.0001), embedding_model: model }],
        ["created_at", { created_at: "0000-01-01T00:00:00Z" }],
        ["updated_at", { updated_at: "9999-12-31T23:59:59.999999-14:00" }],
        ["expires_at", { expires_at: "0000-06-01T00:00:00+02:00" }],
        ["last_accessed_at", { last_accessed_at: "0000-12-31T23:59:59Z" }],
        ["embedding_model", { embedding_model: "m".repeat(201) }],
        ["tags", { tags: ["x".repeat(51)] }],
        ["tags", { tags: ["two words"] }],
        ["project", { project: crypto.randomUUID() }],
      ];
      for (const [field, values] of bad) {
        const body = `${syntheticLine(1)}\n${syntheticLine(2, values)}\n`;
        const res = await stack.api(user, IMPORT, { method: "POST", body });
        const json = await res.json();
        const detail = `${field} ${JSON.stringify(values).slice(0, 80)}: ${JSON.stringify(json)}`;
        assert.equal(res.status, 400, detail);
        assert.match(json.error.message, new RegExp(`^line 2: ${field}`), detail);
      }
      const [{ n }] = await stack.db.query<{ n: number }>(
        "select count(*)::int as n from memories where user_id = $1",
        [user.userId],
      );
      assert.equal(n, 0, "a bad line stops the whole file");

      // At the bounds, everything imports (tiny numbers round to what float4 holds).
      const edge = [
        { version: INT4_MAX, access_count: INT4_MAX },
        { embedding: vector(FLOAT4_MAX), embedding_model: model, importance: 1e-50 },
        { embedding: vector(1e-50), embedding_model: model },
        { created_at: "0001-01-01T00:00:00Z", updated_at: "9999-12-31T23:59:59.999999Z" },
        { tags: ["Mixed-Case", "c++", "a:b/c"] },
      ];
      const body = edge.map((values, i) => syntheticLine(i, values)).join("\n");
      const res = await stack.api(user, IMPORT, { method: "POST", body });
      const json = await res.json();
      assert.equal(res.status, 200, JSON.stringify(json));
      assert.equal(json.import.inserted, edge.length);
      const rows = await stack.db.query<{ tags: string[]; importance: number }>(
        "select tags, importance from memories where user_id = $1 order by tags",
        [user.userId],
      );
      assert.ok(
        rows.some((r) => r.tags.join() === "mixed-case,c++,a:b/c"),
        "tags as the API keeps them",
      );
      assert.ok(rows.some((r) => Number(r.importance) === 0), "1e-50 stored as 0");
    }),
);
