-- Search: public.search_memories(), hybrid keyword + semantic retrieval under row level security.
-- Callable as supabase.rpc('search_memories', { query_text, query_embedding, ... }) and used by
-- the memories and mcp functions (shared/search/). Access statistics (last_accessed_at,
-- access_count) are deliberately NOT updated here: the functions record them after responding,
-- in batches, so reads never take row locks or write WAL (shared/search/access.ts).

-- Re-runnable: the RPC and its row type are replaced as a whole.
drop function if exists public.search_memories(text, extensions.vector, int, uuid[], text[],
  text[], text, timestamptz, timestamptz, text, text, text, float, float, int, float, float, text);
drop type if exists public.memory_search_hit;

-- A 512-d vector takes 2 kB, just over the size (~2 kB) from which PostgreSQL moves values out
-- of the row into TOAST. Toasted, every exact nearest-neighbour scan (the plan when filters
-- leave few rows) fetches each vector from the TOAST table: ~4x slower, and invisible to the
-- planner's costs, so it picked exact scans over HNSW far too often. Rows now stay whole up to
-- a full page; only long memories still have their content (largest values first) toasted.
-- Applies to rows written from now on.
alter table public.memories set (toast_tuple_target = 8160);

-- Filters shared by both retrieval sides: one SQL expression that the planner inlines into each
-- side (so indexes on tags and project stay usable). No `set search_path`, which would prevent
-- inlining; it names only pg_catalog objects, which are always resolved first.
create or replace function private.search_filter(
  m public.memories,
  project_ids uuid[],
  kinds text[],
  tags text[],
  tags_mode text,
  since timestamptz,
  until timestamptz,
  repo text,
  file_path_prefix text
) returns boolean
language sql stable parallel safe as $$
  select (m.expires_at is null or m.expires_at > now())
    and (search_filter.project_ids is null or m.project_id = any (search_filter.project_ids))
    and (search_filter.kinds is null or m.kind = any (search_filter.kinds))
    and (coalesce(cardinality(search_filter.tags), 0) = 0
      or (case when search_filter.tags_mode = 'all' then m.tags @> search_filter.tags
               else m.tags && search_filter.tags end))
    and (search_filter.since is null or m.created_at >= search_filter.since)
    and (search_filter.until is null or m.created_at < search_filter.until)
    and (search_filter.repo is null or m.repo = search_filter.repo)
    and (search_filter.file_path_prefix is null
      or starts_with(m.file_path, search_filter.file_path_prefix))
$$;

-- Candidates of each side come from a SECURITY DEFINER helper that reads memories without row
-- level security and applies the memories_select policy's own predicate (project_id among
-- private.project_ids('reader'), computed inside, never taken from the caller), returning only
-- ids and scores; search_memories() then reads the rows under RLS, which has the last word.
-- Under RLS itself neither side could be planned well:
--   * PostgreSQL never uses a non-LEAKPROOF operator such as `@@` (or `@>` on tags) as an index
--     condition on a table with a policy, so every full-text query would scan the whole table;
--   * the policy's sub-select is opaque to the planner, which multiplies a default guess into
--     every estimate and then prefers an exact scan to the HNSW index even when the user can
--     see most rows (~10x slower at 10k memories). With the visible projects as a constant, it
--     picks the HNSW index for broad searches and an exact scan when filters leave few rows.
-- Both are PL/pgSQL with force_custom_plan so that every plan sees the actual arguments: a
-- generic plan of the optional filters ("arg is null or column = arg") misestimates them badly.

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
#variable_conflict use_column
declare
  visible uuid[] := private.project_ids('reader');
begin
  return query
  select m.id, (m.embedding operator(extensions.<=>) query_embedding)::float
  from public.memories m
  where m.embedding is not null
    and m.project_id = any (visible)
    and (semantic_matches.embedding_model is null
      or m.embedding_model = semantic_matches.embedding_model)
    and private.search_filter(m, semantic_matches.project_ids, semantic_matches.kinds,
      semantic_matches.tags, semantic_matches.tags_mode, semantic_matches.since,
      semantic_matches.until, semantic_matches.repo, semantic_matches.file_path_prefix)
  order by m.embedding operator(extensions.<=>) query_embedding
  limit pool;
end
$$;

-- The keyword side matches ANY term of the query (recall: agents ask in sentences, and an
-- all-terms match finds nothing for most of them), but ranks rows matching ALL terms first
-- (precision for identifiers and error messages). Negations become plain terms: in pasted
-- error text a " - " is punctuation, not "exclude". Measured in docs/eval.md.
create or replace function private.any_terms(q tsquery) returns tsquery
language sql immutable strict parallel safe set search_path = '' as $$
  select replace(pg_catalog.replace(q::text, '!', ''), ' & ', ' | ')::tsquery
