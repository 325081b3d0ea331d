-- Teams: closes the gaps the foundation left in shared projects. Roles stay in project_members
-- (owner > writer > reader) and row level security stays the single point of enforcement; this
-- migration adds what policies alone cannot express:
--   * a project always keeps at least one owner;
--   * adding a member by email (authenticated users cannot read auth.users);
--   * listing members with their emails, for members only;
--   * members may leave a project themselves;
--   * owners rename a project but cannot re-parent it (owner_id) or mark it someone's default;
--   * a memory's author (user_id) cannot be rewritten by a user;
--   * a revoked API key stays revoked.

-- Last owner --------------------------------------------------------------------------------
-- Fires on every removal or demotion of an owner. The project row is locked first so that two
-- owners demoting each other concurrently cannot both succeed.
create or replace function private.keep_an_owner() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  removes_owner boolean := old.role = 'owner' and (tg_op = 'DELETE'
    or new.role <> 'owner' or new.project_id <> old.project_id or new.user_id <> old.user_id);
begin
  if not removes_owner then
    return coalesce(new, old);
  end if;
  -- Cascades from deleting the project or the user itself have nothing left to protect.
  perform 1 from public.projects where id = old.project_id for update;
  if not found or not exists (select 1 from auth.users where id = old.user_id) then
    return coalesce(new, old);
  end if;
  if not exists (
    select 1 from public.project_members
    where project_id = old.project_id and role = 'owner' and user_id <> old.user_id
  ) then
    raise exception using
      errcode = 'check_violation',
      constraint = 'project_needs_owner',
      message = 'A project needs at least one owner: make another member an owner first, or delete the project';
  end if;
  return coalesce(new, old);
end $$;
drop trigger if exists project_members_keep_owner on public.project_members;
create trigger project_members_keep_owner before update or delete on public.project_members
  for each row execute function private.keep_an_owner();

-- Leaving: any member may delete their own membership (the trigger above still keeps an owner).
drop policy if exists members_leave on public.project_members;
create policy members_leave on public.project_members for delete to authenticated
  using (user_id = (select auth.uid()));

-- Adding a member by email ------------------------------------------------------------------
-- SECURITY DEFINER to look the email up in auth.users; everything else is checked explicitly,
-- with errors a dashboard (supabase.rpc) or the API can show as they are:
--   P0002 project not visible to the caller / no user with that email,
--   42501 caller is not an owner, 22023 unknown role.
-- Adding someone who is already a member changes their role.
create or replace function public.add_project_member(
  project_id uuid, email text, role text default 'reader'
) returns public.project_members
language plpgsql security definer set search_path = '' as $$
declare
  target uuid;
  result public.project_members;
begin
  if auth.uid() is null then
    raise exception using errcode = '42501', message = 'Sign in to manage project members';
  end if;
  if add_project_member.project_id is null
    or not add_project_member.project_id = any (private.project_ids('reader')) then
    raise exception using errcode = 'P0002', message = 'Project not found';
  end if;
  if not add_project_member.project_id = any (private.project_ids('owner')) then
    raise exception using errcode = '42501',
      message = 'Only an owner can add members to this project';
  end if;
  if add_project_member.role is null
    or add_project_member.role not in ('owner', 'writer', 'reader') then
    raise exception using errcode = '22023',
      message = 'Unknown role: use owner, writer or reader';
  end if;
  select u.id into target from auth.users u
  where lower(u.email) = lower(btrim(add_project_member.email))
  order by u.created_at limit 1;
  if target is null then
    raise exception using errcode = 'P0002',
      message = 'No user with that email: they need to sign up first';
  end if;
  insert into public.project_members as pm (project_id, user_id, role)
  values (add_project_member.project_id, target, add_project_member.role)
  on conflict on constraint project_members_pkey do update set role = excluded.role
  returning pm.* into result;
  return result;
end $$;
revoke all on function public.add_project_member(uuid, text, text) from public, anon;
grant execute on function public.add_project_member(uuid, text, text)
  to authenticated, service_role;

-- Members with their emails, for anyone who can see the project (RLS-equivalent check).
create or replace function public.list_project_members(project_id uuid)
returns table (user_id uuid, email text, role text, added_at timestamptz)
language sql stable security definer set search_path = '' as $$
  select pm.user_id, u.email::text, pm.role, pm.added_at
  from public.project_members pm
  join auth.users u on u.id = pm.user_id
  where pm.project_id = list_project_members.project_id
    and list_project_members.project_id = any (private.project_ids('reader'))
  order by case pm.role when 'owner' then 0 when 'writer' then 1 else 2 end, pm.added_at,
    pm.user_id
$$;
revoke all on function public.list_project_members(uuid) from public, anon;
grant execute on function public.list_project_members(uuid) to authenticated, service_role;

-- Column privileges -------------------------------------------------------------------------
-- Owners rename and describe a project; who it belongs to and whether it is a default are not
-- theirs to change (re-parenting could plant a project, or a default, in another user's space).
revoke update on public.projects from authenticated;
grant update (name, slug, description) on public.projects to authenticated;

-- A writer may edit a shared memory but not claim or reassign its authorship.
create or replace function private.memories_keep_author() returns trigger
language plpgsql set search_path = '' as $$
begin
  if new.user_id is distinct from old.user_id and current_user in ('authenticated', 'anon') then
    raise exception using errcode = '42501', message = 'The author of a memory cannot be changed';
  end if;
  return new;
end $$;
drop trigger if exists memories_keep_author on public.memories;
create trigger memories_keep_author before update of user_id on public.memories
  for each row execute function private.memories_keep_author();

-- Revocation is final: a leaked key that was revoked can never be brought back.
create or replace function private.api_keys_keep_revoked() returns trigger
language plpgsql set search_path = '' as $$
begin
  if old.revoked_at is not null and new.revoked_at is distinct from old.revoked_at then
    raise exception using
      errcode = 'check_violation',
      constraint = 'api_key_stays_revoked',
      message = 'A revoked API key stays revoked; create a new key instead';
  end if;
  return new;
end $$;
drop trigger if exists api_keys_keep_revoked on public.api_keys;
create trigger api_keys_keep_revoked before update of revoked_at on public.api_keys
  for each row execute function private.api_keys_keep_revoked();
