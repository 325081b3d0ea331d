-- What a new hosted Supabase project has before the first migration runs, so that tests and CI
-- see every table's effective privileges as production will: Supabase's API roles, and default
-- privileges that hand ALL on every new table, function and sequence in `public` to them
-- (Supabase's own post-setup script does this for the `postgres` role). Migrations must revoke
-- what is not meant to be granted.
-- Applied by tests/helpers/db.ts (PGlite and PostgreSQL, before migrating) and by
-- scripts/ci/setup.sh (the CI database). Idempotent; safe while other sessions do the same.
do $$
declare
  r text;
begin
  foreach r in array array['anon', 'authenticated', 'service_role'] loop
    if not exists (select 1 from pg_catalog.pg_roles where rolname = r) then
      begin
        execute format('create role %I nologin noinherit%s', r,
          case when r = 'service_role' then ' bypassrls' else '' end);
      exception when duplicate_object or unique_violation then
        null; -- created by a concurrent session (roles are per cluster)
      end;
    end if;
  end loop;
end $$;

grant usage on schema public to anon, authenticated, service_role;
alter default privileges in schema public grant all on tables to anon, authenticated, service_role;
alter default privileges in schema public
  grant all on functions to anon, authenticated, service_role;
alter default privileges in schema public
  grant all on sequences to anon, authenticated, service_role;
