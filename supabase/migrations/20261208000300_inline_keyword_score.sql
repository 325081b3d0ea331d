-- The keyword side's per-row score is inlined again (docs/benchmarks.md, "Keyword scoring").
--
-- private.keyword_score ran as a separate SQL function call for every candidate the keyword
-- side ranks (up to 320 per search), because PostgreSQL never inlines a function that has a
-- `set` clause: 9 of the 12 ms of the final ranking step at 100k memories (about 28 µs a call),
-- where the inlined expression costs a few µs. Like private.search_filter it names only
-- pg_catalog objects and is called only from functions that pin search_path = '', under which
-- the inlined body is parsed; tests/security_advisor_test.ts lists both as the reasoned
-- exceptions to the fixed-search_path lint.
create or replace function private.keyword_score(fts tsvector, tsq tsquery, any_q tsquery)
returns real
language sql immutable parallel safe as $$
  select (0.5 * pg_catalog.ts_rank_cd(fts, any_q, 32)
    + case when fts operator(pg_catalog.@@) tsq then 0.5 else 0 end)::real
$$;
