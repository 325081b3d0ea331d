-- Session briefs (shared/brief): what a coding agent should know when it starts work in a
-- repository. The brief reads a few bounded, indexed slices of the caller's memories (as the
-- user, under row level security): conventions and preferences, recent decisions, memories about
-- the files being worked on.
--
-- A repository is named many ways ("git@github.com:acme/api.git", "https://github.com/acme/api",
-- "github.com/acme/api"): private.normalize_repo() maps them to one form, and an index on that
-- form (with kind and time) finds a repository's memories of a kind without reading the rest.

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

create index if not exists memories_repo_kind_idx
  on public.memories (private.normalize_repo(repo), kind, created_at)
  where repo is not null;
create index if not exists memories_project_kind_idx
  on public.memories (project_id, kind, created_at);
-- text_pattern_ops: equality and "starts with" (a directory) alike.
create index if not exists memories_file_path_idx
  on public.memories (file_path text_pattern_ops)
  where file_path is not null;