$$;

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
begin
  return query
  select m.id, (0.5 * pg_catalog.ts_rank_cd(m.fts, any_q, 32)
      + case when m.fts operator(pg_catalog.@@) tsq then 0.5 else 0 end)::real
  from public.memories m
  where m.fts operator(pg_catalog.@@) any_q
    and m.project_id = any (visible)
    and private.search_filter(m, keyword_matches.project_ids, keyword_matches.kinds,
      keyword_matches.tags, keyword_matches.tags_mode, keyword_matches.since,
      keyword_matches.until, keyword_matches.repo, keyword_matches.file_path_prefix)
  order by 2 desc, 1
  limit pool;
end
$$;
revoke all on function private.semantic_matches(extensions.vector, text, int, uuid[], text[],
  text[], text, timestamptz, timestamptz, text, text) from public;
grant execute on function private.semantic_matches(extensions.vector, text, int, uuid[], text[],
  text[], text, timestamptz, timestamptz, text, text) to authenticated, service_role;
revoke all on function private.keyword_matches(tsquery, int, uuid[], text[], text[], text,
  timestamptz, timestamptz, text, text) from public;
grant execute on function private.keyword_matches(tsquery, int, uuid[], text[], text[], text,
  timestamptz, timestamptz, text, text) to authenticated, service_role;

-- One search hit: the memory's columns as shared/memory/rows.ts selects them, plus the scores.
create type public.memory_search_hit as (
  id uuid,
  user_id uuid,
  project_id uuid,
  project text,
  kind text,
  title text,
  content text,
  tags text[],
  metadata jsonb,
  repo text,
  file_path text,
  language text,
  symbol text,
  commit_sha text,
  importance real,
  content_hash text,
  embedding_status text,
  embedding_model text,
  version int,
  created_at timestamptz,
  updated_at timestamptz,
  last_accessed_at timestamptz,
  access_count int,
  expires_at timestamptz,
  score float,
  semantic_score float,
  keyword_score float
);

/*
  Scoring (reciprocal-rank fusion, Cormack et al. 2009):

    semantic side: up to `pool` rows nearest to query_embedding by cosine distance
                   (`order by embedding <=> query_embedding limit pool`: the HNSW index, or
                   an exact scan when filters leave few rows), only rows embedded with
                   `embedding_model` when it is given;
    keyword side:  up to `pool` rows matching ANY term of websearch_to_tsquery('english',
                   query_text) ("quoted phrases" stay phrases), rows matching ALL terms
                   first, then best ts_rank_cd (the GIN index on fts); keyword_score is
                   ts_rank_cd/(1+ts_rank_cd), plus 1 when every term matched;
    pool = greatest(match_count * 4, 40).

    rrf   = semantic_weight / (rrf_k + semantic_rank) + full_text_weight / (rrf_k + keyword_rank)
            (a side where the row is absent contributes 0; ranks start at 1)
    score = rrf * (1 + importance_weight * importance)
                * (1 + 0.5 ^ (age_days / recency_half_life_days))    -- only if a half-life is given
            age_days counts from updated_at.

  So with the defaults a row ranked first on both sides scores 2/61 ≈ 0.0328, first on one side
  only 1/61 ≈ 0.0164. semantic_score is the cosine similarity (1 - distance) and keyword_score
  ts_rank_cd normalised to [0, 1) (rank / (rank + 1)); each is null when that side did not
  return the row. Rows still waiting for an embedding can only come from the keyword side.

  mode: 'keyword' skips the semantic side, 'semantic' the keyword side, anything else is
  hybrid; a null query_embedding leaves only the keyword side (so 'semantic' returns nothing),
  a query of only stop words only the semantic side. Filters apply to both sides: project_ids
  (null = every project the user can read), kinds, tags (tags_mode 'all' = every tag, else
  any), since <= created_at < until, repo (exact), file_path_prefix. Expired rows never match.

  Searches are per user: only projects auth.uid() is a member of are searched (a caller with no
  user, e.g. service_role without a `sub` claim, finds nothing), and the rows are read under row
  level security (SECURITY INVOKER), which has the last word.
*/
create or replace function public.search_memories(
  query_text text,
  query_embedding extensions.vector(512) default null,
  match_count int default 10,
  project_ids uuid[] default null,
  kinds text[] default null,
  tags text[] default null,
  tags_mode text default 'any',
  since timestamptz default null,
  until timestamptz default null,
  repo text default null,
  file_path_prefix text default null,
  embedding_model text default null,
  full_text_weight float default 1,
  semantic_weight float default 1,
  rrf_k int default 60,
  recency_half_life_days float default null,
  importance_weight float default 0,
  mode text default 'hybrid'
) returns setof public.memory_search_hit
language plpgsql stable security invoker
set search_path = public, extensions
as $$
#variable_conflict use_column
declare
  n int := greatest(least(coalesce(match_count, 10), 100), 1);
  pool int := greatest(n * 4, 40);
  tsq tsquery := websearch_to_tsquery('english', coalesce(query_text, ''));
  use_semantic boolean := query_embedding is not null and coalesce(mode, 'hybrid') <> 'keyword';
  use_keyword boolean := coalesce(mode, 'hybrid') <> 'semantic' and numnode(tsq) > 0;
