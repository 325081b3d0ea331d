-- Analytics: usage events, a daily rollup run by pg_cron (or the embedded stack's timer), and
-- public.get_insights() for dashboards (supabase.rpc('get_insights', { project_id, days })).
--
--   search_events    one row per search: query, filters, mode, result count, top score,
--                    latency, cache hit, client, and the ids of the memories it returned
--   memory_events    one row per save / update / delete
--   analytics_daily  the rollup, per day (UTC) for three kinds of key:
--                      (user, null)     everything the user did
--                      (user, project)  the user's activity in one project
--                      (null, project)  the project as a whole, all members together
--
-- The functions write events after responding, in batches, over the privileged connection
-- (shared/analytics). Users only read: their own events and rollups, and those of the projects
-- they are members of. Raw events are purged after the retention period (90 days unless
-- `codememory_analytics_retention_days` is set in Vault or private.settings); rollups stay.

do $$
begin
  -- Title similarity for near-duplicate hints where memories have no embedding yet. Supabase and
  -- PostgreSQL ship pg_trgm; PGlite does not (the hint then falls back to equal titles).
  if exists (select 1 from pg_available_extensions where name = 'pg_trgm') then
    create extension if not exists pg_trgm with schema extensions;
  end if;
end $$;

create schema if not exists analytics;
revoke all on schema analytics from public;
grant usage on schema analytics to service_role;

-- Events --------------------------------------------------------------------------------------
create table if not exists public.search_events (
  id bigint generated always as identity primary key,
  user_id uuid not null references auth.users (id) on delete cascade,
  -- The projects the search was limited to; null = every project the user could read.
  project_ids uuid[],
  query text not null check (char_length(query) <= 2000),
  -- Everything else the caller asked for (project refs as given, kinds, tags, limit, …).
  filters jsonb not null default '{}' check (jsonb_typeof(filters) = 'object'),
  mode text not null check (char_length(mode) <= 20),
  effective_mode text check (char_length(effective_mode) <= 20),
  result_count int not null check (result_count >= 0),
  top_score double precision,
  latency_ms real not null check (latency_ms >= 0),
  cache_hit boolean not null default false,
  channel text check (channel in ('rest', 'mcp')),
  client_name text check (char_length(client_name) <= 100),
  client_version text check (char_length(client_version) <= 50),
  -- The memories returned, best first, and the project of each (same length).
  hit_ids uuid[] not null default '{}',
  hit_project_ids uuid[] not null default '{}',
  created_at timestamptz not null default now(),
  check (cardinality(hit_ids) = cardinality(hit_project_ids))
);
create index if not exists search_events_created_idx on public.search_events (created_at);
create index if not exists search_events_user_created_idx
  on public.search_events (user_id, created_at);
create index if not exists search_events_projects_idx
  on public.search_events using gin (project_ids);
-- "Was this memory ever returned?" (never-hit memories) without scanning every event.
create index if not exists search_events_hits_idx on public.search_events using gin (hit_ids);

create table if not exists public.memory_events (
  id bigint generated always as identity primary key,
  user_id uuid not null references auth.users (id) on delete cascade,
  project_id uuid not null references public.projects (id) on delete cascade,
  -- No foreign key: a delete event outlives its memory.
  memory_id uuid not null,
  action text not null check (action in ('save', 'update', 'delete')),
  channel text check (channel in ('rest', 'mcp')),
  client_name text check (char_length(client_name) <= 100),
  client_version text check (char_length(client_version) <= 50),
  created_at timestamptz not null default now()
);
create index if not exists memory_events_created_idx on public.memory_events (created_at);
create index if not exists memory_events_user_created_idx
  on public.memory_events (user_id, created_at);
create index if not exists memory_events_project_created_idx
  on public.memory_events (project_id, created_at);

-- Rollup ------------------------------------------------------------------------------------
create table if not exists public.analytics_daily (
  day date not null,
  user_id uuid references auth.users (id) on delete cascade,
  project_id uuid references public.projects (id) on delete cascade,
  searches int not null default 0,
  zero_result_searches int not null default 0,
  cache_hits int not null default 0,
  cache_hit_rate double precision,
  latency_p50_ms double precision,
  latency_p95_ms double precision,
  saves int not null default 0,
  updates int not null default 0,
  deletes int not null default 0,
  -- [{query, count, zero_results}], most frequent first (10 at most)
  top_queries jsonb not null default '[]',
  -- [{query, count}] of searches that found nothing, most frequent first (10 at most)
  zero_result_queries jsonb not null default '[]',
  -- [{memory_id, hits}], most returned first (10 at most)
  most_hit_memories jsonb not null default '[]',
  -- Ids of memories that no search had returned by the end of the day (oldest first, 100 at
  -- most), and how many there were in all.
  never_hit_memories jsonb not null default '[]',
  never_hit_count int not null default 0,
  computed_at timestamptz not null default now(),
  check (user_id is not null or project_id is not null),
  constraint analytics_daily_key unique nulls not distinct (day, user_id, project_id)
);
create index if not exists analytics_daily_user_idx on public.analytics_daily (user_id, day);
create index if not exists analytics_daily_project_idx on public.analytics_daily (project_id, day);

-- Row level security: read-only for users; only the privileged connection writes. ------------
alter table public.search_events enable row level security;
alter table public.memory_events enable row level security;
alter table public.analytics_daily enable row level security;

-- A teammate sees searches that were aimed at a shared project, never a user's unscoped ones.
drop policy if exists search_events_select on public.search_events;
create policy search_events_select on public.search_events for select to authenticated
  using (user_id = (select auth.uid())
    or project_ids && (select private.project_ids('reader'))::uuid[]);
drop policy if exists memory_events_select on public.memory_events;
create policy memory_events_select on public.memory_events for select to authenticated
  using (user_id = (select auth.uid())
    or project_id = any ((select private.project_ids('reader'))::uuid[]));
-- A user's all-projects rows are theirs alone; per-project rows are the project's members'.
drop policy if exists analytics_daily_select on public.analytics_daily;
create policy analytics_daily_select on public.analytics_daily for select to authenticated
  using ((project_id is null and user_id = (select auth.uid()))
    or project_id = any ((select private.project_ids('reader'))::uuid[]));

-- Supabase grants everything on new public tables to its API roles by default: take it back.
revoke all on public.search_events, public.memory_events, public.analytics_daily
  from public, anon, authenticated;
grant select on public.search_events, public.memory_events, public.analytics_daily
  to authenticated;
grant select, insert, update, delete on public.search_events, public.memory_events,
  public.analytics_daily to service_role;

-- Configuration -----------------------------------------------------------------------------
-- A named setting: Vault (Supabase) first, then private.settings (written by the local stack).
create or replace function private.config_value(name text) returns text
language plpgsql stable security definer set search_path = '' as $$
declare
  value text;
begin
  if to_regclass('vault.decrypted_secrets') is not null then
    -- Dynamic SQL: the statement must not even be planned where Vault does not exist.
    execute 'select max(decrypted_secret) from vault.decrypted_secrets where name = $1'
      into value using config_value.name;
  end if;
  return coalesce(nullif(value, ''),
    (select s.value from private.settings s where s.key = config_value.name));
end $$;
revoke all on function private.config_value(text) from public;

create or replace function analytics.retention_days() returns int
language sql stable set search_path = '' as $$
  select coalesce(
    (select v::int from private.config_value('codememory_analytics_retention_days') v
     where v ~ '^\s*[0-9]{1,5}\s*$' and v::int > 0),
    90)
$$;

-- Purge: raw events older than the retention period (rollups are kept). Returns rows deleted.
create or replace function analytics.purge(retention_days int default null) returns bigint
language plpgsql volatile set search_path = '' as $$
declare
  cutoff timestamptz := now()
    - make_interval(days => coalesce(purge.retention_days, analytics.retention_days()));
  searches bigint;
  writes bigint;
begin
  if purge.retention_days is not null and purge.retention_days < 1 then
    raise exception using errcode = '22023', message = 'retention_days must be at least 1';
  end if;
  delete from public.search_events where created_at < cutoff;
  get diagnostics searches = row_count;
  delete from public.memory_events where created_at < cutoff;
  get diagnostics writes = row_count;
  return searches + writes;
end $$;

/*
  analytics.rollup(day): recomputes analytics_daily for one UTC day from the raw events.
  Idempotent: the day's rows are deleted and inserted again in one transaction, so running it
  twice (or from pg_cron and the local timer at once: an advisory lock serialises them) leaves
  the same rows. Returns the number of rows written.

  Attribution: a search counts for its user, and for each project it was limited to (an
  unscoped search belongs to no single project); a returned memory counts for the project it
  is in; a write for the memory's project. Latency percentiles are percentile_cont (linear
  interpolation). Queries are grouped case-insensitively.

  A day older than the retention period is left alone: its events are gone, and rolling it up
  again would erase the rows that summarise them.
*/
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
  -- Memories of the key (authored by its user, in its project) that no search had returned by
  -- the end of the day.
  never_hit as (
    select k.k_user, k.k_project, count(m.id)::int as n,
           jsonb_agg(m.id order by m.created_at, m.id) filter (where m.rank <= 100) as ids
    from keys k
    left join lateral (
      select m.id, m.created_at, row_number() over (order by m.created_at, m.id) as rank
      from public.memories m
      where (k.k_user is null or m.user_id = k.k_user)
        and (k.k_project is null or m.project_id = k.k_project)
        and m.created_at < hi
        and (m.expires_at is null or m.expires_at > hi)
        and not exists (
          select 1 from public.search_events e
          where e.hit_ids @> array[m.id] and e.created_at < hi)
    ) m on true
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

-- What the schedule runs: yesterday (complete) and today so far, then the retention purge.
create or replace function analytics.run_scheduled() returns void
language plpgsql volatile set search_path = '' as $$
declare
  today date := (now() at time zone 'utc')::date;
begin
  perform analytics.rollup(today - 1);
  perform analytics.rollup(today);
  perform analytics.purge();
end $$;

revoke all on all functions in schema analytics from public;
grant execute on all functions in schema analytics to service_role;

-- Insights ------------------------------------------------------------------------------------
/*
  public.get_insights(project_id, days): what a dashboard shows, as one JSON document, over the
  last `days` UTC days (today included; 1..366):
    project_id null → the caller's own activity in all projects;
    project_id set  → that project, all members together (the caller must be a member).
  SECURITY INVOKER: every row comes through row level security.

  Totals add the daily rows up; the latency totals are the searches-weighted means of the daily
  percentiles (each day's are exact). Suggestions:
    repeated_zero_result_queries  asked at least twice in the window and never answered;
    stale_memories                older than `days` and not returned by any search in that
                                  time (memories.last_accessed_at), oldest first;
    duplicate_clusters            memories of one project whose embeddings (same model) have a
                                  cosine similarity ≥ 0.95, or without embeddings, titles with a
                                  trigram similarity ≥ 0.8 (equal titles where pg_trgm is
                                  missing). Bounded: the 200 newest memories of the scope are
                                  compared with their 5 nearest neighbours (HNSW).
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
begin
  if uid is null then
    raise exception using errcode = '42501', message = 'Sign in to see insights';
  end if;
  if scope is not null and not exists (select 1 from public.projects p where p.id = scope) then
    raise exception using errcode = 'P0002', message = 'Project not found';
  end if;

  -- The window's rollup rows, read once (an array keeps the function STABLE: no temp table).
  select coalesce(array_agg(d), '{}') into rollups
  from public.analytics_daily d
  where d.day between first_day and today
    and case when scope is null then d.user_id = uid and d.project_id is null
             else d.user_id is null and d.project_id = scope end;

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
           'deletes', coalesce(sum(deletes), 0)),
         max(computed_at)
  into totals, last_rollup
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

-- Schedule ------------------------------------------------------------------------------------
-- pg_cron (Supabase; local PostgreSQL where cron.database_name is this database) runs the rollup
-- every night; cron.schedule replaces a job of the same name, so re-running this is harmless.
-- Elsewhere (PGlite) the embedded stack runs analytics.run_scheduled() on a timer.
do $$
begin
  if exists (select 1 from pg_namespace where nspname = 'cron') then
    perform cron.schedule('codememory-analytics-rollup', '15 0 * * *',
      'select analytics.run_scheduled()');
  end if;
end $$;
