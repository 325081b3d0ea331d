-- Live insights: today's activity counts at once (issue #15, item 5).
--
-- get_insights() used to add up only analytics_daily, the rollup pg_cron (or the embedded
-- stack's timer) writes once a night, so a search made a moment ago showed as 0 until then.
-- Now a day counts from its rollup row only when that row was computed after the day ended;
-- every other day of the window (today, a day the rollup has not reached yet) is aggregated
-- from the raw events the same way analytics.rollup() would, for the one key asked for. A day
-- is never counted from both. The rollup and its schedule stay as they are.
--
-- The raw side reads only the days not rolled up (normally today): the caller's events by
-- (user_id, created_at), a project's by its GIN indexes (the searches aimed at it, and those
-- that returned its memories: hence the index on hit_project_ids), its writes by
-- (project_id, created_at).

create index if not exists search_events_hit_projects_idx
  on public.search_events using gin (hit_project_ids);

/*
  private.live_insight_days(scope, first_day, rolled_up): rows shaped like analytics_daily for
  the key get_insights reads — (caller, null) when scope is null, else (null, scope) — for each
  day from first_day on that is not in rolled_up and had activity. computed_at is null (nothing
  was rolled up); never_hit_* are left empty (get_insights does not read them).

  SECURITY DEFINER because a project's figures include its members' searches, whose raw rows
  are their authors' alone (20261203000300): it returns nothing for a project the caller is not
  a member of, and only aggregates, as the rollup rows they stand in for would.
*/
create or replace function private.live_insight_days(scope uuid, first_day date, rolled_up date[])
returns setof public.analytics_daily
language sql stable security definer set search_path = '' as $$
  with bounds as (
    select auth.uid() as uid, first_day::timestamp at time zone 'UTC' as lo
  ),
  ev as (
    -- `searched`: counts as one of the key's searches (not only for the memories it returned).
    select e.query, e.result_count, e.cache_hit, e.latency_ms, e.hit_ids, e.hit_project_ids,
           (e.created_at at time zone 'UTC')::date as day, true as searched
    from bounds b join public.search_events e on e.user_id = b.uid and e.created_at >= b.lo
    where scope is null
    union all
    select e.query, e.result_count, e.cache_hit, e.latency_ms, e.hit_ids, e.hit_project_ids,
           (e.created_at at time zone 'UTC')::date, coalesce(e.project_ids @> array[scope], false)
    from bounds b join public.search_events e on e.created_at >= b.lo
    where scope is not null and scope = any (private.project_ids('reader'))
      and (e.project_ids @> array[scope] or e.hit_project_ids @> array[scope])
  ),
  live as (
    select * from ev where not (ev.day = any (coalesce(rolled_up, '{}')))
  ),
  search_stats as (
    select day, count(*)::int as searches,
           (count(*) filter (where result_count = 0))::int as zero,
           (count(*) filter (where cache_hit))::int as cache_hits,
           percentile_cont(0.5) within group (order by latency_ms) as p50,
           percentile_cont(0.95) within group (order by latency_ms) as p95
    from live where searched group by day
  ),
  queries as (
    select day, min(query collate "C") as query, count(*)::int as n,
           (count(*) filter (where result_count = 0))::int as zero
    from live where searched group by day, lower(query)
  ),
  ranked_queries as (
    select q.*,
           row_number() over (partition by day order by n desc, query collate "C") as rank_all,
           row_number() over (partition by day order by zero desc, query collate "C") as rank_zero
    from queries q
  ),
  query_stats as (
    select day,
           jsonb_agg(jsonb_build_object('query', query, 'count', n, 'zero_results', zero)
             order by rank_all) filter (where rank_all <= 10) as top,
           jsonb_agg(jsonb_build_object('query', query, 'count', zero)
             order by rank_zero) filter (where zero > 0 and rank_zero <= 10) as zero_top
    from ranked_queries group by day
  ),
  hit_counts as (
    select l.day, x.memory_id, count(*)::int as n,
           row_number() over (partition by l.day order by count(*) desc, x.memory_id) as rank
    from live l
    cross join lateral unnest(l.hit_ids, l.hit_project_ids) as x(memory_id, project_id)
    where scope is null or x.project_id = scope
    group by l.day, x.memory_id
  ),
  hit_stats as (
    select day, jsonb_agg(jsonb_build_object('memory_id', memory_id, 'hits', n) order by rank)
             filter (where rank <= 10) as top
    from hit_counts group by day
  ),
  writes as (
    select (me.created_at at time zone 'UTC')::date as day, me.action
    from bounds b join public.memory_events me on me.user_id = b.uid and me.created_at >= b.lo
    where scope is null
    union all
    select (me.created_at at time zone 'UTC')::date, me.action
    from bounds b join public.memory_events me on me.project_id = scope and me.created_at >= b.lo
    where scope is not null and scope = any (private.project_ids('reader'))
  ),
  write_stats as (
    select day,
           (count(*) filter (where action = 'save'))::int as saves,
           (count(*) filter (where action = 'update'))::int as updates,
           (count(*) filter (where action = 'delete'))::int as deletes
    from writes where not (day = any (coalesce(rolled_up, '{}'))) group by day
  ),
  days as (
    select day from search_stats union select day from hit_stats union select day from write_stats
  )
  select d.day, case when scope is null then (select uid from bounds) end, scope,
         coalesce(ss.searches, 0), coalesce(ss.zero, 0), coalesce(ss.cache_hits, 0),
         ss.cache_hits::float / nullif(ss.searches, 0), ss.p50, ss.p95,
         coalesce(ws.saves, 0), coalesce(ws.updates, 0), coalesce(ws.deletes, 0),
         coalesce(qs.top, '[]'), coalesce(qs.zero_top, '[]'), coalesce(hs.top, '[]'),
         '[]'::jsonb, 0, null::timestamptz
  from days d
  left join search_stats ss using (day)
  left join query_stats qs using (day)
  left join hit_stats hs using (day)
  left join write_stats ws using (day)
