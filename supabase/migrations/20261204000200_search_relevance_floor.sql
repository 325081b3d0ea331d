-- Retrieval, part 2: search_memories takes 384-d query vectors and has a relevance floor.
--
-- Before, a search always returned its top match_count rows, however unrelated: "nonexistent
-- kubernetes thing" got the three nearest memories of anything. Now a fused row is returned
-- only when at least one side supports it well enough:
--   semantic: its cosine similarity (best chunk) is at least min_similarity, whose default
--             belongs to the embedding model (private.default_min_similarity);
--   keyword:  it contains at least min_keyword_coverage of the query's distinct stemmed terms
--             (1 = every term).
-- Both were calibrated on one half of the eval's queries and checked on the other
-- (docs/eval.md, "Relevance floor"). Pass 0 to turn a side's floor off.
--
-- Fusion is retuned for the MiniLM model (docs/eval.md, "Fusion"): rrf_k 60 → 10, weights
-- full_text:semantic 1:1 → 1:5, and a keyword hit's contribution scales with the share of the
-- query's terms it contains (full_text_coverage_power 1), so one common word shared with a
-- question no longer ranks a memory as high as the memory that answers it.

drop function if exists public.search_memories(text, extensions.vector, int, uuid[], text[],
  text[], text, timestamptz, timestamptz, text, text, text, float, float, int, float, float, text);

-- Cosine floor per embedding model: the similarity below which a row is not returned unless
-- the keyword side supports it. Models spread their cosines differently, so one number cannot
-- serve all. Calibrated on the eval (docs/eval.md, "Relevance floor": the floor that removes
-- the most noise while keeping at least 95% of the answers, chosen on one half of the queries
-- and checked on the other): minilm-l6-v2-q4 0.32, hash-v2 0.22. gte-small and OpenAI could not
-- be run here, so they get no floor until they are calibrated the same way (pass
-- min_similarity meanwhile); neither does any other model.
create or replace function private.default_min_similarity(model text) returns float
language sql immutable parallel safe set search_path = '' as $$
  select case model
    when 'minilm-l6-v2-q4' then 0.32::float
    when 'hash-v2' then 0.22::float
  end
$$;

-- Share of the query's distinct stemmed terms that occur in a document (0..1; null for a query
-- without terms). Terms come from the keyword side's own analysis ('english').
create or replace function private.term_coverage(doc tsvector, query_text text) returns float
language sql immutable parallel safe set search_path = '' as $$
  select (count(*) filter (where doc operator(pg_catalog.@@)
            pg_catalog.quote_literal(t.term)::tsquery))::float / nullif(count(*), 0)
  from pg_catalog.unnest(pg_catalog.tsvector_to_array(
    pg_catalog.to_tsvector('english'::regconfig, coalesce(query_text, '')))) as t(term)
$$;

/*
  Scoring (reciprocal-rank fusion, Cormack et al. 2009):

    semantic side: up to `pool` memories nearest to query_embedding by cosine distance of
                   their best chunk (private.semantic_matches: the HNSW indexes of memories and
                   of private.memory_chunks, or exact scans when filters leave few rows), only
                   rows embedded with `embedding_model` when it is given;
    keyword side:  up to `pool` rows matching ANY term of websearch_to_tsquery('english',
                   query_text) ("quoted phrases" stay phrases), rows matching ALL terms
                   first, then best ts_rank_cd (private.keyword_matches, the GIN index on fts);
    pool = greatest(match_count * 4, 40).

    rrf   = semantic_weight / (rrf_k + semantic_rank)
            + full_text_weight * coverage ^ full_text_coverage_power / (rrf_k + keyword_rank)
            (a side where the row is absent contributes 0; ranks start at 1; coverage is the
            share of the query's distinct stemmed terms the row contains, so a row matching one
            common word of a sentence counts for less than one matching all of them)
    score = rrf * (1 + importance_weight * importance)
                * (1 + 0.5 ^ (age_days / recency_half_life_days))    -- only if a half-life is given
            age_days counts from updated_at.

  Relevance floor: a row is returned only when semantic_score >= min_similarity (default:
  private.default_min_similarity(embedding_model); none for an unknown model) or its
  term coverage >= min_keyword_coverage (default 1: every query term). 0 turns either off.
  So a search can return nothing: the callers say so (shared/search).

  semantic_score is the cosine similarity (1 - distance) of the best chunk and keyword_score
  the keyword side's rank score; each is null when that side did not return the row. Rows
  still waiting for an embedding can only come from the keyword side.

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
  query_embedding extensions.vector(384) default null,
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
  semantic_weight float default 5,
  rrf_k int default 10,
  recency_half_life_days float default null,
  importance_weight float default 0,
  mode text default 'hybrid',
  min_similarity float default null,
  min_keyword_coverage float default 1,
  full_text_coverage_power float default 1
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
  sim_floor float := coalesce(min_similarity,
    private.default_min_similarity(search_memories.embedding_model), 0);
  coverage_floor float := coalesce(min_keyword_coverage, 0);
  coverage_power float := coalesce(full_text_coverage_power, 0);
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
           coalesce(semantic_weight / (rrf_k + s.rank), 0) as semantic_part,
           coalesce(full_text_weight / (rrf_k + k.rank), 0) as keyword_part,
           1 - s.distance as semantic_score,
           k.rank_score::float as keyword_score
    from semantic_ranked s
    full outer join keyword_ranked k on k.id = s.id
  )
  select m.id, m.user_id, m.project_id, p.slug, m.kind, m.title, m.content, m.tags, m.metadata,
         m.repo, m.file_path, m.language, m.symbol, m.commit_sha, m.importance, m.content_hash,
         m.embedding_status, m.embedding_model, m.version, m.created_at, m.updated_at,
         m.last_accessed_at, m.access_count, m.expires_at,
         (f.semantic_part + f.keyword_part * power(coalesce(c.coverage, 1), coverage_power))
           * (1 + coalesce(importance_weight, 0) * m.importance)
           * (1 + coalesce(power(0.5::float,
               extract(epoch from now() - m.updated_at)::float / 86400
                 / nullif(recency_half_life_days, 0)), 0)) as score,
         f.semantic_score,
         f.keyword_score
  from fused f
  join public.memories m on m.id = f.id
  join public.projects p on p.id = m.project_id
  -- Term coverage only where something uses it: keyword hits, when weighted or floored.
  cross join lateral (
    select case when f.keyword_score is not null and (coverage_power <> 0 or coverage_floor > 0)
                then private.term_coverage(m.fts, query_text) end as coverage
  ) c
  -- Fetch the few fused rows by primary key; a plain join may hash the whole table.
  where m.id = any (array(select fused.id from fused))
    and ((f.semantic_score is not null and f.semantic_score >= sim_floor)
      or (f.keyword_score is not null
        and (coverage_floor <= 0 or c.coverage >= coverage_floor)))
  order by score desc, m.id
  limit n;
end
$$;

comment on function public.search_memories is
  'Hybrid memory search (RRF of pgvector cosine order by best chunk and ts_rank_cd order) with a relevance floor, under RLS; see migration 20261204000200_search_relevance_floor.sql for the scoring.';

revoke all on function public.search_memories(text, extensions.vector, int, uuid[], text[], text[],
  text, timestamptz, timestamptz, text, text, text, float, float, int, float, float, text, float,
  float, float) from public, anon;
grant execute on function public.search_memories(text, extensions.vector, int, uuid[], text[],
  text[], text, timestamptz, timestamptz, text, text, text, float, float, int, float, float, text,
  float, float, float) to authenticated, service_role;
