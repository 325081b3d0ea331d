-- Full-text postings per tenant: a GIN index on (project_id, fts) (docs/benchmarks.md, "Many
-- tenants").
--
-- Every keyword search is limited to the caller's projects (project_id = any (visible)), but
-- memories_fts_idx knows only lexemes: a user with 3.5k of 100k memories paid for the postings
-- of every tenant (47k entries, 48 ms, for a common query) before a BitmapAnd with the project
-- index threw 96% of them away. With project_id as a GIN key (btree_gin) the index intersects
-- the two itself and visits only the caller's postings (1.6k entries, 1.8 ms). The lexeme-only
-- index stays: it is cheaper for a user who reads most of the table through many projects (one
-- scan instead of one per project), and the planner picks between them per query.
--
-- btree_gin is a Supabase-supported extension and ships with PostgreSQL's contrib; where it is
-- missing (PGlite without the contrib module) this migration adds nothing and searches use
-- memories_fts_idx, with the same results. Building it blocks writes to memories for a while on
-- a large table (30 s or so per million rows on 2 cores): such a database can build it first,
-- out of band, with `create index concurrently memories_project_fts_idx on public.memories using
-- gin (project_id, fts)`, after which this migration finds it and adds nothing.
do $$
begin
  if exists (select 1 from pg_catalog.pg_available_extensions where name = 'btree_gin') then
    create extension if not exists btree_gin with schema extensions;
    create index if not exists memories_project_fts_idx on public.memories
      using gin (project_id, fts);
  end if;
end $$;
