-- Row level security and the teams rules, proven at the SQL level (what supabase-js and the
-- functions' asUser() both run under). Users: A owns project PA, where W writes and R reads;
-- B owns PB and is a stranger to PA. Run with `supabase test db` or tests/pgtap_test.ts.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select no_plan();

-- Fixtures, created with privileges ------------------------------------------------------------
insert into auth.users (id, email) values
  ('a0000000-0000-4000-8000-00000000000a', 'pgtap-a@test.local'),
  ('a0000000-0000-4000-8000-00000000000b', 'pgtap-b@test.local'),
  ('a0000000-0000-4000-8000-0000000000f1', 'pgtap-w@test.local'),
  ('a0000000-0000-4000-8000-0000000000f2', 'pgtap-r@test.local');
insert into public.projects (id, owner_id, name, slug) values
  ('b0000000-0000-4000-8000-00000000000a', 'a0000000-0000-4000-8000-00000000000a', 'PA', 'pgtap-pa'),
  ('b0000000-0000-4000-8000-00000000000b', 'a0000000-0000-4000-8000-00000000000b', 'PB', 'pgtap-pb');
insert into public.project_members (project_id, user_id, role) values
  ('b0000000-0000-4000-8000-00000000000a', 'a0000000-0000-4000-8000-0000000000f1', 'writer'),
  ('b0000000-0000-4000-8000-00000000000a', 'a0000000-0000-4000-8000-0000000000f2', 'reader');
insert into public.memories (id, user_id, project_id, content) values
  ('c0000000-0000-4000-8000-00000000000a', 'a0000000-0000-4000-8000-00000000000a',
   'b0000000-0000-4000-8000-00000000000a', 'secret of A'),
  ('c0000000-0000-4000-8000-00000000000b', 'a0000000-0000-4000-8000-00000000000b',
   'b0000000-0000-4000-8000-00000000000b', 'secret of B');
insert into public.api_keys (id, user_id, name, prefix, key_hash) values
  ('d0000000-0000-4000-8000-00000000000a', 'a0000000-0000-4000-8000-00000000000a', 'ka', 'cm_a',
   repeat('a', 64)),
  ('d0000000-0000-4000-8000-00000000000b', 'a0000000-0000-4000-8000-00000000000b', 'kb', 'cm_b',
   repeat('b', 64));

-- Act as a signed-in user, exactly as PostgREST does (role + JWT claims, transaction-local).
create function pg_temp.login(uid uuid) returns void language sql as $$
  select set_config('role', 'authenticated', true),
         set_config('request.jwt.claims',
           json_build_object('sub', uid, 'role', 'authenticated')::text, true);
$$;

-- Memories -----------------------------------------------------------------------------------
select pg_temp.login('a0000000-0000-4000-8000-00000000000a');
select is((select count(*)::int from public.memories where content like 'secret of %'), 1,
  'A sees only the memories of its projects');
select pg_temp.login('a0000000-0000-4000-8000-00000000000b');
select is((select content from public.memories where id = 'c0000000-0000-4000-8000-00000000000a'),
  null, 'B cannot read A''s memory');
select throws_ok($$ insert into public.memories (user_id, project_id, content)
  values ('a0000000-0000-4000-8000-00000000000b', 'b0000000-0000-4000-8000-00000000000a', 'x') $$,
  '42501', null, 'B cannot insert into A''s project');
select lives_ok($$ update public.memories set content = 'pwned'
  where id = 'c0000000-0000-4000-8000-00000000000a' $$, 'B''s update of A''s memory matches nothing');
select lives_ok($$ delete from public.memories where id = 'c0000000-0000-4000-8000-00000000000a' $$,
  'B''s delete of A''s memory matches nothing');

select pg_temp.login('a0000000-0000-4000-8000-0000000000f2');
select is((select content from public.memories where id = 'c0000000-0000-4000-8000-00000000000a'),
  'secret of A', 'reader R reads the shared memory');
select throws_ok($$ insert into public.memories (user_id, project_id, content)
  values ('a0000000-0000-4000-8000-0000000000f2', 'b0000000-0000-4000-8000-00000000000a', 'x') $$,
  '42501', null, 'reader R cannot insert');
select lives_ok($$ update public.memories set content = 'by reader'
  where id = 'c0000000-0000-4000-8000-00000000000a' $$, 'reader R''s update matches nothing');
select lives_ok($$ delete from public.memories where id = 'c0000000-0000-4000-8000-00000000000a' $$,
  'reader R''s delete matches nothing');

reset role;
select is((select content from public.memories where id = 'c0000000-0000-4000-8000-00000000000a'),
  'secret of A', 'A''s memory survived B and R unchanged');

select pg_temp.login('a0000000-0000-4000-8000-0000000000f1');
select lives_ok($$ insert into public.memories (user_id, project_id, content)
  values ('a0000000-0000-4000-8000-0000000000f1', 'b0000000-0000-4000-8000-00000000000a', 'by W') $$,
  'writer W inserts into the shared project');
select throws_ok($$ insert into public.memories (user_id, project_id, content)
  values ('a0000000-0000-4000-8000-00000000000a', 'b0000000-0000-4000-8000-00000000000a', 'forged') $$,
  '42501', null, 'writer W cannot insert in A''s name');
select lives_ok($$ update public.memories set title = 'reviewed by W'
  where id = 'c0000000-0000-4000-8000-00000000000a' $$, 'writer W edits a shared memory');
select throws_ok($$ update public.memories set user_id = 'a0000000-0000-4000-8000-0000000000f1'
  where id = 'c0000000-0000-4000-8000-00000000000a' $$,
  '42501', 'The author of a memory cannot be changed', 'writer W cannot take authorship');
select throws_ok($$ update public.memories set project_id = 'b0000000-0000-4000-8000-00000000000b'
  where id = 'c0000000-0000-4000-8000-00000000000a' $$,
  '42501', null, 'writer W cannot move a memory into a project it cannot write');

reset role;
select is((select title from public.memories where id = 'c0000000-0000-4000-8000-00000000000a'),
  'reviewed by W', 'W''s edit was applied');
select is((select user_id from public.memories where id = 'c0000000-0000-4000-8000-00000000000a'),
  'a0000000-0000-4000-8000-00000000000a'::uuid, 'authorship unchanged');

-- Projects -----------------------------------------------------------------------------------
select pg_temp.login('a0000000-0000-4000-8000-00000000000b');
select is((select count(*)::int from public.projects where slug = 'pgtap-pa'), 0,
  'B cannot see PA');
select lives_ok($$ update public.projects set name = 'pwned'
  where id = 'b0000000-0000-4000-8000-00000000000a' $$, 'B''s rename of PA matches nothing');
select lives_ok($$ delete from public.projects where id = 'b0000000-0000-4000-8000-00000000000a' $$,
  'B''s delete of PA matches nothing');
select throws_ok($$ insert into public.projects (owner_id, name, slug)
  values ('a0000000-0000-4000-8000-00000000000a', 'planted', 'planted') $$,
  '42501', null, 'B cannot create a project in A''s name');

select pg_temp.login('a0000000-0000-4000-8000-0000000000f1');
select lives_ok($$ update public.projects set name = 'by writer'
  where id = 'b0000000-0000-4000-8000-00000000000a' $$, 'writer W''s rename matches nothing');
select lives_ok($$ delete from public.projects where id = 'b0000000-0000-4000-8000-00000000000a' $$,
  'writer W''s delete matches nothing');

reset role;
select is((select name from public.projects where id = 'b0000000-0000-4000-8000-00000000000a'),
  'PA', 'PA unchanged by B and W');

select pg_temp.login('a0000000-0000-4000-8000-00000000000a');
select lives_ok($$ update public.projects set name = 'PA renamed', description = 'team'
  where id = 'b0000000-0000-4000-8000-00000000000a' $$, 'owner A renames PA');
select throws_ok($$ update public.projects set owner_id = 'a0000000-0000-4000-8000-00000000000b'
  where id = 'b0000000-0000-4000-8000-00000000000a' $$,
  '42501', null, 'owner A cannot re-parent PA to B');
select throws_ok($$ update public.projects set is_default = true
  where id = 'b0000000-0000-4000-8000-00000000000a' $$,
  '42501', null, 'owner A cannot flip is_default');
reset role;
select is((select name from public.projects where id = 'b0000000-0000-4000-8000-00000000000a'),
  'PA renamed', 'the owner''s rename was applied');

-- Project members ----------------------------------------------------------------------------
select pg_temp.login('a0000000-0000-4000-8000-0000000000f2');
select is((select count(*)::int from public.project_members
  where project_id = 'b0000000-0000-4000-8000-00000000000a'), 3, 'R sees the roster of PA');
select is((select count(*)::int from public.list_project_members('b0000000-0000-4000-8000-00000000000a')
  where email like 'pgtap-%'), 3, 'list_project_members shows R the members with emails');

select pg_temp.login('a0000000-0000-4000-8000-00000000000b');
select is((select count(*)::int from public.project_members
  where project_id = 'b0000000-0000-4000-8000-00000000000a'), 0, 'B sees no member of PA');
select is((select count(*)::int from public.list_project_members('b0000000-0000-4000-8000-00000000000a')),
  0, 'list_project_members shows B nothing of PA');
select throws_ok($$ insert into public.project_members (project_id, user_id, role)
  values ('b0000000-0000-4000-8000-00000000000a', 'a0000000-0000-4000-8000-00000000000b', 'owner') $$,
  '42501', null, 'B cannot add itself to PA');
select throws_ok($$ select public.invite_project_member('b0000000-0000-4000-8000-00000000000a',
  'pgtap-b@test.local', 'owner') $$, 'P0002', 'Project not found',
  'invite_project_member does not reveal PA to B');

select pg_temp.login('a0000000-0000-4000-8000-0000000000f1');
select throws_ok($$ insert into public.project_members (project_id, user_id, role)
  values ('b0000000-0000-4000-8000-00000000000a', 'a0000000-0000-4000-8000-00000000000b', 'reader') $$,
  '42501', null, 'writer W cannot add members directly');
select throws_ok($$ select public.invite_project_member('b0000000-0000-4000-8000-00000000000a',
  'pgtap-b@test.local', 'reader') $$, '42501', 'Only an owner can invite members to this project',
  'writer W cannot invite');
select lives_ok($$ update public.project_members set role = 'owner'
  where project_id = 'b0000000-0000-4000-8000-00000000000a' $$, 'writer W''s promotion matches nothing');
select lives_ok($$ delete from public.project_members
  where project_id = 'b0000000-0000-4000-8000-00000000000a'
    and user_id = 'a0000000-0000-4000-8000-0000000000f2' $$, 'writer W''s removal of R matches nothing');
reset role;
select is((select string_agg(role, ',' order by role) from public.project_members
  where project_id = 'b0000000-0000-4000-8000-00000000000a'), 'owner,reader,writer',
  'roles unchanged by W');

select pg_temp.login('a0000000-0000-4000-8000-00000000000a');
select throws_ok($$ update public.project_members set role = 'writer'
  where project_id = 'b0000000-0000-4000-8000-00000000000a'
    and user_id = 'a0000000-0000-4000-8000-00000000000a' $$, '23514', null,
  'the last owner cannot step down');
select throws_ok($$ delete from public.project_members
  where project_id = 'b0000000-0000-4000-8000-00000000000a'
    and user_id = 'a0000000-0000-4000-8000-00000000000a' $$, '23514', null,
  'the last owner cannot leave');
select throws_ok($$ insert into public.project_members (project_id, user_id, role)
  values ('b0000000-0000-4000-8000-00000000000a', 'a0000000-0000-4000-8000-00000000000b', 'reader') $$,
  '42501', null, 'owner A cannot add B without B''s consent');
select throws_ok($$ update public.project_members set user_id = 'a0000000-0000-4000-8000-00000000000b'
  where project_id = 'b0000000-0000-4000-8000-00000000000a'
    and user_id = 'a0000000-0000-4000-8000-0000000000f2' $$, '42501', null,
  'owner A cannot re-point a membership at B');
select lives_ok($$ select public.invite_project_member('b0000000-0000-4000-8000-00000000000a',
  'nobody@test.local', 'reader') $$, 'unknown emails are invited like any other');
select throws_ok($$ select public.invite_project_member('b0000000-0000-4000-8000-00000000000a',
  'pgtap-b@test.local', 'admin') $$, '22023', null, 'unknown roles are refused');
select throws_ok($$ select public.invite_project_member('b0000000-0000-4000-8000-00000000000b',
  'pgtap-a@test.local', 'owner') $$, 'P0002', null, 'A cannot invite itself to B''s project');
select is((select role from public.invite_project_member('b0000000-0000-4000-8000-00000000000a',
  'PGTAP-B@test.local', 'reader')), 'reader', 'owner A invites B by email (case-insensitive)');
select is((select count(*)::int from public.project_members
  where project_id = 'b0000000-0000-4000-8000-00000000000a'
    and user_id = 'a0000000-0000-4000-8000-00000000000b'), 0, 'B is not a member yet');

select pg_temp.login('a0000000-0000-4000-8000-00000000000b');
select is((select project_name from public.my_project_invitations()), 'PA renamed',
  'B sees the invitation with the project''s name');
select is((select role from public.accept_project_invitation(
  (select id from public.my_project_invitations()))), 'reader', 'B accepts');
select is((select content from public.memories where id = 'c0000000-0000-4000-8000-00000000000a'),
  'secret of A', 'B now reads PA');
select throws_ok($$ insert into public.memories (user_id, project_id, content)
  values ('a0000000-0000-4000-8000-00000000000b', 'b0000000-0000-4000-8000-00000000000a', 'x') $$,
  '42501', null, 'but B, a reader, cannot write');
select lives_ok($$ delete from public.project_members
  where project_id = 'b0000000-0000-4000-8000-00000000000a'
    and user_id = 'a0000000-0000-4000-8000-00000000000b' $$, 'B leaves PA');
select is((select count(*)::int from public.projects where slug = 'pgtap-pa'), 0,
  'and no longer sees it');

select pg_temp.login('a0000000-0000-4000-8000-00000000000a');
select lives_ok($$ update public.project_members set role = 'owner'
  where project_id = 'b0000000-0000-4000-8000-00000000000a'
    and user_id = 'a0000000-0000-4000-8000-0000000000f1' $$, 'A makes W an owner');
select lives_ok($$ update public.project_members set role = 'reader'
  where project_id = 'b0000000-0000-4000-8000-00000000000a'
    and user_id = 'a0000000-0000-4000-8000-00000000000a' $$, 'then A may step down');

reset role;
set local role anon;
select throws_ok($$ select public.invite_project_member('b0000000-0000-4000-8000-00000000000a',
  'pgtap-b@test.local', 'owner') $$, '42501', null, 'anon cannot call invite_project_member');
reset role;

-- API keys -----------------------------------------------------------------------------------
select pg_temp.login('a0000000-0000-4000-8000-00000000000a');
select is((select count(*)::int from public.api_keys where name in ('ka', 'kb')), 1,
  'A sees only its own key');
select throws_ok($$ select key_hash from public.api_keys $$, '42501', null,
  'key hashes are not readable, even by their owner');
select throws_ok($$ insert into public.api_keys (user_id, name, prefix, key_hash)
  values ('a0000000-0000-4000-8000-00000000000b', 'planted', 'cm_x', repeat('c', 64)) $$,
  '42501', null, 'A cannot create a key for B');

select pg_temp.login('a0000000-0000-4000-8000-00000000000b');
select lives_ok($$ update public.api_keys set revoked_at = now()
  where id = 'd0000000-0000-4000-8000-00000000000a' $$, 'B''s revocation of A''s key matches nothing');
select lives_ok($$ delete from public.api_keys where id = 'd0000000-0000-4000-8000-00000000000a' $$,
  'B''s delete of A''s key matches nothing');
reset role;
select is((select revoked_at from public.api_keys where id = 'd0000000-0000-4000-8000-00000000000a'),
  null, 'A''s key is still active');

select pg_temp.login('a0000000-0000-4000-8000-00000000000a');
select lives_ok($$ update public.api_keys set revoked_at = now()
  where id = 'd0000000-0000-4000-8000-00000000000a' $$, 'A revokes its key');
select throws_ok($$ update public.api_keys set revoked_at = null
  where id = 'd0000000-0000-4000-8000-00000000000a' $$, '23514',
  'A revoked API key stays revoked; create a new key instead', 'a revoked key stays revoked');
reset role;

select * from finish();
rollback;
