-- Explicit privileges for Supabase's API roles on everything in `public`.
--
-- A hosted Supabase project has default privileges that grant ALL on every new table, function
-- and sequence in `public` to anon, authenticated and service_role. The earlier migrations added
-- column grants on top but never took those defaults back, so on Supabase (unlike a plain
-- PostgreSQL) a signed-in user could read their api_keys rows' key_hash and rewrite their scopes
-- and expiry, anon held every privilege (RLS still hid rows from it, but not TRUNCATE), and
-- authenticated could TRUNCATE memories past row level security. Here every privilege of anon
-- and authenticated on these objects is revoked and exactly the intended ones granted again;
-- tests run on databases set up like a new Supabase project (scripts/ci/supabase_defaults.sql)
-- and compare the effective privileges with a list (tests/security_grants_test.ts).
-- service_role keeps what it has: it is the administrator's key and bypasses RLS anyway.

revoke all on table public.projects, public.project_members, public.memories, public.api_keys,
  public.search_events, public.memory_events, public.analytics_daily
  from public, anon, authenticated;

-- Projects: owners rename and describe theirs; ownership and the default flag are fixed.
grant select, insert, delete on public.projects to authenticated;
grant update (name, slug, description) on public.projects to authenticated;

-- Members: read the roster, change roles, leave or remove (policies decide who). Nobody adds a
-- membership directly: joining needs the invitee's consent (see the invitations migration).
grant select, delete on public.project_members to authenticated;
grant update (role) on public.project_members to authenticated;

-- Memories: users write what they author; embedding and bookkeeping columns are the worker's.
-- INSERT stays table-wide: an import brings timestamps, versions and this stack's vectors.
grant select, insert, delete on public.memories to authenticated;
grant update (user_id, project_id, kind, title, content, tags, metadata, repo, file_path,
  language, symbol, commit_sha, importance, expires_at) on public.memories to authenticated;

-- API keys: never the hash, and a key's scopes and expiry are fixed once it exists.
grant select (id, user_id, name, prefix, scopes, created_at, last_used_at, expires_at,
  revoked_at), delete on public.api_keys to authenticated;
grant insert (user_id, name, prefix, key_hash, scopes, expires_at) on public.api_keys
  to authenticated;
grant update (name, revoked_at) on public.api_keys to authenticated;

-- Analytics: read-only for users; the privileged connection writes.
grant select on public.search_events, public.memory_events, public.analytics_daily
  to authenticated;
revoke all on sequence public.search_events_id_seq, public.memory_events_id_seq
  from public, anon, authenticated;

-- RPCs: for signed-in users only.
revoke all on function public.search_memories(text, extensions.vector, int, uuid[], text[],
  text[], text, timestamptz, timestamptz, text, text, text, float, float, int, float, float, text)
  from public, anon;
revoke all on function public.get_insights(uuid, int) from public, anon;
revoke all on function public.add_project_member(uuid, text, text) from public, anon;
revoke all on function public.list_project_members(uuid) from public, anon;
