-- Retrieval, part 1: vectors are 384-d, and long memories are searchable by every part.
--
-- Width 512 → 384. Every production provider is natively 384-d: all-MiniLM-L6-v2 (the embedded
-- stack's `local`), gte-small (`supabase`) and text-embedding-3-small (`openai`, asked for 384
-- dimensions). At 512 the first two were zero-padded: a third more storage, index size and
-- distance work for nothing (a 384-d vector is 1.5 kB instead of 2 kB). Measured in
-- docs/eval.md ("Vector width").
--
-- Existing vectors cannot be narrowed in general (use-lite-512 and hash-v1 really use 512
-- numbers, openai rows were made at 512), and rows of long memories need their chunks anyway,
-- so every row goes back to 'pending' and the embed sweep re-embeds it with the deployment's
-- model (the webhook path, no special tooling). Nothing is lost: content, titles and every other
-- column stay; search keeps working throughout, by keywords, and by meaning for each row as soon
-- as it is re-embedded.

drop index if exists public.memories_embedding_idx;

update public.memories
set embedding = null, embedding_model = null, embedding_status = 'pending',
    embedding_attempts = 0, embedding_error = null, embedded_at = null,
    embedding_requested_at = null
where embedding is not null or embedding_status <> 'pending';

alter table public.memories alter column embedding type extensions.vector(384) using null;

create index if not exists memories_embedding_idx on public.memories
  using hnsw (embedding extensions.vector_cosine_ops) with (m = 16, ef_construction = 200);

-- Chunks --------------------------------------------------------------------------------------
-- A memory's text (title + content) longer than one model window is embedded in overlapping
-- chunks, each carrying the title (shared/embeddings/chunks.ts). Chunk 0 stays in
-- memories.embedding (what near-duplicate hints, exports and short memories use); chunks 1..n
-- live here, one row and one HNSW entry each, so the semantic side finds a memory by its best
-- chunk with the same index-ordered scan as before. Short memories (most) have no rows here.
-- Only the embed worker writes it and only SECURITY DEFINER search helpers read it.
create table if not exists private.memory_chunks (
  memory_id uuid not null references public.memories (id) on delete cascade,
  chunk int not null check (chunk >= 1),
  embedding extensions.vector(384) not null,
  embedding_model text not null,
  primary key (memory_id, chunk)
);
create index if not exists memory_chunks_embedding_idx on private.memory_chunks
  using hnsw (embedding extensions.vector_cosine_ops) with (m = 16, ef_construction = 200);
revoke all on table private.memory_chunks from public, anon, authenticated;
grant select, insert, update, delete on table private.memory_chunks to service_role;

-- A title or content change makes the memory's chunks stale along with its vector (the before
-- update trigger resets that one); drop them in the same statement.
create or replace function private.memories_drop_chunks() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  delete from private.memory_chunks c where c.memory_id = new.id;
  return null;
end $$;
revoke all on function private.memories_drop_chunks() from public, anon, authenticated;

drop trigger if exists memories_drop_chunks on public.memories;
create trigger memories_drop_chunks after update of content, title on public.memories
  for each row when (old.content is distinct from new.content or old.title is distinct from new.title)
  execute function private.memories_drop_chunks();

-- Semantic side: nearest memories by their best part. Two index-ordered scans of `pool` rows
-- each (memories by their chunk 0, chunks 1..n), merged by memory with the smallest distance.
-- A chunk counts only while its memory is ready under the same model (stale chunks never match).
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
  with whole as (
    select m.id, (m.embedding operator(extensions.<=>) query_embedding)::float as distance
    from public.memories m
    where m.embedding is not null
      and m.project_id = any (visible)
      and (semantic_matches.embedding_model is null
        or m.embedding_model = semantic_matches.embedding_model)
      and private.search_filter(m, semantic_matches.project_ids, semantic_matches.kinds,
        semantic_matches.tags, semantic_matches.tags_mode, semantic_matches.since,
        semantic_matches.until, semantic_matches.repo, semantic_matches.file_path_prefix)
    order by m.embedding operator(extensions.<=>) query_embedding
    limit pool
  ),
  parts as (
    select c.memory_id as id,
           (c.embedding operator(extensions.<=>) query_embedding)::float as distance
    from private.memory_chunks c
    join public.memories m on m.id = c.memory_id
    where m.project_id = any (visible)
      and m.embedding_status = 'ready'
      and m.embedding_model = c.embedding_model
      and (semantic_matches.embedding_model is null
        or c.embedding_model = semantic_matches.embedding_model)
      and private.search_filter(m, semantic_matches.project_ids, semantic_matches.kinds,
        semantic_matches.tags, semantic_matches.tags_mode, semantic_matches.since,
        semantic_matches.until, semantic_matches.repo, semantic_matches.file_path_prefix)
    order by c.embedding operator(extensions.<=>) query_embedding
    limit pool
  )
  select u.id, min(u.distance)
  from (select * from whole union all select * from parts) u
  group by u.id
  order by 2, 1
  limit pool;
end
$$;

do $$
begin
  if (select string_to_array(extversion, '.')::int[] >= '{0,8,0}'
      from pg_extension where extname = 'vector') then
    alter function private.semantic_matches(extensions.vector, text, int, uuid[], text[],
      text[], text, timestamptz, timestamptz, text, text)
      set hnsw.iterative_scan = 'relaxed_order';
  end if;
end $$;

revoke all on function private.semantic_matches(extensions.vector, text, int, uuid[], text[],
  text[], text, timestamptz, timestamptz, text, text) from public, anon;
grant execute on function private.semantic_matches(extensions.vector, text, int, uuid[], text[],
  text[], text, timestamptz, timestamptz, text, text) to authenticated, service_role;
