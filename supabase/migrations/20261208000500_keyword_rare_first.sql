-- The keyword side reads the rare-term rows first and skips the any-term scan when they fill
-- the budget (docs/benchmarks.md, "Keyword side: rare terms first").
--
-- private.keyword_matches (20261207000300) read up to 2 x budget rows holding any query term and,
-- when that cap cut them short, the rows holding at least two of the six rarest terms; then
-- ranked the budget's worth holding the most rare terms. For a broad question ("why did we
-- choose terraform for rate limiting") both scans hit their cap: 640 rows of each, the any-term
-- ones mostly holding one common term, which rank below every row with two rare terms. The
-- rare-term scan now comes first, and the any-term scan runs only when it leaves room in the
-- budget. Where the rare-term rows fill the budget, the any-term scan's only contribution was
-- rows holding two or more rare terms beyond the rare-term scan's cap (its own physical window:
-- a sequential scan may start anywhere in the table). Measured at 100k memories on 110 queries:
-- keyword_matches p95 28.6 -> 19.3 ms, the share of the exact top 40 kept (tie-aware) 0.813 ->
-- 0.799; below the cap (small tables, the eval) nothing changes.
--
-- The body is that of 20261207000300 with step 2 replaced (marked "[rare first]").

create or replace function private.keyword_matches(
  tsq tsquery,
  pool int,
  project_ids uuid[],
  kinds text[],
  tags text[],
  tags_mode text,
  since timestamptz,
  until timestamptz,
  repo text,
  file_path_prefix text
) returns table (id uuid, rank_score real)
language plpgsql stable security definer
rows 100 -- the planner's guess for a set-returning function is 1000; at most `pool` come back
set search_path = ''
set plan_cache_mode = force_custom_plan
as $$
#variable_conflict use_column
declare
  scope uuid[] := private.search_scope(private.project_ids('reader'), project_ids);
  bound int := private.tenant_scan_bound();
  by_tenant boolean := private.scope_under(scope, bound);
  any_q tsquery := private.any_terms(tsq);
  budget int := 8 * pool;
  cap int := 2 * budget;
  every_term uuid[];
  terms text[];
  rare tsquery[];
  ids uuid[];
  docs tsvector[];
  more_ids uuid[];
  more_docs tsvector[];
begin
  -- 1. Rows with every term.
  select coalesce(array_agg(r.id), '{}') into every_term
  from private.keyword_rows(tsq, budget, scope, by_tenant, project_ids, kinds, tags, tags_mode,
    since, until, repo, file_path_prefix) r;
  if cardinality(every_term) >= pool then
    return query
    select m.id, private.keyword_score(m.fts, tsq, any_q)
    from public.memories m
    where m.id = any (every_term)
    order by 2 desc, 1
    limit pool;
    return;
  end if;

  -- 2. [rare first] The rows holding at least two of the rare terms, read up to the cap. When
  -- they fill the budget, the any-term scan is skipped: the budget is taken by rare-term count,
  -- so of its rows only those holding two or more could rank into it. Otherwise the rows with
  -- any term, read up to the cap, as before.
  terms := (private.query_terms(any_q))[1:6];
  rare := array(select t::tsquery from unnest(terms) t);
  if cardinality(terms) >= 3 then
    select array_agg(r.id), array_agg(r.fts) into ids, docs
    from private.keyword_rows(private.at_least_terms(terms, 2), cap, scope, by_tenant,
      project_ids, kinds, tags, tags_mode, since, until, repo, file_path_prefix) r;
  end if;
  if coalesce(cardinality(ids), 0) < budget then
    select array_agg(r.id), array_agg(r.fts) into more_ids, more_docs
    from private.keyword_rows(any_q, cap, scope, by_tenant, project_ids, kinds, tags, tags_mode,
      since, until, repo, file_path_prefix) r;
    ids := coalesce(ids, '{}') || coalesce(more_ids, '{}');
    docs := coalesce(docs, '{}') || coalesce(more_docs, '{}');
  end if;

  return query
  with matches as (
    select distinct on (c.id) c.id, c.fts
    from unnest(ids, docs) as c(id, fts)
  ),
  ranked_first as (
    select c.id, c.fts
    from matches c
    order by c.id = any (every_term) desc,
      (select count(*) from unnest(rare) x where c.fts operator(pg_catalog.@@) x) desc,
      c.id
    limit budget
  )
  select c.id, private.keyword_score(c.fts, tsq, any_q)
  from ranked_first c
  union all
  -- rows with every term that the cap left out (fewer than the pool)
  select m.id, private.keyword_score(m.fts, tsq, any_q)
  from public.memories m
  where m.id = any (every_term) and not exists (select 1 from ranked_first c where c.id = m.id)
  order by 2 desc, 1
  limit pool;
end
$$;
