-- Session briefs (shared/brief): what a coding agent should know when it starts work in a
-- repository. The brief reads a few bounded, indexed slices of the caller's memories (as the
-- user, under row level security): conventions and preferences, recent decisions, memories about
-- the files being worked on.
--
-- A repository is named many ways ("git@github.com:acme/api.git", "https://github.com/acme/api",
-- "github.com/acme/api"): private.normalize_repo() maps them to one form, kept in the generated
-- column memories.repo_key. Stored rather than computed per query: the planner often reaches a
-- repository's memories through the caller's projects (row level security), and evaluating the
-- function on each of them cost ~60 µs a row (`deno task bench brief`); a stored key compares
-- for free, and its index (with kind and time) serves the queries that start from the repo.
-- Adding the column rewrites memories once (like an index build: seconds per million rows).

-- host/path, lower case: no scheme, user, port, ".git" or trailing slash; scp-style
-- "host:path" becomes "host/path". Null for null or blank input.
create or replace function private.normalize_repo(repo text) returns text
language sql immutable parallel safe set search_path = '' as $$
  select nullif(
    regexp_replace(
      regexp_replace(
        regexp_replace(
          regexp_replace(
            regexp_replace(lower(btrim(repo)), '^[a-z][a-z0-9+.-]*://', ''),
            '^[^@/]*@', ''),
          '^([^/:]+):[0-9]+/', '\1/'),
        '^([^/:]+):', '\1/'),
      '(\.git)?/*$', ''),
    '')
$$;
revoke all on function private.normalize_repo(text) from public;
grant execute on function private.normalize_repo(text) to authenticated, service_role;

alter table public.memories add column if not exists repo_key text
  generated always as (private.normalize_repo(repo)) stored;
create index if not exists memories_repo_kind_idx
  on public.memories (repo_key, kind, created_at)
  where repo_key is not null;
create index if not exists memories_project_kind_idx
  on public.memories (project_id, kind, created_at);
-- text_pattern_ops: equality and "starts with" (a directory) alike.
create index if not exists memories_file_path_idx
  on public.memories (file_path text_pattern_ops)
  where file_path is not null;
