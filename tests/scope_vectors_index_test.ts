/**
 * The semantic side's exact sort reads its vectors from memories_scope_vectors_idx (migration
 * 20261209000100_scope_vectors_index.sql): an index-only scan, no heap pages, and the same
 * neighbours in the same order as the rows read from the table.
 */
import assert from "node:assert/strict";
import { explainSearch } from "../scripts/bench/lib/explain.ts";
import { actAsUser, asUser } from "../shared/db/as_user.ts";
import type { Queryable } from "../shared/db/types.ts";
import { HASH_MODEL } from "../shared/embeddings/hash.ts";
import { testEachBackend, withExplainableDb } from "./helpers/db.ts";
import { twoTenants } from "./helpers/tenants.ts";
import { withoutIndexes } from "./helpers/without_indexes.ts";

const KINDS = ["decision", "bug", "fact", "snippet"];

/** A 384-d vector in SQL whose first three numbers are SQL expressions in i. */
const vectorSql = (x: string, y: string, z: string) =>
  `('[' || (${x}) || ',' || (${y}) || ',' || (${z}) || ',' ||
    array_to_string(array_fill(0, array[381]), ',') || ']')::extensions.vector`;

/** Embedded memories `from`.. of one project, kinds in turn, vectors spread around a circle. */
const insertEmbedded = (
  db: Queryable,
  userId: string,
  projectId: string,
  from: number,
  count: number,
) =>
  db.query(
    `insert into public.memories (user_id, project_id, kind, content, embedding, embedding_model,
       embedding_status, embedded_at)
     select $1, $2, ($4::text[])[1 + i % 4], 'memory ' || i,
       ${vectorSql("cos(i * 0.37)", "sin(i * 0.37)", "(i % 7) * 0.1")}, $5, 'ready', now()
     from generate_series($6::int, $6::int + $3 - 1) i`,
    [userId, projectId, count, KINDS, HASH_MODEL, from],
  );

const QUERY = vectorSql("1", "0.2", "0.3");

/** The caller's nearest memories of two kinds, by private.semantic_matches. */
const nearest = (tx: Queryable) =>
  tx.query<{ id: string; distance: number }>(
    `select s.id, s.distance
     from private.semantic_matches(${QUERY}, $1, 40, null, array['decision', 'bug'], null, 'any',
       null, null, null, null) s`,
    [HASH_MODEL],
  );

testEachBackend(
  "exact sort: a kinds-filtered search reads its vectors from the covering index alone",
  (backend) =>
    withExplainableDb(backend, "scope_vectors", async ({ db, explainDb, notices }) => {
      const { me, other, mine, theirs } = await twoTenants(db, "scope-vectors");
      // Interleaved on disk, as tenants write: the caller's rows share pages with another's.
      for (let batch = 0; batch < 4; batch++) {
        await insertEmbedded(db, me, mine, batch * 500, 500);
        await insertEmbedded(db, other, theirs, batch * 1500, 1500);
      }
      await db.exec("vacuum analyze public.memories"); // autovacuum's visibility map

      const explained = await explainSearch(
        explainDb,
        notices,
        () => asUser(explainDb, me, nearest),
        { buffers: false },
      );
      const sort = explained.plans.find((p) => p.includes("memories_scope_vectors_idx"));
      assert.ok(sort, `no plan reads memories_scope_vectors_idx:\n${explained.plans.join("\n")}`);
      assert.match(sort, /Index Only Scan using memories_scope_vectors_idx/);
      assert.match(sort, /Heap Fetches: 0/);

      const fromIndex = await asUser(db, me, nearest);
      const fromTable = await withoutIndexes(
        db,
        ["memories_scope_vectors_idx"],
        async (tx) => {
          await actAsUser(tx, me);
          return await nearest(tx);
        },
      );
      assert.equal(fromIndex.length, 40);
      assert.deepEqual(fromIndex, fromTable);
    }),
);
