-- HNSW tuning, measured with `deno task bench recall` (docs/benchmarks.md, "Recall" → "Tuning").
--
-- ef_construction 64 → 200 (m stays 16): at 100k memories the graph built with 64 found 0.60 to
-- 0.82 of the exact top 10 at ef_search 100 depending on the build, with 200 0.83 to 0.90; only
-- building and inserting cost more (about 2.5x, milliseconds per insert), while the index size
-- and the search latency stay the same (m, the links per node, decides those).
-- hnsw.ef_search stays 100 (set on private.semantic_matches in 20261124000300_search.sql): it
-- covers the candidate pool (40 rows for 10 results) in the first batch of the iterative scan,
-- and 200 would add about half the latency for a few points of recall.
--
-- New entries use the new option at once; existing ones keep their links until the index is
-- rebuilt. A small table is rebuilt here, within seconds. A large one would block writes for
-- minutes inside this migration's transaction, and `reindex ... concurrently` cannot run in a
-- transaction: rebuild it out of band with
--   reindex index concurrently public.memories_embedding_idx;
alter index public.memories_embedding_idx set (ef_construction = 200);

do $$
begin
  if (select reltuples from pg_catalog.pg_class
      where oid = 'public.memories'::regclass) < 20000 then
    reindex index public.memories_embedding_idx;
  else
    raise notice 'memories_embedding_idx keeps its old links until rebuilt: run "reindex index concurrently public.memories_embedding_idx;"';
  end if;
end $$;
