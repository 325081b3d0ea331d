-- Analytics rollup: "never hit" memories in one pass, not one index probe per memory.
--
-- analytics.rollup counted, per key, the memories no search had returned by the end of the day
-- with `not exists (… where e.hit_ids @> array[m.id] …)`: one GIN probe of search_events per
-- memory and key, so at 100k memories and a thousand search events one rollup took 26 s
-- (docs/benchmarks.md, "Background work beside searches"), holding a core that searches needed.
-- Now the ids the retained searches returned before the day's end are collected once (linear in
-- the events kept, ANALYTICS_RETENTION_DAYS) and anti-joined by hash; the keys' memories are
-- read once and each expanded to the keys it counts for. All events, not only those of the
-- memories' current projects: a memory moved since keeps the hits of its old project. Same rows
-- as before (tests/analytics_rollup_test.ts).
--
-- The body is that of 20261124000500 with the `never_hit` step replaced (marked "[one pass]").

create or replace function analytics.rollup(
  day date default (now() at time zone 'utc')::date - 1
) returns int
language plpgsql volatile set search_path = '' as $$
#variable_conflict use_column
declare
  lo timestamptz := rollup.day::timestamp at time zone 'UTC';
  hi timestamptz := (rollup.day + 1)::timestamp at time zone 'UTC';
  written int;
