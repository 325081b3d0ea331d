/**
 * The HNSW settings chosen from `deno task bench recall` (docs/benchmarks.md, "Tuning") are the
 * ones the migrations leave in the catalog: the embedding index's build options and the
 * ef_search / iterative scan that semantic search runs with. Change them only with new figures.
 */
import assert from "node:assert/strict";
import { hnswSettings } from "../scripts/bench/lib/recall_index.ts";
import { openTestDb, testEachBackend } from "./helpers/db.ts";

const TUNED = { m: 16, ef_construction: 200, ef_search: 100, iterative_scan: "relaxed_order" };

testEachBackend(
  "hnsw: the index and semantic search run with the tuned settings",
  async (backend) => {
    const db = await openTestDb(backend);
    try {
      assert.deepEqual(await hnswSettings(db), TUNED);
      const [index] = await db.query<{ def: string }>(
        "select pg_get_indexdef('public.memories_embedding_idx'::regclass) as def",
      );
      assert.match(index.def, /USING hnsw \(embedding (extensions\.)?vector_cosine_ops\)/);
    } finally {
      await db.close();
    }
  },
);
