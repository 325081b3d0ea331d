-- Foundation: Supabase-compatible roles and auth helpers, projects, members, memories, api keys,
-- with row level security on every table. Runs unchanged on Supabase, PostgreSQL and PGlite:
-- everything Supabase already provides is created only where it is missing.

create schema if not exists extensions;
create extension if not exists vector with schema extensions;

-- Supabase's API roles. On Supabase they exist; elsewhere we create them with the same meaning.
do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'anon') then
    create role anon nologin noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'authenticated') then
    create role authenticated nologin noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'service_role') then
    create role service_role nologin noinherit bypassrls;
  end if;
end $$;

-- auth schema: users and auth.uid()/auth.role()/auth.jwt() exactly as Supabase exposes them.
-- On Supabase these belong to GoTrue and are left untouched.
create schema if not exists auth;
create table if not exists auth.users (
  id uuid primary key default gen_random_uuid(),
  email text unique,
  created_at timestamptz not null default now()
);
do $$
begin
  if to_regprocedure('auth.jwt()') is null then
    create function auth.jwt() returns jsonb language sql stable as $f$
      select coalesce(nullif(current_setting('request.jwt.claims', true), '')::jsonb, '{}'::jsonb)
    $f$;
  end if;
  if to_regprocedure('auth.uid()') is null then
    create function auth.uid() returns uuid language sql stable as $f$
      select nullif(coalesce(
        nullif(current_setting('request.jwt.claim.sub', true), ''),
        auth.jwt() ->> 'sub'), '')::uuid
    $f$;
  end if;
  if to_regprocedure('auth.role()') is null then
    create function auth.role() returns text language sql stable as $f$
      select coalesce(
        nullif(current_setting('request.jwt.claim.role', true), ''),
        auth.jwt() ->> 'role')
    $f$;
  end if;
end $$;
grant usage on schema auth, extensions to anon, authenticated, service_role;

-- private: helpers used by policies and triggers; never exposed through the Data API.
create schema if not exists private;
grant usage on schema private to authenticated, service_role;

create or replace function private.sha256_hex(value text) returns text
language sql immutable strict parallel safe set search_path = '' as $$
  select encode(sha256(convert_to(value, 'UTF8')), 'hex')
$$;

-- Weighted document for full-text search: title first, then tags and code identifiers, then body.
create or replace function private.memory_document(
  title text, tags text[], symbol text, file_path text, content text
) returns tsvector
language sql immutable parallel safe set search_path = '' as $$
  select setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A')
      || setweight(to_tsvector('english'::regconfig,
           coalesce(array_to_string(tags, ' '), '') || ' ' || coalesce(symbol, '') || ' '
           || coalesce(file_path, '')), 'B')
      || setweight(to_tsvector('english'::regconfig, coalesce(content, '')), 'C')
$$;