begin
  if rollup.day is null then
    raise exception using errcode = '22004', message = 'day must not be null';
  end if;
  if hi <= now() - make_interval(days => analytics.retention_days()) then
    return 0;
  end if;
  perform pg_advisory_xact_lock(hashtext('codememory.analytics.rollup'),
    rollup.day - date '2000-01-01');

  delete from public.analytics_daily d where d.day = rollup.day;

  with ev as (
    select e.* from public.search_events e where e.created_at >= lo and e.created_at < hi
  ),
  -- One row per (search, key it counts for).
  s as (
    select ev.user_id as k_user, null::uuid as k_project, ev.query, ev.result_count,
           ev.cache_hit, ev.latency_ms
    from ev
    union all
    select k.k_user, p.id, ev.query, ev.result_count, ev.cache_hit, ev.latency_ms
    from ev
    cross join lateral (select distinct unnest(ev.project_ids) as id) p
    cross join lateral (values (ev.user_id), (null::uuid)) k(k_user)
  ),
  search_stats as (
    select k_user, k_project,
           count(*)::int as searches,
           (count(*) filter (where result_count = 0))::int as zero,
           (count(*) filter (where cache_hit))::int as cache_hits,
           percentile_cont(0.5) within group (order by latency_ms) as p50,
           percentile_cont(0.95) within group (order by latency_ms) as p95
    from s group by k_user, k_project
  ),
  queries as (
    select k_user, k_project, min(query collate "C") as query, count(*)::int as n,
           (count(*) filter (where result_count = 0))::int as zero
    from s group by k_user, k_project, lower(query)
  ),
  ranked_queries as (
    select q.*,
           row_number() over (partition by k_user, k_project
             order by n desc, query collate "C") as rank_all,
           row_number() over (partition by k_user, k_project
             order by zero desc, query collate "C") as rank_zero
    from queries q
  ),
  query_stats as (
    select k_user, k_project,
           jsonb_agg(jsonb_build_object('query', query, 'count', n, 'zero_results', zero)
             order by rank_all) filter (where rank_all <= 10) as top,
           jsonb_agg(jsonb_build_object('query', query, 'count', zero)
             order by rank_zero) filter (where zero > 0 and rank_zero <= 10) as zero_top
    from ranked_queries group by k_user, k_project
  ),
  -- One row per (returned memory, key it counts for).
  h as (
    select k.k_user, k.k_project, x.memory_id
    from ev
    cross join lateral unnest(ev.hit_ids, ev.hit_project_ids) as x(memory_id, project_id)
    cross join lateral (values (ev.user_id, null::uuid), (ev.user_id, x.project_id),
      (null::uuid, x.project_id)) k(k_user, k_project)
  ),
  hit_counts as (
    select k_user, k_project, memory_id, count(*)::int as n,
           row_number() over (partition by k_user, k_project
             order by count(*) desc, memory_id) as rank
    from h group by k_user, k_project, memory_id
  ),
  hit_stats as (
    select k_user, k_project,
           jsonb_agg(jsonb_build_object('memory_id', memory_id, 'hits', n) order by rank)
             filter (where rank <= 10) as top
    from hit_counts group by k_user, k_project
  ),
  w as (
    select k.k_user, k.k_project, me.action
    from public.memory_events me
    cross join lateral (values (me.user_id, null::uuid), (me.user_id, me.project_id),
      (null::uuid, me.project_id)) k(k_user, k_project)
    where me.created_at >= lo and me.created_at < hi
  ),
  write_stats as (
    select k_user, k_project,
           (count(*) filter (where action = 'save'))::int as saves,
           (count(*) filter (where action = 'update'))::int as updates,
           (count(*) filter (where action = 'delete'))::int as deletes
    from w group by k_user, k_project
  ),
  keys as (
    select k.k_user, k.k_project
    from (
      select k_user, k_project from search_stats
      union select k_user, k_project from hit_stats
      union select k_user, k_project from write_stats
    ) k
    -- Projects deleted since (their ids linger in event arrays) get no row.
    where k.k_project is null or exists (select 1 from public.projects p where p.id = k.k_project)
  ),
  -- [one pass] The keys' memories alive at the end of the day, each once; the ids any search had
  -- returned by then; the memories not among them, counted for every key they belong to.
  candidates as (
    select m.id, m.user_id, m.project_id, m.created_at
    from public.memories m
    where (m.user_id in (select k.k_user from keys k)
           or m.project_id in (select k.k_project from keys k))
      and m.created_at < hi
      and (m.expires_at is null or m.expires_at > hi)
  ),
  hit_before as (
    select distinct x.memory_id
    from public.search_events e
    cross join lateral unnest(e.hit_ids) as x(memory_id)
    where e.created_at < hi
  ),
  unhit as (
    select kk.k_user, kk.k_project, c.id, c.created_at,
           row_number() over (partition by kk.k_user, kk.k_project
             order by c.created_at, c.id) as rank
    from candidates c
    cross join lateral (values (c.user_id, null::uuid), (c.user_id, c.project_id),
      (null::uuid, c.project_id)) kk(k_user, k_project)
    where not exists (select 1 from hit_before h where h.memory_id = c.id)
  ),
  never_hit as (
    select k.k_user, k.k_project, count(u.id)::int as n,
           jsonb_agg(u.id order by u.created_at, u.id) filter (where u.rank <= 100) as ids
    from keys k
    left join unhit u
      on u.k_user is not distinct from k.k_user and u.k_project is not distinct from k.k_project
    group by k.k_user, k.k_project
  )
  insert into public.analytics_daily as d (
    day, user_id, project_id, searches, zero_result_searches, cache_hits, cache_hit_rate,
    latency_p50_ms, latency_p95_ms, saves, updates, deletes, top_queries, zero_result_queries,
    most_hit_memories, never_hit_memories, never_hit_count, computed_at)
  select rollup.day, k.k_user, k.k_project,
         coalesce(ss.searches, 0), coalesce(ss.zero, 0), coalesce(ss.cache_hits, 0),
         ss.cache_hits::float / nullif(ss.searches, 0),
         ss.p50, ss.p95,
         coalesce(ws.saves, 0), coalesce(ws.updates, 0), coalesce(ws.deletes, 0),
         coalesce(qs.top, '[]'), coalesce(qs.zero_top, '[]'), coalesce(hs.top, '[]'),
         coalesce(nh.ids, '[]'), coalesce(nh.n, 0), now()
  from keys k
  left join search_stats ss
    on ss.k_user is not distinct from k.k_user and ss.k_project is not distinct from k.k_project
  left join query_stats qs
    on qs.k_user is not distinct from k.k_user and qs.k_project is not distinct from k.k_project
  left join hit_stats hs
    on hs.k_user is not distinct from k.k_user and hs.k_project is not distinct from k.k_project
  left join write_stats ws
    on ws.k_user is not distinct from k.k_user and ws.k_project is not distinct from k.k_project
  left join never_hit nh
    on nh.k_user is not distinct from k.k_user and nh.k_project is not distinct from k.k_project;

  get diagnostics written = row_count;
  return written;
end $$;

revoke all on function analytics.rollup(date) from public;
grant execute on function analytics.rollup(date) to service_role;