$$;
revoke all on function private.live_insight_days(uuid, date, date[]) from public;
grant execute on function private.live_insight_days(uuid, date, date[])
  to authenticated, service_role;

/*
  public.get_insights(project_id, days): as in 20261124000500_analytics.sql (see there), with
  the window's days that the rollup has not finished counted live from the raw events
  (private.live_insight_days), and `live_days` saying which days those were.
*/
create or replace function public.get_insights(project_id uuid default null, days int default 30)
returns jsonb
language plpgsql stable security invoker set search_path = '' as $$
#variable_conflict use_column
declare
  uid uuid := auth.uid();
  scope uuid := get_insights.project_id;
  n int := least(greatest(coalesce(get_insights.days, 30), 1), 366);
  today date := (now() at time zone 'utc')::date;
  first_day date := today - (n - 1);
  stale_before timestamptz := now() - make_interval(days => n);
  totals jsonb;
  series jsonb;
  top_queries jsonb;
  zero_queries jsonb;
  repeated jsonb;
  most_hit jsonb;
  stale jsonb;
  stale_total int;
  title_pairs jsonb;
  clusters jsonb;
  last_rollup timestamptz;
  rollups public.analytics_daily[];
  live_days date[];
begin
  if uid is null then
    raise exception using errcode = '42501', message = 'Sign in to see insights';
  end if;
  if scope is not null and not exists (select 1 from public.projects p where p.id = scope) then
    raise exception using errcode = 'P0002', message = 'Project not found';
  end if;

  -- The window's rollup rows, read once (an array keeps the function STABLE: no temp table).
  select coalesce(array_agg(d), '{}'), max(d.computed_at) into rollups, last_rollup
  from public.analytics_daily d
  where d.day between first_day and today
    and case when scope is null then d.user_id = uid and d.project_id is null
             else d.user_id is null and d.project_id = scope end;
  -- Live: a day counts from its rollup row only once the rollup ran after the day ended; any
  -- other day (today, a day the rollup has not reached) from its raw events instead, and never
  -- from both.
  select coalesce(array_agg(d), '{}') into rollups
  from unnest(rollups) d
  where d.computed_at >= (d.day + 1)::timestamp at time zone 'UTC';
  select rollups || coalesce(array_agg(l order by l.day), '{}'),
         coalesce(array_agg(l.day order by l.day), '{}')
  into rollups, live_days
  from private.live_insight_days(scope, first_day, array(select d.day from unnest(rollups) d)) l;

  select jsonb_build_object(
           'searches', coalesce(sum(searches), 0),
           'zero_result_searches', coalesce(sum(zero_result_searches), 0),
           'hit_rate', 1 - sum(zero_result_searches)::float / nullif(sum(searches), 0),
           'cache_hits', coalesce(sum(cache_hits), 0),
           'cache_hit_rate', sum(cache_hits)::float / nullif(sum(searches), 0),
           'latency_p50_ms', sum(latency_p50_ms * searches) / nullif(sum(searches), 0),
           'latency_p95_ms', sum(latency_p95_ms * searches) / nullif(sum(searches), 0),
           'saves', coalesce(sum(saves), 0),
           'updates', coalesce(sum(updates), 0),
           'deletes', coalesce(sum(deletes), 0))
  into totals
  from unnest(rollups);

  select jsonb_agg(jsonb_build_object(
           'day', g.day::date,
           'searches', coalesce(d.searches, 0),
           'zero_result_searches', coalesce(d.zero_result_searches, 0),
           'hit_rate', 1 - d.zero_result_searches::float / nullif(d.searches, 0),
           'cache_hit_rate', d.cache_hit_rate,
           'latency_p50_ms', d.latency_p50_ms,
           'latency_p95_ms', d.latency_p95_ms,
           'saves', coalesce(d.saves, 0),
           'updates', coalesce(d.updates, 0),
           'deletes', coalesce(d.deletes, 0)) order by g.day)
  into series
  from generate_series(first_day, today, interval '1 day') g(day)
  left join unnest(rollups) d on d.day = g.day::date;

  -- Daily top lists merged over the window.
  with q as (
    select min(x.query collate "C") as query, sum(x.count)::int as count,
           sum(x.zero_results)::int as zero_results
    from unnest(rollups) d
    cross join lateral jsonb_to_recordset(d.top_queries) as x(query text, count int,
      zero_results int)
    group by lower(x.query)
  )
  select jsonb_agg(to_jsonb(q) order by q.count desc, q.query)
  into top_queries
  from (select * from q order by count desc, query limit 10) q;

  with z as (
    select min(x.query collate "C") as query, sum(x.count)::int as count,
           max(d.day) as last_day
    from unnest(rollups) d
    cross join lateral jsonb_to_recordset(d.zero_result_queries) as x(query text, count int)
    group by lower(x.query)
  )
  select jsonb_agg(jsonb_build_object('query', z.query, 'count', z.count)
           order by z.count desc, z.query) filter (where z.rank <= 10),
         jsonb_agg(to_jsonb(z) - 'rank' order by z.count desc, z.query)
           filter (where z.count >= 2 and z.rank <= 20)
  into zero_queries, repeated
  from (select z.*, row_number() over (order by z.count desc, z.query) as rank from z) z;

  with hits as (
    select x.memory_id, sum(x.hits)::int as hits
    from unnest(rollups) d
    cross join lateral jsonb_to_recordset(d.most_hit_memories) as x(memory_id uuid, hits int)
    group by x.memory_id
  )
  select jsonb_agg(jsonb_build_object('id', m.id, 'title', m.title,
           'content', left(m.content, 200), 'project', p.slug, 'hits', h.hits)
           order by h.hits desc, m.id)
  into most_hit
  from (select * from hits order by hits desc, memory_id limit 10) h
  join public.memories m on m.id = h.memory_id
  join public.projects p on p.id = m.project_id;

  -- Stale: old, and no search returned them in the window.
  with candidates as (
    select m.id, m.title, m.content, m.project_id, m.created_at, m.last_accessed_at
    from public.memories m
    where (scope is null or m.project_id = scope)
      and m.created_at < stale_before
      and (m.last_accessed_at is null or m.last_accessed_at < stale_before)
      and (m.expires_at is null or m.expires_at > now())
  )
  select (select count(*) from candidates)::int,
         jsonb_agg(jsonb_build_object('id', c.id, 'title', c.title,
           'content', left(c.content, 200), 'project', p.slug, 'created_at', c.created_at,
           'last_accessed_at', c.last_accessed_at) order by c.created_at, c.id)
  into stale_total, stale
  from (select * from candidates order by created_at, id limit 20) c
  join public.projects p on p.id = c.project_id;

  -- Near duplicates by title, among memories without an embedding.
  if exists (select 1 from pg_extension where extname = 'pg_trgm') then
    execute format($q$
      with recent as (
        select m.id, m.project_id, lower(m.title) as title from public.memories m
        where ($1::uuid is null or m.project_id = $1) and m.embedding_status <> 'ready'
          and m.title is not null and (m.expires_at is null or m.expires_at > now())
        order by m.created_at desc limit 200
      )
      select jsonb_agg(jsonb_build_object('a', a.id, 'b', b.id, 'similarity', s.sim))
      from recent a join recent b on b.project_id = a.project_id and b.id > a.id
      cross join lateral (select %I.similarity(a.title, b.title)::float as sim) s
      where s.sim >= 0.8$q$, (select n.nspname from pg_extension e
        join pg_namespace n on n.oid = e.extnamespace where e.extname = 'pg_trgm'))
      into title_pairs using scope;
  else
    with recent as (
      select m.id, m.project_id, lower(btrim(m.title)) as title from public.memories m
      where (scope is null or m.project_id = scope) and m.embedding_status <> 'ready'
        and m.title is not null and (m.expires_at is null or m.expires_at > now())
      order by m.created_at desc limit 200
    )
    select jsonb_agg(jsonb_build_object('a', a.id, 'b', b.id, 'similarity', 1.0))
    into title_pairs
    from recent a join recent b
      on b.project_id = a.project_id and b.id > a.id and b.title = a.title;
  end if;

  with recent as (
    select m.id, m.project_id, m.embedding, m.embedding_model from public.memories m
    where (scope is null or m.project_id = scope) and m.embedding_status = 'ready'
      and m.embedding is not null and (m.expires_at is null or m.expires_at > now())
    order by m.created_at desc limit 200
  ),
  embedding_pairs as (
    select least(r.id, nb.id) as a, greatest(r.id, nb.id) as b,
           max(nb.similarity) as similarity, 'embedding' as method
    from recent r
    cross join lateral (
      select o.id, 1 - (o.embedding operator(extensions.<=>) r.embedding) as similarity
      from public.memories o
      where o.project_id = r.project_id and o.embedding_model = r.embedding_model
        and o.id <> r.id and o.embedding_status = 'ready'
        and (o.expires_at is null or o.expires_at > now())
      order by o.embedding operator(extensions.<=>) r.embedding
      limit 5
    ) nb
    where nb.similarity >= 0.95
    group by 1, 2
  ),
  pairs as (
    select a, b, similarity, method from embedding_pairs
    union all
    select (x ->> 'a')::uuid, (x ->> 'b')::uuid, (x ->> 'similarity')::float, 'title'
    from jsonb_array_elements(coalesce(title_pairs, '[]')) x
  ),
  -- A cluster is a memory and every near duplicate of it with a larger id; memories already
  -- listed under a smaller one do not start clusters of their own.
  grouped as (
    select p.a as anchor, p.method, array_agg(p.b order by p.b) as others,
           max(p.similarity) as similarity
    from pairs p
    where not exists (select 1 from pairs q where q.b = p.a and q.method = p.method)
    group by p.a, p.method
  )
  select jsonb_agg(jsonb_build_object(
           'method', g.method,
           'similarity', round(g.similarity::numeric, 4),
           'memories', (
             select jsonb_agg(jsonb_build_object('id', m.id, 'title', m.title,
               'content', left(m.content, 200), 'project', pr.slug) order by m.created_at, m.id)
             from public.memories m join public.projects pr on pr.id = m.project_id
             where m.id = g.anchor or m.id = any (g.others)))
         order by g.similarity desc, g.anchor)
  into clusters
  from (select * from grouped order by similarity desc, anchor limit 10) g;

  return jsonb_build_object(
    'project_id', scope,
    'days', n,
    'from', first_day,
    'to', today,
    'last_rollup_at', last_rollup,
    'live_days', to_jsonb(live_days),
    'totals', totals,
    'series', coalesce(series, '[]'),
    'top_queries', coalesce(top_queries, '[]'),
    'zero_result_queries', coalesce(zero_queries, '[]'),
    'most_hit_memories', coalesce(most_hit, '[]'),
    'suggestions', jsonb_build_object(
      'repeated_zero_result_queries', coalesce(repeated, '[]'),
      'stale_memories', coalesce(stale, '[]'),
      'stale_memories_total', coalesce(stale_total, 0),
      'stale_after_days', n,
      'duplicate_clusters', coalesce(clusters, '[]')));
end $$;

comment on function public.get_insights(uuid, int) is
  'Usage insights for dashboards (totals, per-day series, top and zero-result queries, suggestions); see the migration 20261124000500_analytics.sql.';

revoke all on function public.get_insights(uuid, int) from public, anon;
grant execute on function public.get_insights(uuid, int) to authenticated, service_role;

comment on function public.get_insights(uuid, int) is
  'Usage insights for dashboards (totals, per-day series, top and zero-result queries, suggestions), today included live; see the migrations 20261124000500_analytics.sql and 20261207000210_live_insights.sql.';
