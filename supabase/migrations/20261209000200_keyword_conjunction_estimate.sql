-- The keyword side's conjunctions no longer lead the planner past the tenant key
-- (docs/benchmarks.md, "Many tenants: conjunctions").
--
-- private.keyword_rows' first scan matches every query term. The planner estimates a conjunction
-- as the product of its terms' frequencies, as if they were independent; terms of one question
-- are not ("how to fix a race between two concurrent writers": estimated 1 row of 1M, matched
-- by 33k). With one row expected, adding the tenant key to the GIN condition (the project and
-- lexemes index) only costs, so the scan read the lexemes index alone and then the 33k rows from
-- the heap, all but 195 of them other tenants': 160-210 ms for a user reading 5k rows, the
-- p95 of the 1k-50k buckets. A conjunction of two or more terms is now estimated like a value
-- the planner cannot see (a subquery's: the default 0.5% selectivity), and the tenant key goes
-- into the index condition: 2.7 ms for the same rows. Only where the scope is a small share of
-- the table (under private.exact_scan_bound(), counted as the semantic side does, or under a
-- tenth of it by the planner's estimate: a user reading 40k of 1M rows had the same misestimate,
-- 200-400 ms cold): for a user reading most of it the tenant key gains nothing and its postings
-- cost more to intersect than they save (100k rows, one user's 80k: 9.5 instead of 1.5 ms).
-- Single terms and disjunctions keep their estimates (for common terms a sequential scan with
-- the limit can beat a bitmap of all their postings, docs/benchmarks.md "Filtered searches").
-- The rows are the same: the scan returns the first `lim` in physical order either way.
--
-- The body is that of 20261208000200 with the changes marked "[conjunction]".

-- Whether the projects in `scope` hold a small share of memories: fewer rows than
-- private.exact_scan_bound() (counted, private.scope_under), or else under a tenth of the table
-- by the planner's own estimate (read from EXPLAIN: two plans of a trivial query, ~0.2 ms). A
-- scope of every project is the whole table without asking.
create or replace function private.scope_is_small_share(scope uuid[]) returns boolean
language plpgsql volatile -- EXPLAIN is not allowed in a stable function; this one writes nothing
set search_path = '' as $$
declare
  part jsonb;
  whole jsonb;
begin
  if private.scope_under(scope, private.exact_scan_bound()) then
    return true;
  end if;
  if not exists (select 1 from public.projects p
                 where not (p.id operator(pg_catalog.=) any (scope))) then
    return false;
  end if;
  execute pg_catalog.format('explain (format json) select from public.memories m
    where m.project_id operator(pg_catalog.=) any (%L::uuid[])', scope) into part;
  execute 'explain (format json) select from public.memories m' into whole;
  return (part -> 0 -> 'Plan' ->> 'Plan Rows')::float8
    < 0.1 * (whole -> 0 -> 'Plan' ->> 'Plan Rows')::float8;
end
$$;
revoke all on function private.scope_is_small_share(uuid[]) from public, anon, authenticated;

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
  -- [conjunction] terms that must all occur, more than one of them, in a scope that is a small
  -- share of the table (private.scope_is_small_share)
  conjunction boolean := not by_tenant and pg_catalog.numnode(q) > 1
    and pg_catalog.strpos(q::text, ' | ') = 0
    and private.scope_is_small_share(scope);
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
  -- [conjunction] A conjunction is estimated from the query's value through a subquery's, that
  -- is with the default selectivity (0.5%), since its own estimate is the product of its terms'
  -- frequencies, as if they were independent (CASE folds away in this custom plan).
  return query
  select m.id, m.fts
  from public.memories m
  where m.fts operator(pg_catalog.@@) (case when conjunction then (select q) else q end)
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
