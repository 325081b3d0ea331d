-- Joining a shared project takes the invitee's consent.
--
-- Until now an owner who knew an email added that user to a project (add_project_member), and
-- could even insert or re-point project_members rows directly. Now an owner invites an email;
-- the invitation waits until the person with that (confirmed) email accepts or declines it.
-- Inviting answers the same whether or not the email has an account, so it reveals nothing
-- about who uses the service. Memberships are created only by accepting (and by the project
-- trigger that makes a creator the owner).
--
-- SECURITY DEFINER code lives in `private` (not exposed by the Data API); `public` keeps thin
-- SECURITY INVOKER wrappers so dashboards can call them with supabase.rpc(). Also fixes the
-- advisor's warnings on project_members: one permissive policy per action.

-- The caller's email, once Auth has confirmed it: invitations go to whoever controls the inbox.
-- (auth.users has email_confirmed_at on Supabase; the embedded stack's stand-in table has no
-- such column: there an operator or a verified JWT created the user.)
create or replace function private.caller_email() returns text
language sql stable security definer set search_path = '' as $$
  select lower(u.email::text)
  from auth.users u
  where u.id = auth.uid()
    and (not (to_jsonb(u) ? 'email_confirmed_at') or to_jsonb(u) ->> 'email_confirmed_at' is not null)
$$;
revoke all on function private.caller_email() from public;
grant execute on function private.caller_email() to authenticated, service_role;

create table if not exists public.project_invitations (
  id uuid primary key default gen_random_uuid(),
  project_id uuid not null references public.projects (id) on delete cascade,
  email text not null check (email = lower(btrim(email)) and char_length(email) between 3 and 320),
  role text not null check (role in ('owner', 'writer', 'reader')),
  invited_by uuid not null references auth.users (id) on delete cascade,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null default now() + interval '30 days',
  unique (project_id, email)
);
create index if not exists project_invitations_email_idx on public.project_invitations (email);
create index if not exists project_invitations_invited_by_idx
  on public.project_invitations (invited_by);

-- Owners see and withdraw their projects' invitations; invitees see and decline their own.
-- Rows are written only by the functions below.
alter table public.project_invitations enable row level security;
drop policy if exists invitations_select on public.project_invitations;
create policy invitations_select on public.project_invitations for select to authenticated
  using (project_id = any ((select private.project_ids('owner'))::uuid[])
    or email = (select private.caller_email()));
drop policy if exists invitations_delete on public.project_invitations;
create policy invitations_delete on public.project_invitations for delete to authenticated
  using (project_id = any ((select private.project_ids('owner'))::uuid[])
    or email = (select private.caller_email()));
revoke all on table public.project_invitations from public, anon, authenticated;
grant select, delete on public.project_invitations to authenticated;
grant select, insert, update, delete on public.project_invitations to service_role;

-- Inviting ------------------------------------------------------------------------------------
-- Errors a dashboard or the API can show as they are: P0002 project not visible, 42501 not an
-- owner, 22023 bad role or email, 23505 already a member, 54000 too many pending invitations.
-- Inviting the same email again replaces the role and restarts the 30 days.
create or replace function private.invite_project_member(
  project_id uuid, email text, role text default 'reader'
) returns public.project_invitations
language plpgsql security definer set search_path = '' as $$
declare
  address text := lower(btrim(invite_project_member.email));
  result public.project_invitations;
begin
  if auth.uid() is null then
    raise exception using errcode = '42501', message = 'Sign in to invite project members';
  end if;
  if invite_project_member.project_id is null
    or not invite_project_member.project_id = any (private.project_ids('reader')) then
    raise exception using errcode = 'P0002', message = 'Project not found';
  end if;
  if not invite_project_member.project_id = any (private.project_ids('owner')) then
    raise exception using errcode = '42501',
      message = 'Only an owner can invite members to this project';
  end if;
  if invite_project_member.role is null
    or invite_project_member.role not in ('owner', 'writer', 'reader') then
    raise exception using errcode = '22023', message = 'Unknown role: use owner, writer or reader';
  end if;
  if address is null or char_length(address) > 320 or address !~ '^[^@[:space:]]+@[^@[:space:]]+$' then
    raise exception using errcode = '22023', message = 'Not an email address';
  end if;
  -- Only the project's own roster is consulted, which its owners see anyway.
  if exists (
    select 1 from public.project_members pm join auth.users u on u.id = pm.user_id
    where pm.project_id = invite_project_member.project_id and lower(u.email::text) = address
  ) then
    raise exception using errcode = '23505',
      message = 'That person is already a member of this project: change their role instead';
  end if;
  if (select count(*) from public.project_invitations i
      where i.project_id = invite_project_member.project_id and i.expires_at > now()
        and i.email <> address) >= 100 then
    raise exception using errcode = '54000',
      message = 'This project has 100 pending invitations: withdraw some first';
  end if;
  insert into public.project_invitations as i (project_id, email, role, invited_by)
  values (invite_project_member.project_id, address, invite_project_member.role, auth.uid())
  on conflict on constraint project_invitations_project_id_email_key do update
    set role = excluded.role, invited_by = excluded.invited_by, created_at = now(),
        expires_at = now() + interval '30 days'
  returning i.* into result;
  return result;
