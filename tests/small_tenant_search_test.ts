/**
 * Small tenants' searches read their own rows (migration 20261207000300_small_tenant_search.sql):
 * the semantic side sorts a small scope by exact distance instead of walking HNSW past other
 * tenants' rows, and the keyword side reads a small scope's rows through the project index in
 * the physical order its GIN scans return, so both access paths give the same rows.
 */
import assert from "node:assert/strict";
import { asUser } from "../shared/db/as_user.ts";
import type { Database, Queryable } from "../shared/db/types.ts";
import { HASH_MODEL } from "../shared/embeddings/hash.ts";
import { MemoryService } from "../shared/memory/service.ts";
import { openTestDb, testEachBackend } from "./helpers/db.ts";
import { insertNumbered } from "./helpers/memories.ts";
import { dropUsers, newTestUser } from "./helpers/users.ts";
import { LEXEME_INDEXES, withoutIndexes } from "./helpers/without_indexes.ts";

/** A 384-d vector literal in SQL: (1, y, z, 0, …) for SQL expressions y and z. */
const vectorSql = (y: string, z: string) =>
  `('[1,' || (${y}) || ',' || (${z}) || ',' || array_to_string(array_fill(0, array[381]), ',')
    || ']')::extensions.vector`;

/**
 * `count` memories of one project, content `text` with # replaced by 1..count, in one statement;
 * with `vector` (SQL in i), embedded with it under the hash model.
 */
async function insertMany(
  db: Database,
  userId: string,
  projectId: string,
  count: number,
  text: string,
  vector?: string,
) {
  await insertNumbered(db, userId, projectId, count, text);
  if (vector) {
    await db.query(
      `update public.memories m set embedding = ${vectorSql(vector, "0")},
         embedding_model = $2, embedding_status = 'ready', embedded_at = now()
       from (select id, substring(content from '[0-9]+$')::int as i from public.memories
             where project_id = $1) n
       where m.id = n.id`,
      [projectId, HASH_MODEL],
    );
  }
}

interface Tenants {
  db: Database;
  small: { userId: string; projectId: string };
  large: { userId: string; projectId: string };
}

/** A small and a large tenant, each with one project. */
async function withTenants(backend: "pglite" | "postgres", fn: (t: Tenants) => Promise<void>) {
  const db = await openTestDb(backend);
  const smallUser = await newTestUser(db, "small-tenant");
  const largeUser = await newTestUser(db, "large-tenant");
  try {
    const service = new MemoryService(db);
    const small = await service.createProject(smallUser, { name: "small", slug: "small" });
    const large = await service.createProject(largeUser, { name: "large", slug: "large" });
    await fn({
      db,
      small: { userId: smallUser, projectId: small.id },
      large: { userId: largeUser, projectId: large.id },
    });
  } finally {
    await dropUsers(db, smallUser, largeUser);
    await db.close();
  }
}

testEachBackend(
  "small tenant: the semantic side finds every nearest row of a small scope, chunks included",
  (backend) =>
    withTenants(backend, async ({ db, small, large }) => {
      // 30 rows of the small tenant, row i at a distance growing with i from (1, 0, …); 1,500
      // rows of another tenant all nearer (distance ~0), which an HNSW walk visits first.
      await insertMany(db, small.userId, small.projectId, 30, "mine #", "i * 0.05");
      await insertMany(db, large.userId, large.projectId, 1500, "theirs #", "0");
      // The farthest row's second chunk is the query itself: it comes first, at distance 0.
      await db.query(
        `insert into private.memory_chunks (memory_id, chunk, embedding, embedding_model)
         select id, 1, ${vectorSql("0", "0")}, $2 from public.memories
         where project_id = $1 and content = 'mine 30'`,
        [small.projectId, HASH_MODEL],
      );
      const rows = await asUser(db, small.userId, async (tx: Queryable) => {
        // At this size the planner sorts a small scope anyway; with sorts disabled it walks HNSW
        // as it does for a 1-10% scope of a large table, giving up after 100 visited tuples,
        // nearly all the other tenant's.
        await tx.query("set local enable_sort = off");
        await tx.query("set local hnsw.max_scan_tuples = 100");
        return await tx.query<{ content: string; distance: number }>(
          `select m.content, s.distance
           from private.semantic_matches(${vectorSql("0", "0")}, $1, 40, null, null, null, 'any',
             null, null, null, null) s
           join public.memories m on m.id = s.id
           order by s.distance, m.content`,
          [HASH_MODEL],
        );
      });
      assert.deepEqual(
        rows.map((r) => r.content),
        ["mine 30", ...Array.from({ length: 29 }, (_, i) => `mine ${i + 1}`)],
      );
      assert.equal(rows[0].distance, 0);
    }),
);

interface Row {
  id: string;
}

