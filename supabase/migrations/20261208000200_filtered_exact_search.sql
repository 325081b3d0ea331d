-- Filtered searches sort their rows exactly when the filters leave few, and the keyword side
-- no longer gambles on a sequential scan (docs/benchmarks.md, "Filtered searches").
--
-- The semantic side chose between HNSW and the exact sort by the rows of the projects searched
-- alone (private.scope_under). A kinds or tags filter correlates with the text, and so with the
-- vectors: for "bug" (17% of the rows) the nearest memories of a query are mostly of other kinds,
-- and HNSW's iterative scan visited 1.6k-17.6k tuples to find 40 bugs (100k memories, idle: p50
-- 37 ms, p95 152 ms); for two kinds (27%) it reached hnsw.max_scan_tuples (20k) at the p90 and
-- returned fewer rows than the pool (p50 57 ms, p95 144 ms). Sorting the 13.4k bugs by exact
-- distance took 31 / 32 ms, the 26.8k of two kinds 78 / 86 ms, with every neighbour found. So
-- with kinds or tags the count includes them (memories_project_kind_idx, the tags GIN index) and
-- the bound is three times private.exact_scan_bound(), but no more than 30k rows where that is
-- larger (30k at 100k; 9.5k at 10k; the plain bound, 31.6k, at 1M): the exact sort's cost stays
-- under ~90 ms and its results complete. Without those filters nothing changes.
--
-- The keyword side's scans (private.keyword_rows) take `limit lim` rows in physical order. With
-- a filter that excludes the rows holding the query's terms (a "fix" query filtered to decisions
-- and conventions: estimated 13k matches, actually none), the planner's sequential scan, planned
-- to stop after a few thousand rows, read the whole table (104 ms at 100k, 1 s at 1M). With such
-- filters the scan now runs with enable_seqscan and enable_indexscan off: the bitmap scans return
-- the same rows in the same order (heap order), at a cost bounded by the postings (two kinds: p95
-- 122 -> 56 ms). Without them the sequential scan stays allowed: for common terms it finds the
-- `lim` rows sooner than a bitmap of all their postings (unfiltered p95 25 vs 38 ms).
--
-- private.semantic_matches and private.keyword_rows are the bodies of 20261207000300 with the
-- changes marked "[filtered]".

-- Whether the given projects hold fewer than `bound` rows of the given kinds and tags, counted up
-- to `bound` (an index-only scan of memories_project_kind_idx, ANDed with memories_tags_idx for
-- tags). Custom plans, so that an absent filter drops out of the plan.
create or replace function private.filtered_scope_under(
  scope uuid[],
  kinds text[],
  tags text[],
  tags_mode text,
  bound int
) returns boolean
language plpgsql stable set search_path = '' set plan_cache_mode = force_custom_plan as $$
#variable_conflict use_variable
begin
  return (
    select count(*) < bound
    from (
      select from public.memories m
      where m.project_id = any (scope)
        and (kinds is null or m.kind = any (kinds))
        and (coalesce(cardinality(tags), 0) = 0
          or (case when tags_mode = 'all' then m.tags @> tags else m.tags && tags end))
      limit bound
    ) r
  );
end
$$;
revoke all on function private.filtered_scope_under(uuid[], text[], text[], text, int)
  from public, anon, authenticated;

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
  -- [filtered] With kinds or tags, their rows in scope against 3 x the bound, at most 30k.
  exact boolean := case
    when kinds is null and coalesce(cardinality(tags), 0) = 0
      then private.scope_under(scope, bound)
    else private.filtered_scope_under(scope, kinds, tags, tags_mode,
      greatest(bound, least(3 * bound, 30000))) end;
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
declare
  filtered boolean;
  seqscan text;
  indexscan text;
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
  -- [filtered] A kinds or tags filter may exclude the rows holding the terms, which the planner
  -- cannot know: bitmap scans only then (for this statement only), which read no more than the
  -- postings and, like the sequential scan, return rows in physical order (a plain index scan
  -- would return them in the index's order, other rows under the limit).
  filtered := keyword_rows.kinds is not null or coalesce(cardinality(keyword_rows.tags), 0) > 0;
  if filtered then
    seqscan := pg_catalog.current_setting('enable_seqscan');
    indexscan := pg_catalog.current_setting('enable_indexscan');
    perform pg_catalog.set_config('enable_seqscan', 'off', true);
    perform pg_catalog.set_config('enable_indexscan', 'off', true);
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
  if filtered then
    perform pg_catalog.set_config('enable_seqscan', seqscan, true);
    perform pg_catalog.set_config('enable_indexscan', indexscan, true);
  end if;
end
$$;
