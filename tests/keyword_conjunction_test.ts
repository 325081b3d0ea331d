/**
 * The keyword side's every-term scan keeps the tenant key in its index condition (migration
 * 20261209000200_keyword_conjunction_estimate.sql). The planner multiplies a conjunction's term
 * frequencies as if the terms were independent; here five terms each held by 10% of the rows,
 * always together, are expected in 0.001% and matched by 10%, nearly all another tenant's. The
 * scan must narrow its index scan by the caller's projects, and return the rows the heap holds.
 */
import assert from "node:assert/strict";
import { explainSearch } from "../scripts/bench/lib/explain.ts";
import type { Queryable } from "../shared/db/types.ts";
import { testEachBackend, withExplainableDb, withScratchDb } from "./helpers/db.ts";
import { insertNumbered } from "./helpers/memories.ts";
import { twoTenants } from "./helpers/tenants.ts";
import { LEXEME_INDEXES, withoutIndexes } from "./helpers/without_indexes.ts";

/** The every-term scan of private.keyword_rows over one project, by the lexeme indexes. */
const everyTerm = (tx: Queryable, projectId: string) =>
  tx.query<{ id: string }>(
    `select id from private.keyword_rows(to_tsquery('english', 'quorum & lease & fencing & epoch & replica'), 320,
       array[$1::uuid], false, null, null, null, 'any', null, null, null, null)
     order by id`,
    [projectId],
  );

testEachBackend(
  "keyword conjunction: the every-term scan reads the caller's postings, not other tenants' rows",
  (backend) =>
    withExplainableDb(backend, "conjunction", async ({ db, explainDb, notices }) => {
      const { me, other, mine, theirs } = await twoTenants(db, "conjunction");
      await insertNumbered(db, me, mine, 40, "quorum lease fencing epoch replica note #");
      await insertNumbered(db, me, mine, 400, "deploy checklist #");
      await insertNumbered(
        db,
        other,
        theirs,
        1200,
        "quorum lease fencing epoch replica incident #",
      );
      await insertNumbered(db, other, theirs, 11000, "payments ledger #");
      await db.exec("vacuum analyze public.memories");

      const explained = await explainSearch(
        explainDb,
        notices,
        () => everyTerm(explainDb, mine),
      );
      const plan = explained.plans.join("\n");
      // The tenant key narrows an index scan (the project and lexemes index, or a bitmap AND of
      // the project index with the lexemes one), and the heap gives up none of the rows read.
      assert.match(plan, /Index Cond: \(+project_id = ANY/, plan);
      assert.doesNotMatch(plan, /Rows Removed by Filter/, plan);

      const rows = await everyTerm(db, mine);
      assert.equal(rows.length, 40);
      assert.deepEqual(
        rows,
        await withoutIndexes(db, LEXEME_INDEXES, (tx) => everyTerm(tx, mine)),
      );
    }),
);

testEachBackend(
  "keyword conjunction: a scope is a small share under the exact bound or a tenth of the table",
  (backend) =>
    withScratchDb(backend, async (db) => {
      const { me, other, mine, theirs } = await twoTenants(db, "share");
      await insertNumbered(db, me, mine, 1100, "mine #");
      await insertNumbered(db, other, theirs, 20000, "theirs #");
      await db.exec("vacuum analyze public.memories");
      const small = async (scope: string[]) =>
        (await db.query<{ small: boolean }>(
          "select private.scope_is_small_share($1::uuid[]) as small",
          [scope],
        ))[0].small;
      assert.equal(await small([mine]), true); // 1,100 rows: under the exact bound (4.6k)
      assert.equal(await small([theirs]), false);
      // As if the table were larger: the exact bound drops to 1k, so 1,100 rows are over it and
      // the planner's estimate decides (5% of its rows; the ratio does not depend on reltuples).
      await db.exec("update pg_class set reltuples = 1000 where oid = 'public.memories'::regclass");
      assert.equal(await small([mine]), true);
      assert.equal(await small([theirs]), false);
      assert.equal(await small([mine, theirs]), false); // every project: the whole table
    }, { migrated: true }),
);
