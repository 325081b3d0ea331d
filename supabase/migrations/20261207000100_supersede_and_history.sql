-- Superseded knowledge and version history (issue #15, item 3).
--
-- supersedes: a memory may name the older memory of the same project it replaces. The old one
-- stays readable (get_memory shows the link both ways) but search leaves it out unless asked
-- (search_memories(include_superseded => true)). A link counts only while both memories are in
-- one project and the newer one is not expired; deleting the newer one sets the link to null,
-- so the older one is found again.
--
-- memory_versions: every update of a memory's own fields keeps the version it replaced (content,
-- title, tags, kind, code fields, metadata, importance, who wrote it and when), so an update no
-- longer overwrites knowledge for good and any version can be restored (as a new version).
-- Deleting a memory deletes its history too, by design: delete means forget.

-- Links ----------------------------------------------------------------------------------------
alter table public.memories add column if not exists supersedes uuid
  references public.memories (id) on delete set null;
create index if not exists memories_supersedes_idx on public.memories (supersedes)
  where supersedes is not null;

-- Who wrote the current version (null: its author, user_id). Kept by the triggers below, never
-- by the caller: INSERT is table-wide (imports) and UPDATE has no grant on it.
alter table public.memories add column if not exists updated_by uuid;

grant update (supersedes) on public.memories to authenticated;

-- A memory's writer is whoever is signed in (imports and the operator: its author).
create or replace function private.memories_before_insert_writer() returns trigger
language plpgsql set search_path = '' as $$
begin
  new.updated_by := coalesce(auth.uid(), new.user_id);
  return new;
end $$;
drop trigger if exists memories_before_insert_writer on public.memories;
create trigger memories_before_insert_writer before insert on public.memories
  for each row execute function private.memories_before_insert_writer();

-- As before (20261124000700), plus the writer of the new version.
create or replace function private.memories_before_update() returns trigger
language plpgsql set search_path = '' as $$
begin
  new.version := old.version + 1;
  new.updated_at := now();
  new.updated_by := coalesce(auth.uid(), old.updated_by, old.user_id);
  if new.content is distinct from old.content or new.title is distinct from old.title then
    new.embedding := null;
    new.embedding_model := null;
    new.embedding_status := 'pending';
    new.embedding_attempts := 0;
    new.embedding_error := null;
    new.embedded_at := null;
  end if;
  return new;
end $$;

-- History --------------------------------------------------------------------------------------
create table if not exists public.memory_versions (
  memory_id uuid not null references public.memories (id) on delete cascade,
  version int not null,
  kind text not null,
  title text,
  content text not null,
  tags text[] not null,
  metadata jsonb not null,
  repo text,
  file_path text,
  language text,
  symbol text,
  commit_sha text,
  importance real not null,
  -- who wrote this version and when; replaced_at is when the next version took its place
  written_by uuid,
  written_at timestamptz not null,
  replaced_at timestamptz not null default now(),
  primary key (memory_id, version)
);

-- Readable exactly where the memory is (its project's members); written only by the trigger.
alter table public.memory_versions enable row level security;
drop policy if exists memory_versions_select on public.memory_versions;
create policy memory_versions_select on public.memory_versions for select to authenticated
  using (exists (select 1 from public.memories m where m.id = memory_versions.memory_id));
revoke all on table public.memory_versions from public, anon, authenticated;
grant select on table public.memory_versions to authenticated;
grant select, insert, update, delete on table public.memory_versions to service_role;

-- Runs after the before-update trigger numbered the new version; `old` is the one replaced.
create or replace function private.memories_keep_version() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  insert into public.memory_versions (memory_id, version, kind, title, content, tags, metadata,
    repo, file_path, language, symbol, commit_sha, importance, written_by, written_at)
  values (old.id, old.version, old.kind, old.title, old.content, old.tags, old.metadata,
    old.repo, old.file_path, old.language, old.symbol, old.commit_sha, old.importance,
    coalesce(old.updated_by, old.user_id), old.updated_at)
  on conflict (memory_id, version) do nothing; -- an imported memory may restart its numbering
  return null;
end $$;
revoke all on function private.memories_keep_version() from public, anon, authenticated;

drop trigger if exists memories_keep_version on public.memories;
create trigger memories_keep_version after update of
  kind, title, content, tags, metadata, repo, file_path, language, symbol, commit_sha,
  importance, project_id, expires_at
  on public.memories for each row execute function private.memories_keep_version();

-- Search: superseded memories are left out by default ----------------------------------------
-- The body is 20261204000200's unchanged except for two marked lines: the parameter
-- include_superseded (last, so positional calls keep working) and one condition in the final
-- WHERE. A later redefinition of search_memories should carry both over.
drop function if exists public.search_memories(text, extensions.vector, int, uuid[], text[],
  text[], text, timestamptz, timestamptz, text, text, text, float, float, int, float, float, text,
  float, float, float);

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
  full_text_coverage_power float default 1,
  include_superseded boolean default false -- [supersede] added by 20261207000100
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
    -- [supersede] added by 20261207000100: a memory replaced by a visible, unexpired memory of
    -- its project is left out (applied after the pools: at most a few of their rows).
    and (include_superseded or not exists (
      select 1 from public.memories s
      where s.supersedes = m.id and s.project_id = m.project_id
        and (s.expires_at is null or s.expires_at > now())))
  order by score desc, m.id
  limit n;
end
$$;

comment on function public.search_memories is
  'Hybrid memory search (RRF of pgvector cosine order by best chunk and ts_rank_cd order) with a relevance floor, under RLS, superseded memories left out unless include_superseded; see migrations 20261204000200_search_relevance_floor.sql (scoring) and 20261207000100_supersede_and_history.sql.';

revoke all on function public.search_memories(text, extensions.vector, int, uuid[], text[], text[],
  text, timestamptz, timestamptz, text, text, text, float, float, int, float, float, text, float,
  float, float, boolean) from public, anon;
grant execute on function public.search_memories(text, extensions.vector, int, uuid[], text[],
  text[], text, timestamptz, timestamptz, text, text, text, float, float, int, float, float, text,
  float, float, float, boolean) to authenticated, service_role;