end $$;

-- Accepting -----------------------------------------------------------------------------------
-- The invitation must be addressed to the caller's confirmed email and not have expired. A
-- person who already is a member keeps their role. Returns the membership.
create or replace function private.accept_project_invitation(invitation_id uuid)
returns public.project_members
language plpgsql security definer set search_path = '' as $$
declare
  invitation public.project_invitations;
  result public.project_members;
begin
  select i.* into invitation from public.project_invitations i
  where i.id = accept_project_invitation.invitation_id
    and i.email = private.caller_email() and i.expires_at > now()
  for update;
  if not found then
    raise exception using errcode = 'P0002', message = 'Invitation not found';
  end if;
  insert into public.project_members (project_id, user_id, role)
  values (invitation.project_id, auth.uid(), invitation.role)
  on conflict on constraint project_members_pkey do nothing;
  delete from public.project_invitations i where i.id = invitation.id;
  select pm.* into result from public.project_members pm
  where pm.project_id = invitation.project_id and pm.user_id = auth.uid();
  return result;
end $$;

-- The caller's pending invitations, with what they need to decide: the project's name and who
-- invited them (invitees cannot read either under row level security).
create or replace function private.caller_invitations()
returns table (id uuid, project_id uuid, project_name text, project_slug text, role text,
  invited_by_email text, created_at timestamptz, expires_at timestamptz)
language sql stable security definer set search_path = '' as $$
  select i.id, i.project_id, p.name, p.slug, i.role, u.email::text, i.created_at, i.expires_at
  from public.project_invitations i
  join public.projects p on p.id = i.project_id
  left join auth.users u on u.id = i.invited_by
  where i.email = private.caller_email() and i.expires_at > now()
  order by i.created_at, i.id
$$;

-- Members with their emails, for anyone who can see the project (was public.list_project_members).
create or replace function private.project_members_with_email(project_id uuid)
returns table (user_id uuid, email text, role text, added_at timestamptz)
language sql stable security definer set search_path = '' as $$
  select pm.user_id, u.email::text, pm.role, pm.added_at
  from public.project_members pm
  join auth.users u on u.id = pm.user_id
  where pm.project_id = project_members_with_email.project_id
    and project_members_with_email.project_id = any (private.project_ids('reader'))
  order by case pm.role when 'owner' then 0 when 'writer' then 1 else 2 end, pm.added_at,
    pm.user_id
$$;

revoke all on function private.invite_project_member(uuid, text, text),
  private.accept_project_invitation(uuid), private.caller_invitations(),
  private.project_members_with_email(uuid) from public;
grant execute on function private.invite_project_member(uuid, text, text),
  private.accept_project_invitation(uuid), private.caller_invitations(),
  private.project_members_with_email(uuid) to authenticated, service_role;

-- The RPCs dashboards call: SECURITY INVOKER wrappers --------------------------------------------
drop function if exists public.add_project_member(uuid, text, text);

create or replace function public.invite_project_member(
  project_id uuid, email text, role text default 'reader'
) returns public.project_invitations
language sql volatile security invoker set search_path = '' as $$
  select * from private.invite_project_member(project_id, email, role)
$$;

create or replace function public.accept_project_invitation(invitation_id uuid)
returns public.project_members
language sql volatile security invoker set search_path = '' as $$
  select * from private.accept_project_invitation(invitation_id)
$$;

create or replace function public.my_project_invitations()
returns table (id uuid, project_id uuid, project_name text, project_slug text, role text,
  invited_by_email text, created_at timestamptz, expires_at timestamptz)
language sql stable security invoker set search_path = '' as $$
  select * from private.caller_invitations()
$$;

create or replace function public.list_project_members(project_id uuid)
returns table (user_id uuid, email text, role text, added_at timestamptz)
language sql stable security invoker set search_path = '' as $$
  select * from private.project_members_with_email(project_id)
$$;

revoke all on function public.invite_project_member(uuid, text, text),
  public.accept_project_invitation(uuid), public.my_project_invitations(),
  public.list_project_members(uuid) from public, anon;
grant execute on function public.invite_project_member(uuid, text, text),
  public.accept_project_invitation(uuid), public.my_project_invitations(),
  public.list_project_members(uuid) to authenticated, service_role;

-- Project members: one permissive policy per action (members_select stays). No INSERT policy
-- (and no INSERT privilege since 20261203000100): only accepting an invitation adds a member.
drop policy if exists members_write on public.project_members;
drop policy if exists members_leave on public.project_members;
drop policy if exists members_update on public.project_members;
create policy members_update on public.project_members for update to authenticated
  using (project_id = any ((select private.project_ids('owner'))::uuid[]))
  with check (project_id = any ((select private.project_ids('owner'))::uuid[]));
-- Owners remove anyone; every member may leave (keep_an_owner still protects the last owner).
drop policy if exists members_delete on public.project_members;
create policy members_delete on public.project_members for delete to authenticated
  using (user_id = (select auth.uid())
    or project_id = any ((select private.project_ids('owner'))::uuid[]));
