-- Keyword side of search in bounded time (docs/benchmarks.md, "Keyword side at 100k").
--
-- private.keyword_matches ranked EVERY row matching any query term with ts_rank_cd before its
-- `limit pool`: at 100k memories a sentence-like query matches up to half of them, and ranking
-- 47k rows took 0.3-1.2 s. Now it ranks at most a budget of rows (8 x pool: 320 for the default
-- 10 results), found with at most three index scans:
--   1. rows holding every term (the query itself) outrank all others (+ 0.5): when they fill the
--      pool, the first `budget` of them are ranked and nothing else is read;
--   2. otherwise the matches of any term are read up to a cap (2 x budget), and when the cap cuts
--      them short also the rows holding at least two of the query's six rarest terms (rarity
--      from the planner's statistics), wherever they lie; of these, the budget's worth holding
--      the most rare terms (then by id) are ranked, together with the rows of step 1.
-- While the matches fit the budget every one of them is ranked, exactly as before. Past it, a
-- row holding more of the terms, and rarer ones, nearly always outranks one holding fewer, more
-- common ones; where ts_rank_cd would order them otherwise (one term in a title beating two in
-- the body), or where the cap leaves rows unread (it reads in physical order), the pool is an
-- approximation: measured in docs/benchmarks.md. Scores, fusion and the relevance floor see the
-- same rank_score as before.
--
-- Evaluated and not used (numbers in docs/benchmarks.md): a RUM index ranks in the index without
-- the heap (15 ms for 7.5k matches instead of 95), but still in time linear in the matches (150
-- ms for 47k), with its own rank function that nothing outside the extension computes (PGlite
-- and plain PostgreSQL could not return the same results), and without a uuid operator class
-- for the tenant key.

-- Terms of an any-terms query (its top-level OR operands; a phrase stays one term), rarest
-- first. Rarity comes from pg_stats.most_common_elems of memories.fts (ANALYZE keeps the
-- frequencies of the commonest lexemes); a lexeme it does not list is rarer than all it does,
-- so without statistics every term counts as rare and the order is alphabetical.
create or replace function private.query_terms(any_q tsquery) returns text[]
language sql stable set search_path = '' as $$
  with terms as (
    select distinct t.term
    -- split at " | " outside quoted lexemes (an even number of quotes follows)
    from pg_catalog.regexp_split_to_table(any_q::text,
      ' \| (?=(?:[^'']*''[^'']*'')*[^'']*$)') as t(term)
  ),
  stats as (
    select e.lexeme, e.freq
    from pg_catalog.pg_stats s,
      unnest(s.most_common_elems::text::text[], s.most_common_elem_freqs) as e(lexeme, freq)
    where s.schemaname = 'public' and s.tablename = 'memories' and s.attname = 'fts'
  ),
  rarity as (
    -- a phrase is as rare as its rarest lexeme
    select t.term, min(coalesce(s.freq, 0)) as freq
    from terms t
    cross join lateral pg_catalog.regexp_matches(t.term, '''((?:[^'']|'''')*)''', 'g') as l(m)
    left join stats s on s.lexeme = pg_catalog.replace(l.m[1], '''''', '''')
    group by t.term
  )
  select coalesce(array_agg(r.term order by r.freq, r.term), '{}') from rarity r
$$;

-- A query matching rows that hold at least k of `terms` (an OR of every k-term conjunction).
create or replace function private.at_least_terms(terms text[], k int) returns tsquery
language plpgsql immutable strict set search_path = '' as $$
declare
  n int := cardinality(terms);
  combo int[];
  clauses text[] := '{}';
  i int;
begin
  if k < 1 or k > n then
    raise exception 'at_least_terms: k must be between 1 and %, not %', n, k;
  end if;
  combo := array(select pg_catalog.generate_series(1, k));
  loop
    clauses := clauses
      || ('(' || (select pg_catalog.string_agg('(' || terms[c] || ')', ' & ') from unnest(combo) c)
        || ')');
    -- the next k-combination of 1..n in lexicographic order
    i := k;
    while i >= 1 and combo[i] = n - k + i loop
      i := i - 1;
    end loop;
    exit when i < 1;
    combo[i] := combo[i] + 1;
    for j in i + 1 .. k loop
      combo[j] := combo[j - 1] + 1;
    end loop;
  end loop;
  return pg_catalog.array_to_string(clauses, ' | ')::tsquery;
end $$;

-- A row's keyword score: 0.5 x ts_rank_cd over any term, + 0.5 when every term matches.
create or replace function private.keyword_score(fts tsvector, tsq tsquery, any_q tsquery)
returns real
language sql immutable parallel safe set search_path = '' as $$
  select (0.5 * pg_catalog.ts_rank_cd(fts, any_q, 32)
    + case when fts operator(pg_catalog.@@) tsq then 0.5 else 0 end)::real
$$;

-- Up to `lim` visible rows matching q under the search filters, in no order, so that the scan
-- stops after `lim` rows (the GIN bitmap's physical order, which a sequential scan shares).
create or replace function private.keyword_rows(
  q tsquery,
  lim int,
  visible uuid[],
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
  return query
  select m.id, m.fts
  from public.memories m
  where m.fts operator(pg_catalog.@@) q
    and m.project_id = any (visible)
    and private.search_filter(m, keyword_rows.project_ids, keyword_rows.kinds,
      keyword_rows.tags, keyword_rows.tags_mode, keyword_rows.since, keyword_rows.until,
      keyword_rows.repo, keyword_rows.file_path_prefix)
  limit lim;
end
$$;
revoke all on function private.keyword_rows(tsquery, int, uuid[], uuid[], text[], text[], text,
  timestamptz, timestamptz, text, text) from public;

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
  visible uuid[] := private.project_ids('reader');
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
  from private.keyword_rows(tsq, budget, visible, project_ids, kinds, tags, tags_mode, since,
    until, repo, file_path_prefix) r;
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
  from private.keyword_rows(any_q, cap, visible, project_ids, kinds, tags, tags_mode, since,
    until, repo, file_path_prefix) r;
  if cardinality(ids) = cap and cardinality(terms) >= 3 then
    select array_agg(r.id), array_agg(r.fts) into more_ids, more_docs
    from private.keyword_rows(private.at_least_terms(terms, 2), cap, visible, project_ids, kinds,
      tags, tags_mode, since, until, repo, file_path_prefix) r;
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
revoke all on function private.keyword_matches(tsquery, int, uuid[], text[], text[], text,
  timestamptz, timestamptz, text, text) from public;
grant execute on function private.keyword_matches(tsquery, int, uuid[], text[], text[], text,
  timestamptz, timestamptz, text, text) to authenticated, service_role;
