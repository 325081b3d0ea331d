-- Search for small tenants reads only their own rows (docs/benchmarks.md, "Search at scale:
-- findings" → "Many tenants").
--
-- Both candidate helpers searched as if the caller could read the whole table:
--   semantic: for a user reading 1-10% of memories the planner picks the HNSW index with
--     pgvector 0.8's iterative scan, which visits ~40 / selectivity tuples before it holds 40 of
--     the user's (268 ms for 3.5k of 100k rows, where sorting their rows takes 10-45 ms); below
--     0.2% (at 1M rows) hnsw.max_scan_tuples ends the scan first and results go missing;
--   keyword: the "every term" scan is planned from the lexemes alone (the planner multiplies
--     the terms' frequencies and expects 3 rows), so the tenant key stays out of the GIN
--     condition and other tenants' matches are read from the heap and thrown away (1.2 s cold
--     for a user with 3k of 1M rows).
-- Now each helper first counts the rows of the projects it searches, up to a bound
-- (private.scope_under, through the project index), and when they stay under it reads those rows
-- through the project index: the semantic side sorts them by exact distance (an expression no
-- index serves, so the planner cannot pick HNSW), the keyword side matches them on the heap in
-- the same physical order its GIN scans return, so it returns the same rows as before.
-- Larger callers take the index paths as before. Bounds measured in docs/benchmarks.md.

-- Whether the given projects hold fewer than `bound` rows, counted up to `bound`: an index-only
-- scan of at most `bound` entries of memories_project_created_idx (about 1 ms for 10k rows;
-- the planner's statistics, read from pg_stats, cost more than that).
create or replace function private.scope_under(scope uuid[], bound int) returns boolean
language sql stable set search_path = '' as $$
  select count(*) < bound
  from (select from public.memories m where m.project_id = any (scope) limit bound) r
$$;
revoke all on function private.scope_under(uuid[], int) from public, anon, authenticated;

-- The projects a search reads: the caller's, narrowed to project_ids when given.
create or replace function private.search_scope(visible uuid[], project_ids uuid[])
returns uuid[]
language sql immutable set search_path = '' as $$
  select case when project_ids is null then visible
              else array(select v from unnest(visible) v where v = any (project_ids)) end
$$;
revoke all on function private.search_scope(uuid[], uuid[]) from public, anon, authenticated;

-- Up to how many rows the semantic side sorts by exact distance instead of walking HNSW:
-- sqrt(1000 x table rows), at least 1000. HNSW's filtered scan visits about pool / selectivity
-- tuples, the exact sort reads every row in scope, so the two cost the same where
-- rows_in_scope^2 = c x table_rows; c = 1000 from the runs in docs/benchmarks.md (10k rows at
-- 100k, 32k at 1M, 3.2k at 10k). Past it, at 1M rows HNSW finds the pool within
-- hnsw.max_scan_tuples (20k visited), which a user holding 0.1% of the table would not.
create or replace function private.exact_scan_bound() returns int
language sql stable set search_path = '' as $$
  select greatest(1000, ceil(sqrt(1000 * greatest(c.reltuples, 0))))::int
  from pg_catalog.pg_class c
  where c.oid = 'public.memories'::regclass
$$;
revoke all on function private.exact_scan_bound() from public, anon, authenticated;

-- Up to how many rows in scope the keyword side reads the tenant's rows instead of the GIN
-- postings: at most 5k (each of its up to three scans reads them all), and at most a tenth of
-- the table (a larger share of the postings is the caller's own anyway).
create or replace function private.tenant_scan_bound() returns int
language sql stable set search_path = '' as $$
  select least(5000, floor(greatest(c.reltuples, 0) / 10))::int
  from pg_catalog.pg_class c
  where c.oid = 'public.memories'::regclass
$$;
revoke all on function private.tenant_scan_bound() from public, anon, authenticated;

-- Semantic side: nearest memories by their best part (memories by their chunk 0, chunks 1..n;
-- merged by memory with the smallest distance). A chunk counts only while its memory is ready
-- under the same model. While the rows in scope stay under private.exact_scan_bound() the exact
-- sort of the caller's rows costs less than HNSW's iterative scan and finds every neighbour;
-- beyond it each side is an index-ordered scan of the HNSW indexes.
create or replace function private.semantic_matches(
  query_embedding extensions.vector,
  embedding_model text,
  pool int,
  project_ids uuid[],
  kinds text[],
  tags text[],
  tags_mode text,
  since timestamptz,
  until timestamptz,
  repo text,
  file_path_prefix text
) returns table (id uuid, distance float)
language plpgsql stable security definer
rows 100 -- the planner's guess for a set-returning function is 1000; at most `pool` come back
set search_path = ''
set plan_cache_mode = force_custom_plan
-- Candidates kept per step of the HNSW search; pools reach 400 rows (match_count 100).
set hnsw.ef_search = 100
as $$
declare
  scope uuid[] := private.search_scope(private.project_ids('reader'), project_ids);
  bound int := private.exact_scan_bound();
  exact boolean := private.scope_under(scope, bound);
  -- `+ 0` and the id make an order no index serves: the planner sorts the rows in scope.
  nearest text := case when exact then '(%1$s operator(extensions.<=>) $1) + 0, %2$s'
                       else '%1$s operator(extensions.<=>) $1' end;
begin
  return query execute format($q$
    with whole as (
      select m.id, (m.embedding operator(extensions.<=>) $1)::float as distance
      from public.memories m
      where m.embedding is not null
        and m.project_id = any ($3)
        and ($2 is null or m.embedding_model = $2)
        and private.search_filter(m, $4, $5, $6, $7, $8, $9, $10, $11)
      order by %1$s
      limit $12
    ),
    parts as (
      select c.memory_id as id, (c.embedding operator(extensions.<=>) $1)::float as distance
      from private.memory_chunks c
      join public.memories m on m.id = c.memory_id
      where m.project_id = any ($3)
        and m.embedding_status = 'ready'
        and m.embedding_model = c.embedding_model
        and ($2 is null or c.embedding_model = $2)
        and private.search_filter(m, $4, $5, $6, $7, $8, $9, $10, $11)
      order by %2$s
      limit $12
    )
    select u.id, min(u.distance)
    from (select * from whole union all select * from parts) u
    group by u.id
    order by 2, 1
    limit $12
  $q$, format(nearest, 'm.embedding', 'm.id'), format(nearest, 'c.embedding', 'c.memory_id, c.chunk'))
  using query_embedding, embedding_model, scope, project_ids, kinds, tags, tags_mode, since,
    until, repo, file_path_prefix, pool;
end
$$;

-- `create or replace` resets the function's settings: pgvector 0.8's iterative scan again.
do $$
begin
  if (select string_to_array(extversion, '.')::int[] >= '{0,8,0}'
      from pg_extension where extname = 'vector') then
    alter function private.semantic_matches(extensions.vector, text, int, uuid[], text[],
      text[], text, timestamptz, timestamptz, text, text)
      set hnsw.iterative_scan = 'relaxed_order';
  end if;
end $$;

-- Up to `lim` rows of the `scope` projects matching q under the search filters, the first in
-- physical order (the order of the GIN bitmap scan, which a sequential scan shares), so that
-- the scan stops after `lim` rows. With `by_tenant` the rows of scope are read through the
-- project index and matched on the heap (`is true` keeps the lexeme indexes out), then put in
-- the same physical order: the same rows, read without other tenants' postings.
create or replace function private.keyword_rows(
  q tsquery,
  lim int,
  scope uuid[],
  by_tenant boolean,
  project_ids uuid[],
  kinds text[],
  tags text[],
  tags_mode text,
  since timestamptz,
  until timestamptz,
  repo text,
  file_path_prefix text
) returns table (id uuid, fts tsvector)
language plpgsql stable
set search_path = ''
set plan_cache_mode = force_custom_plan
as $$
#variable_conflict use_column
begin
  if by_tenant then
    return query
    select m.id, m.fts
    from public.memories m
    where (m.fts operator(pg_catalog.@@) q) is true
      and m.project_id = any (scope)
      and private.search_filter(m, keyword_rows.project_ids, keyword_rows.kinds,
        keyword_rows.tags, keyword_rows.tags_mode, keyword_rows.since, keyword_rows.until,
        keyword_rows.repo, keyword_rows.file_path_prefix)
    order by m.ctid
    limit lim;
    return;
  end if;
  return query
  select m.id, m.fts
  from public.memories m
  where m.fts operator(pg_catalog.@@) q
    and m.project_id = any (scope)
    and private.search_filter(m, keyword_rows.project_ids, keyword_rows.kinds,
      keyword_rows.tags, keyword_rows.tags_mode, keyword_rows.since, keyword_rows.until,
      keyword_rows.repo, keyword_rows.file_path_prefix)
  limit lim;
end
$$;
revoke all on function private.keyword_rows(tsquery, int, uuid[], boolean, uuid[], text[], text[],
  text, timestamptz, timestamptz, text, text) from public;
drop function if exists private.keyword_rows(tsquery, int, uuid[], uuid[], text[], text[], text,
  timestamptz, timestamptz, text, text);

-- The keyword side as in 20261206000100_keyword_budget.sql (rows with every term; else any
-- term up to the cap plus rows with two rare terms; a budget of them ranked), with each scan
-- reading the tenant's own rows while the scope holds fewer than private.tenant_scan_bound().
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

  -- 2. Rows with any term, read up to the cap, each with its coordination; when the cap cut
  -- them short, also the rows holding at least two of the rare terms, wherever they lie.
  terms := (private.query_terms(any_q))[1:6];
  rare := array(select t::tsquery from unnest(terms) t);
  select array_agg(r.id), array_agg(r.fts) into ids, docs
  from private.keyword_rows(any_q, cap, scope, by_tenant, project_ids, kinds, tags, tags_mode,
    since, until, repo, file_path_prefix) r;
  if cardinality(ids) = cap and cardinality(terms) >= 3 then
    select array_agg(r.id), array_agg(r.fts) into more_ids, more_docs
    from private.keyword_rows(private.at_least_terms(terms, 2), cap, scope, by_tenant,
      project_ids, kinds, tags, tags_mode, since, until, repo, file_path_prefix) r;
    ids := ids || more_ids;
    docs := docs || more_docs;
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
