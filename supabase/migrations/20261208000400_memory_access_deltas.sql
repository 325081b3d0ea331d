-- Access statistics are collected in a narrow table and folded into memories every 10 minutes
-- (docs/benchmarks.md, "Background work beside searches").
--
-- The access tracker (shared/search/access.ts) wrote last_accessed_at and access_count straight
-- into public.memories once a second for the memories searches had returned. A memories row is
-- ~2.6 kB (its vector inline, toast_tuple_target 8160) and pages hold three, so no update fits
-- beside the old row: every one is a new tuple in all 13 indexes, HNSW included, about 5 ms of
-- database time per row at 100k memories (100 rows: 460-650 ms), i.e. ~50 ms for the 10 results
-- of one search, several times the search itself. Now the tracker adds its counts to
-- private.memory_access (a primary key and two numbers; an upsert of 100 rows takes ~1 ms), and
-- private.fold_memory_access() moves them into memories in one statement: each memory returned
-- in those 10 minutes is rewritten once, however often it was returned. The columns keep their
-- meaning and readers are unchanged; they lag by up to the fold interval (statistics, not data).
--
-- No foreign key: a delta of a memory deleted meanwhile matches nothing and is dropped by the
-- fold, and the tracker's upsert takes no lock on memories.

create table if not exists private.memory_access (
  memory_id uuid primary key,
  last_accessed_at timestamptz not null,
  hits int not null check (hits > 0)
) with (fillfactor = 70); -- room for HOT updates of a row returned again before the fold
revoke all on private.memory_access from public, anon, authenticated;

-- Moves every collected delta into memories, atomically (the deltas are deleted by the same
-- statement that applies them); returns how many memories were updated. access_count saturates
-- at the int maximum.
create or replace function private.fold_memory_access() returns int
language plpgsql volatile set search_path = '' as $$
declare
  folded int;
begin
  with gone as (
    delete from private.memory_access returning memory_id, last_accessed_at, hits
  )
  update public.memories m
  set last_accessed_at = greatest(m.last_accessed_at, g.last_accessed_at),
      access_count = least(m.access_count::bigint + g.hits, 2147483647)::int
  from gone g
  where m.id = g.memory_id;
  get diagnostics folded = row_count;
  return folded;
end $$;
revoke all on function private.fold_memory_access() from public, anon, authenticated;

-- Supabase: pg_cron folds every 10 minutes. Elsewhere the embedded stack's timer does
-- (scripts/local/analytics_jobs.ts).
do $$
begin
  if exists (select 1 from pg_namespace where nspname = 'cron') then
    perform cron.schedule('codememory-fold-memory-access', '*/10 * * * *',
      'select private.fold_memory_access()');
  end if;
end $$;
