/**
 * A search counts its scope once (migration 20261209000300_scope_count_once.sql):
 * private.scope_under answers every bound up to private.exact_scan_bound() from one count kept
 * for the transaction, keyed by the scope; another scope or transaction counts again.
 */
import assert from "node:assert/strict";
import type { Queryable } from "../shared/db/types.ts";
import { MemoryService } from "../shared/memory/service.ts";
import { openTestDb, testEachBackend } from "./helpers/db.ts";
import { insertNumbered } from "./helpers/memories.ts";
import { dropUsers, newTestUser } from "./helpers/users.ts";

const under = async (tx: Queryable, scope: string[], bound: number) =>
  (await tx.query<{ under: boolean }>(
    "select private.scope_under($1::uuid[], $2) as under",
    [scope, bound],
  ))[0].under;

testEachBackend(
  "scope count: one count per transaction and scope answers every bound",
  async (backend) => {
    const db = await openTestDb(backend);
    const userId = await newTestUser(db, "scope-count");
    try {
      const service = new MemoryService(db);
      const a = await service.createProject(userId, { name: "a", slug: "a" });
      const b = await service.createProject(userId, { name: "b", slug: "b" });
      await insertNumbered(db, userId, a.id, 30, "a #");
      await insertNumbered(db, userId, b.id, 5, "b #");

      await db.transaction(async (tx) => {
        assert.equal(await under(tx, [a.id], 31), true);
        assert.equal(await under(tx, [a.id], 30), false);
        assert.equal(await under(tx, [a.id], 1), false);
        // Rows written later in the transaction are not counted again: the count is kept.
        await insertNumbered(tx, userId, a.id, 10, "a later #");
        assert.equal(await under(tx, [a.id], 31), true);
        // Another scope is counted on its own.
        assert.equal(await under(tx, [b.id], 6), true);
        assert.equal(await under(tx, [b.id], 5), false);
        assert.equal(await under(tx, [a.id, b.id], 46), true); // 40 + 5 rows, counted anew
        assert.equal(await under(tx, [a.id, b.id], 45), false);
      });
      // A new transaction counts again: 40 rows of a now.
      await db.transaction(async (tx) => {
        assert.equal(await under(tx, [a.id], 31), false);
        assert.equal(await under(tx, [a.id], 41), true);
      });
    } finally {
      await dropUsers(db, userId);
      await db.close();
    }
  },
);