begin
  return query
  with semantic as (
    select sm.id, sm.distance
    from private.semantic_matches(query_embedding, search_memories.embedding_model, pool,
      search_memories.project_ids, search_memories.kinds, search_memories.tags,
      search_memories.tags_mode, search_memories.since, search_memories.until,
      search_memories.repo, search_memories.file_path_prefix) sm
    where use_semantic
  ),
  keyword as (
    select km.id, km.rank_score
    from private.keyword_matches(tsq, pool, search_memories.project_ids, search_memories.kinds,
      search_memories.tags, search_memories.tags_mode, search_memories.since,
      search_memories.until, search_memories.repo, search_memories.file_path_prefix) km
    where use_keyword
  ),
  -- Ranks are recomputed here: with hnsw.iterative_scan = relaxed_order the index may return
  -- neighbours slightly out of order.
  semantic_ranked as (
    select s.id, s.distance, row_number() over (order by s.distance, s.id) as rank
    from semantic s
  ),
  keyword_ranked as (
    select k.id, k.rank_score, row_number() over (order by k.rank_score desc, k.id) as rank
    from keyword k
  ),
  fused as (
    select coalesce(s.id, k.id) as id,
           coalesce(semantic_weight / (rrf_k + s.rank), 0)
             + coalesce(full_text_weight / (rrf_k + k.rank), 0) as rrf,
           1 - s.distance as semantic_score,
           k.rank_score::float as keyword_score
    from semantic_ranked s
    full outer join keyword_ranked k on k.id = s.id
  )
  select m.id, m.user_id, m.project_id, p.slug, m.kind, m.title, m.content, m.tags, m.metadata,
         m.repo, m.file_path, m.language, m.symbol, m.commit_sha, m.importance, m.content_hash,
         m.embedding_status, m.embedding_model, m.version, m.created_at, m.updated_at,
         m.last_accessed_at, m.access_count, m.expires_at,
         f.rrf
           * (1 + coalesce(importance_weight, 0) * m.importance)
           * (1 + coalesce(power(0.5::float,
               extract(epoch from now() - m.updated_at)::float / 86400
                 / nullif(recency_half_life_days, 0)), 0)) as score,
         f.semantic_score,
         f.keyword_score
  from fused f
  join public.memories m on m.id = f.id
  join public.projects p on p.id = m.project_id
  -- Fetch the few fused rows by primary key; a plain join may hash the whole table.
  where m.id = any (array(select fused.id from fused))
  order by score desc, m.id
  limit n;
end
$$;

-- pgvector 0.8 can keep scanning the HNSW graph until enough rows pass the filters (project,
-- kind, ...); without it a filtered query could return fewer neighbours than asked.
-- Older pgvector reserves the hnsw.* prefix and would reject the unknown setting.
do $$
begin
  if (select string_to_array(extversion, '.')::int[] >= '{0,8,0}'
      from pg_extension where extname = 'vector') then
    alter function private.semantic_matches(extensions.vector, text, int, uuid[], text[],
      text[], text, timestamptz, timestamptz, text, text)
      set hnsw.iterative_scan = 'relaxed_order';
  end if;
end $$;

comment on function public.search_memories is
  'Hybrid memory search (RRF of pgvector cosine order and ts_rank_cd order) under RLS; see the migration 20261124000300_search.sql for the scoring.';

revoke all on function public.search_memories(text, extensions.vector, int, uuid[], text[], text[],
  text, timestamptz, timestamptz, text, text, text, float, float, int, float, float, text)
  from public, anon;
grant execute on function public.search_memories(text, extensions.vector, int, uuid[], text[],
  text[], text, timestamptz, timestamptz, text, text, text, float, float, int, float, float, text)
  to authenticated, service_role;