/** private.keyword_rows of the small tenant's project, through one access path. */
const keywordRows = (
  tx: Queryable,
  query: string,
  lim: number,
  projectId: string,
  byTenant: boolean,
  kinds: string[] | null = null,
) =>
  tx.query<Row>(
    `select id from private.keyword_rows(${query}, $1, array[$2::uuid], $3, null, $4, null,
       'any', null, null, null, null)`,
    [lim, projectId, byTenant, kinds],
  );

testEachBackend(
  "small tenant: the keyword side's tenant scan returns the rows of its GIN scans",
  (backend) =>
    withTenants(backend, async ({ db, small, large }) => {
      // The two tenants' rows interleave on disk: batches in turn, as tenants write.
      for (let batch = 0; batch < 4; batch++) {
        await insertMany(db, small.userId, small.projectId, 100, `deploy notes ${batch} #`);
        await insertMany(db, large.userId, large.projectId, 300, `deploy payments ${batch} #`);
        await insertMany(
          db,
          small.userId,
          small.projectId,
          10,
          `deploy payments rollback ${batch}-#`,
        );
      }
      await db.exec("analyze public.memories");
      const queries = [
        "to_tsquery('english', 'deploy & payments & rollback')",
        "to_tsquery('english', 'deploy | payments | rollback')",
        "private.at_least_terms(array['''payments''', '''rollback''', '''deploy'''], 2)",
      ];
      const matches = { [queries[0]]: 40, [queries[1]]: 440, [queries[2]]: 40 };
      for (const query of queries) {
        for (const lim of [10, 320, 1000]) {
          for (const kinds of [null, ["note"], ["bug"]]) {
            const label = `${query} limit ${lim} kinds ${kinds}`;
            const byTenant = await db.transaction((tx) =>
              keywordRows(tx, query, lim, small.projectId, true, kinds)
            );
            // The postings path as it runs at scale: bitmap scans (GIN, or the project btree),
            // which return rows in physical order. On a table this small the planner may
            // rather walk the project btree in its own order (created_at), stopping at `lim`.
            const byPostings = await db.transaction(async (tx) => {
              await tx.query("set local enable_indexscan = off");
              return await keywordRows(tx, query, lim, small.projectId, false, kinds);
            });
            const expected = kinds?.[0] === "bug" ? 0 : Math.min(lim, matches[query]);
            assert.equal(byTenant.length, expected, label);
            assert.deepEqual(byTenant, byPostings, `${label}: same rows, same order`);
            const sequential = await withoutIndexes(db, LEXEME_INDEXES, async (tx) => {
              await tx.query("set local synchronize_seqscans = off"); // from the first page
              return await keywordRows(tx, query, lim, small.projectId, false, kinds);
            });
            assert.deepEqual(sequential, byPostings, `${label}: same without the index`);
          }
        }
      }
    }),
);

testEachBackend(
  "filtered search: a kinds or tags filter leaving few rows sorts them exactly (the nearest all found)",
  (backend) =>
    withTenants(backend, async ({ db, large }) => {
      // One project over the semantic bound, so that without filters HNSW is walked; 30 of its
      // rows are bugs tagged "flaky", farther from the query than all the other rows. (The
      // previous definition returns none of them in PGlite; PostgreSQL's planner may sort a
      // table this small anyway.)
      const [{ bound }] = await db.query<{ bound: number }>(
        "select private.exact_scan_bound() as bound",
      );
      const others = Math.ceil(bound * 1.5);
      await insertMany(db, large.userId, large.projectId, others, "other #", "i * 0.0001");
      await insertMany(db, large.userId, large.projectId, 30, "bug #", "1 + i * 0.05");
      await db.query(
        `update public.memories set kind = 'bug', tags = array['flaky']
         where project_id = $1 and content like 'bug %'`,
        [large.projectId],
      );
      for (const [kinds, tags] of [[["bug"], null], [null, ["flaky"]]]) {
        const rows = await asUser(db, large.userId, async (tx: Queryable) => {
          // As in the test above: HNSW gives up after 100 visited tuples, all of other rows.
          await tx.query("set local enable_sort = off");
          await tx.query("set local hnsw.max_scan_tuples = 100");
          return await tx.query<{ content: string }>(
            `select m.content
             from private.semantic_matches(${vectorSql("0", "0")}, $1, 40, null, $2, $3, 'any',
               null, null, null, null) s
             join public.memories m on m.id = s.id
             order by s.distance, m.content`,
            [HASH_MODEL, kinds, tags],
          );
        });
        assert.deepEqual(
          rows.map((r) => r.content),
          Array.from({ length: 30 }, (_, i) => `bug ${i + 1}`),
          `kinds ${kinds} tags ${tags}`,
        );
      }
    }),
);