-- Projects ----------------------------------------------------------------------------------
create table if not exists public.projects (
  id uuid primary key default gen_random_uuid(),
  owner_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  name text not null check (char_length(name) between 1 and 100),
  slug text not null check (slug ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
  description text check (char_length(description) <= 2000),
  is_default boolean not null default false,
  created_at timestamptz not null default now(),
  unique (owner_id, slug)
);
create unique index if not exists projects_one_default_per_owner
  on public.projects (owner_id) where is_default;

create table if not exists public.project_members (
  project_id uuid not null references public.projects (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  role text not null check (role in ('owner', 'writer', 'reader')),
  added_at timestamptz not null default now(),
  primary key (project_id, user_id)
);
create index if not exists project_members_user_idx on public.project_members (user_id);

-- Roles live in one place (project_members); the creator becomes its owner automatically.
create or replace function private.add_project_owner() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  insert into public.project_members (project_id, user_id, role)
  values (new.id, new.owner_id, 'owner')
  on conflict (project_id, user_id) do update set role = 'owner';
  return new;
end $$;
drop trigger if exists projects_add_owner on public.projects;
create trigger projects_add_owner after insert on public.projects
  for each row execute function private.add_project_owner();

-- Project ids the current user may read / write / administer. SECURITY DEFINER so policies on
-- projects and members do not recurse; returned as arrays so a policy evaluates them once.
create or replace function private.project_ids(min_role text) returns uuid[]
language sql stable security definer set search_path = '' as $$
  select coalesce(array_agg(project_id), '{}')
  from public.project_members
  where user_id = auth.uid()
    and case min_role
          when 'reader' then true
          when 'writer' then role in ('owner', 'writer')
          else role = 'owner'
        end
$$;
revoke all on function private.project_ids(text) from public;
grant execute on function private.project_ids(text) to authenticated, service_role;

-- Memories ----------------------------------------------------------------------------------
create table if not exists public.memories (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  project_id uuid not null references public.projects (id) on delete cascade,
  kind text not null default 'note' check (kind in (
    'decision', 'fact', 'solution', 'snippet', 'preference', 'note', 'qa', 'convention', 'bug',
    'todo')),
  title text check (char_length(title) <= 300),
  content text not null check (octet_length(content) between 1 and 32768),
  tags text[] not null default '{}' check (cardinality(tags) <= 32),
  metadata jsonb not null default '{}' check (jsonb_typeof(metadata) = 'object'),
  repo text check (char_length(repo) <= 500),
  file_path text check (char_length(file_path) <= 1000),
  language text check (char_length(language) <= 50),
  symbol text check (char_length(symbol) <= 300),
  commit_sha text check (char_length(commit_sha) <= 64),
  importance real not null default 0.5 check (importance between 0 and 1),
  content_hash text generated always as (private.sha256_hex(content)) stored,
  fts tsvector generated always as (
    private.memory_document(title, tags, symbol, file_path, content)) stored,
  embedding extensions.vector(512),
  embedding_model text,
  embedding_status text not null default 'pending'
    check (embedding_status in ('pending', 'ready', 'failed')),
  embedding_attempts int not null default 0,
  embedding_error text,
  embedded_at timestamptz,
  version int not null default 1,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  last_accessed_at timestamptz,
  access_count int not null default 0,
  expires_at timestamptz
);
-- Exact duplicates are detected per project by content hash.
create unique index if not exists memories_project_content_uidx
  on public.memories (project_id, content_hash);
create index if not exists memories_project_created_idx
  on public.memories (project_id, created_at desc, id desc);
create index if not exists memories_user_created_idx
  on public.memories (user_id, created_at desc, id desc);
create index if not exists memories_tags_idx on public.memories using gin (tags);
create index if not exists memories_fts_idx on public.memories using gin (fts);
create index if not exists memories_embedding_idx on public.memories
  using hnsw (embedding extensions.vector_cosine_ops) with (m = 16, ef_construction = 64);
create index if not exists memories_unembedded_idx on public.memories (updated_at)
  where embedding_status <> 'ready';

-- Every write bumps version/updated_at; a content change invalidates the embedding.
create or replace function private.memories_before_update() returns trigger
language plpgsql set search_path = '' as $$
begin
  new.version := old.version + 1;
  new.updated_at := now();
  if new.content is distinct from old.content then
    new.embedding := null;
    new.embedding_model := null;
    new.embedding_status := 'pending';
    new.embedding_attempts := 0;
    new.embedding_error := null;
    new.embedded_at := null;
  end if;
  return new;
end $$;
drop trigger if exists memories_before_update on public.memories;
create trigger memories_before_update before update of
  kind, title, content, tags, metadata, repo, file_path, language, symbol, commit_sha,
  importance, project_id, expires_at
  on public.memories for each row execute function private.memories_before_update();

-- API keys: only the SHA-256 of the secret is stored.
create table if not exists public.api_keys (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  name text not null default 'default' check (char_length(name) between 1 and 100),
  prefix text not null,
  key_hash text not null unique check (key_hash ~ '^[0-9a-f]{64}$'),
  scopes text[] not null default '{read,write}' check (scopes <@ '{read,write}'::text[]),
  created_at timestamptz not null default now(),
  last_used_at timestamptz,
  expires_at timestamptz,
  revoked_at timestamptz
);
create index if not exists api_keys_user_idx on public.api_keys (user_id);

-- Row level security ----------------------------------------------------------------------
alter table public.projects enable row level security;
alter table public.project_members enable row level security;
alter table public.memories enable row level security;
alter table public.api_keys enable row level security;

drop policy if exists projects_select on public.projects;
create policy projects_select on public.projects for select to authenticated
  using (id = any ((select private.project_ids('reader'))::uuid[]));
drop policy if exists projects_insert on public.projects;
create policy projects_insert on public.projects for insert to authenticated
  with check (owner_id = (select auth.uid()));
drop policy if exists projects_update on public.projects;
create policy projects_update on public.projects for update to authenticated
  using (id = any ((select private.project_ids('owner'))::uuid[]))
  with check (owner_id = (select auth.uid()) or id = any ((select private.project_ids('owner'))::uuid[]));
drop policy if exists projects_delete on public.projects;
create policy projects_delete on public.projects for delete to authenticated
  using (id = any ((select private.project_ids('owner'))::uuid[]));

drop policy if exists members_select on public.project_members;
create policy members_select on public.project_members for select to authenticated
  using (project_id = any ((select private.project_ids('reader'))::uuid[]));
drop policy if exists members_write on public.project_members;
create policy members_write on public.project_members for all to authenticated
  using (project_id = any ((select private.project_ids('owner'))::uuid[]))
  with check (project_id = any ((select private.project_ids('owner'))::uuid[]));

drop policy if exists memories_select on public.memories;
create policy memories_select on public.memories for select to authenticated
  using (project_id = any ((select private.project_ids('reader'))::uuid[]));
drop policy if exists memories_insert on public.memories;
create policy memories_insert on public.memories for insert to authenticated
  with check (user_id = (select auth.uid())
    and project_id = any ((select private.project_ids('writer'))::uuid[]));
drop policy if exists memories_update on public.memories;
create policy memories_update on public.memories for update to authenticated
  using (project_id = any ((select private.project_ids('writer'))::uuid[]))
  with check (project_id = any ((select private.project_ids('writer'))::uuid[]));
drop policy if exists memories_delete on public.memories;
create policy memories_delete on public.memories for delete to authenticated
  using (project_id = any ((select private.project_ids('writer'))::uuid[]));

drop policy if exists api_keys_own on public.api_keys;
create policy api_keys_own on public.api_keys for all to authenticated
  using (user_id = (select auth.uid())) with check (user_id = (select auth.uid()));

grant usage on schema public to anon, authenticated, service_role;
grant select, insert, update, delete on public.projects, public.project_members, public.memories
  to authenticated, service_role;
grant select, insert, update, delete on public.api_keys to service_role;
-- Key hashes stay server-side even for their owner.
grant select (id, user_id, name, prefix, scopes, created_at, last_used_at, expires_at, revoked_at),
  insert, update (name, revoked_at), delete on public.api_keys to authenticated;
