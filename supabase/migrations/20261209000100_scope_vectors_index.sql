-- The semantic side's exact sort reads vectors from an index, not from the table
-- (docs/benchmarks.md, "Exact sorts from a covering index").
--
-- Below private.exact_scan_bound() (small tenants, one project) and under kinds or tags filters
-- (20261208000200) private.semantic_matches sorts the rows in scope by exact distance. It read
-- them from the heap: a memory's row is ~2.6 kB (content, lexemes and the 1.5 kB vector kept
-- inline), three to a page, so two kinds' 26.8k rows of 100k meant 20.5k heap pages, most of them
-- outside shared_buffers (128 MB here; the table is 260 MB): 150-200 ms, of which the distances
-- are a few. This index holds, in (project, kind) order, what that sort reads, and what
-- search_filter reads for every filter but tags, repo and file path (those may be long, and a
-- B-tree entry must stay under 2.7 kB: these take ~1.65 kB, at most 2.4 kB with an imported
-- 200-character model name). An index-only scan of the same rows touches 6.8k pages (two kinds:
-- 25 ms warm, 62 cold), and a small tenant's vectors sit together instead of scattered over
-- other tenants' pages.
--
-- The price is the vectors' size again (four entries to a page, ~2 kB a memory: 200 MB at 100k,
-- beside the table's 260 MB and HNSW's 195 MB) and one more B-tree entry per embedded write, far
-- cheaper than the HNSW one. Chunk vectors are not covered: chunks are a minority and stay in
-- private.memory_chunks. memories_project_kind_idx stays for the counts that choose the path
-- (narrow entries: 30k of them in ~100 pages).
--
-- Index-only scans need the visibility map: autovacuum (on Supabase) sets it after writes;
-- until it has, the scan visits the heap for those pages, as before.
create index if not exists memories_scope_vectors_idx on public.memories (project_id, kind)
  include (id, embedding_model, embedding_status, expires_at, created_at, embedding)
  where embedding is not null;
