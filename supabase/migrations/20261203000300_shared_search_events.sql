-- Analytics of a shared project show only what concerns that project.
--
-- A teammate could read every column of a search that included a shared project: its filters
-- (the searcher's other project refs), every project it covered and the ids of hits from the
-- searcher's private projects. Raw search events are now their author's alone; a project's
-- members get a view of the searches aimed at it that keeps only that project's part (its own
-- hits, no filters, no other projects). Rollups (analytics_daily) already split per project.

drop policy if exists search_events_select on public.search_events;
create policy search_events_select on public.search_events for select to authenticated
  using (user_id = (select auth.uid()));

-- Searches that covered `project_id` in the last `days` UTC days (1..366), newest first, for
-- its members: who asked what, and which of this project's memories came back.
create or replace function private.project_search_events(project_id uuid, days int default 30)
returns table (id bigint, created_at timestamptz, user_id uuid, query text, mode text,
  effective_mode text, result_count int, hit_ids uuid[], latency_ms real, cache_hit boolean,
  channel text)
language sql stable security definer set search_path = '' as $$
  select e.id, e.created_at, e.user_id, e.query, e.mode, e.effective_mode,
         cardinality(hits.ids), hits.ids, e.latency_ms, e.cache_hit, e.channel
  from public.search_events e
  cross join lateral (
    select coalesce(array_agg(h.id order by h.n), '{}') as ids
    from unnest(e.hit_ids, e.hit_project_ids) with ordinality as h(id, project, n)
    where h.project = project_search_events.project_id
  ) hits
  where project_search_events.project_id = any (private.project_ids('reader'))
    and e.project_ids @> array[project_search_events.project_id]
    and e.created_at >= ((now() at time zone 'utc')::date
      - (least(greatest(coalesce(project_search_events.days, 30), 1), 366) - 1))::timestamp
      at time zone 'utc'
  order by e.created_at desc, e.id desc
$$;
revoke all on function private.project_search_events(uuid, int) from public;
grant execute on function private.project_search_events(uuid, int) to authenticated, service_role;

create or replace function public.project_search_events(project_id uuid, days int default 30)
returns table (id bigint, created_at timestamptz, user_id uuid, query text, mode text,
  effective_mode text, result_count int, hit_ids uuid[], latency_ms real, cache_hit boolean,
  channel text)
language sql stable security invoker set search_path = '' as $$
  select * from private.project_search_events(project_id, days)
$$;
revoke all on function public.project_search_events(uuid, int) from public, anon;
grant execute on function public.project_search_events(uuid, int) to authenticated, service_role;
