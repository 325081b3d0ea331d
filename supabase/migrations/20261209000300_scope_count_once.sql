-- A search counts the rows of its scope once (docs/benchmarks.md, "Many tenants: conjunctions").
--
-- private.scope_under(scope, bound) counts the rows of the projects searched, up to `bound`,
-- through the project index. One hybrid search asked it up to three times for the same scope:
-- the semantic side against private.exact_scan_bound() (10k rows at 100k, 31.6k at 1M), the
-- keyword side against private.tenant_scan_bound() (at most 5k) and, since 20261209000200, the
-- every-term scan against the exact bound again; each count reads up to `bound` index entries.
-- Now the first call counts up to the largest of those bounds, the exact one (the tenant bound
-- never exceeds it), and keeps the count for the rest of the transaction in a transaction-local
-- setting keyed by the scope; later calls with a bound up to it answer from the count (hybrid
-- mean -0.6 ms at 100k memories). The count only chooses access paths, so a
-- row written later in the same transaction cannot make a result wrong, only a plan slower.
-- Bounds above the exact one (none today) are counted as before.

create or replace function private.scope_under(scope uuid[], bound int) returns boolean
language plpgsql stable set search_path = '' as $$
declare
  widest int := private.exact_scan_bound();
  key text := pg_catalog.md5(coalesce(scope::text, ''));
  kept text := pg_catalog.current_setting('codememory.scope_rows', true);
  n int;
begin
  if bound > widest then
    return (select count(*) < bound
            from (select from public.memories m where m.project_id = any (scope) limit bound) r);
  end if;
  if kept like key || ':%' then
    n := pg_catalog.split_part(kept, ':', 2)::int;
  else
    n := (select count(*)
          from (select from public.memories m where m.project_id = any (scope) limit widest) r);
    perform pg_catalog.set_config('codememory.scope_rows', key || ':' || n, true);
  end if;
  return n < bound;
end
$$;
revoke all on function private.scope_under(uuid[], int) from public, anon, authenticated;
