-- Embedding webhook: inserts and content changes of memories call the `embed` function through
-- pg_net (net.http_post), the way a Supabase Database Webhook does, and a sweep re-sends rows
-- whose webhook got lost or whose embedding failed, so no memory stays unembedded.
-- Where pg_net is absent (local PostgreSQL, PGlite) scripts/dev/pg_net provides net.http_post;
-- every call into net is guarded, so this migration and the triggers work without either.

do $$
begin
  -- Supabase has pg_net; plain PostgreSQL and PGlite usually do not.
  if exists (select 1 from pg_available_extensions where name = 'pg_net') then
    create extension if not exists pg_net with schema extensions;
  end if;
end $$;

-- Local configuration (the embedded stack writes it at startup). On Supabase the same names
-- live in Vault, which wins. Holds a secret: no client role may read it.
create table if not exists private.settings (
  key text primary key,
  value text not null,
  updated_at timestamptz not null default now()
);
revoke all on table private.settings from public, anon, authenticated, service_role;

-- When the sweep last re-sent a row's webhook: the clock for retries and their backoff.
alter table public.memories add column if not exists embedding_requested_at timestamptz;

-- Where `embed` lives and the secret it expects: Vault (Supabase) first, then private.settings.
-- Locally, 'codememory_embed_url@<application_name>' overrides the plain key for that client's
-- sessions ('' = send nothing), so several stacks can share one PostgreSQL (test runs), each
-- embedding its own writes; clients can only choose among targets an administrator stored.
create or replace function private.embed_webhook_config(out url text, out secret text)
language plpgsql stable security definer set search_path = '' as $$
begin
  if to_regclass('vault.decrypted_secrets') is not null then
    -- Dynamic SQL: the statement must not even be planned where Vault does not exist.
    execute $q$
      select max(decrypted_secret) filter (where name = 'codememory_embed_url'),
             max(decrypted_secret) filter (where name = 'codememory_webhook_secret')
      from vault.decrypted_secrets
      where name in ('codememory_embed_url', 'codememory_webhook_secret')$q$
      into url, secret;
  end if;
  if nullif(url, '') is null then
    select nullif(s.value, '') into url
    from private.settings s
    where s.key in ('codememory_embed_url',
                    'codememory_embed_url@' || current_setting('application_name'))
    order by s.key = 'codememory_embed_url'
    limit 1;
  end if;
  secret := coalesce(nullif(secret, ''),
    (select s.value from private.settings s where s.key = 'codememory_webhook_secret'));
end $$;

-- Queues one POST to `embed`; returns pg_net's request id, or null when nothing was sent
-- (no URL configured, or no net.http_post here). Never raises: a failed webhook must not fail
-- the user's write, and the sweep catches the row later.
create or replace function private.embed_request(body jsonb)
returns bigint
language plpgsql volatile security definer set search_path = '' as $$
declare
  cfg record;
  request_id bigint;
begin
  select * into cfg from private.embed_webhook_config();
  if cfg.url is null
    or to_regprocedure('net.http_post(text, jsonb, jsonb, jsonb, integer)') is null then
    return null;
  end if;
  -- A generous timeout: a batch can take seconds (a model's cold start). Timing out only
  -- records timed_out; the function still finishes its writes.
  request_id := net.http_post(
    url := cfg.url,
    body := body,
    params := '{}'::jsonb,
    headers := jsonb_build_object(
      'Content-Type', 'application/json',
      'x-webhook-secret', coalesce(cfg.secret, '')),
    timeout_milliseconds := 30000);
  return request_id;
exception when others then
  raise warning 'codememory: embed webhook not sent: %', sqlerrm;
  return null;
end $$;

-- Small fields only: the function loads the content itself, so the queue stays light.
create or replace function private.embed_record(m public.memories) returns jsonb
language sql stable set search_path = '' as $$
  select jsonb_build_object(
    'id', m.id, 'user_id', m.user_id, 'project_id', m.project_id,
    'content_hash', m.content_hash, 'embedding_status', m.embedding_status,
    'updated_at', m.updated_at)
$$;

-- INSERT: one statement, one webhook per 100 new rows. A single row gets exactly a Supabase
-- webhook body; several rows get the same envelope with `ids` instead of `record`.
create or replace function private.memories_embed_on_insert() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  ids uuid[];
  first_record jsonb;
  chunk int := 100;
  i int;
begin
  select array_agg(n.id order by n.id) into ids from new_rows n where n.embedding_status <> 'ready';
  if ids is null then
    return null;
  end if;
  if cardinality(ids) = 1 then
    select private.embed_record(n) into first_record from new_rows n where n.id = ids[1];
    perform private.embed_request(jsonb_build_object(
      'type', 'INSERT', 'table', 'memories', 'schema', 'public',
      'record', first_record, 'old_record', null));
    return null;
  end if;
  for i in 0 .. (cardinality(ids) - 1) / chunk loop
    perform private.embed_request(jsonb_build_object(
      'type', 'INSERT', 'table', 'memories', 'schema', 'public',
      'ids', to_jsonb(ids[i * chunk + 1 : (i + 1) * chunk])));
  end loop;
  return null;
end $$;

-- UPDATE of content: per row (content edits are one row at a time), with Supabase's body.
create or replace function private.memories_embed_on_update() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  perform private.embed_request(jsonb_build_object(
    'type', 'UPDATE', 'table', 'memories', 'schema', 'public',
    'record', private.embed_record(new),
    'old_record', jsonb_build_object(
      'id', old.id, 'content_hash', old.content_hash, 'updated_at', old.updated_at)));
  return null;
end $$;

drop trigger if exists memories_embed_on_insert on public.memories;
create trigger memories_embed_on_insert after insert on public.memories
  referencing new table as new_rows
  for each statement execute function private.memories_embed_on_insert();

-- The WHEN clause keeps every other update (embedding writes, access stats) free of overhead.
drop trigger if exists memories_embed_on_update on public.memories;
create trigger memories_embed_on_update after update of content on public.memories
  for each row when (old.content is distinct from new.content and new.embedding_status <> 'ready')
  execute function private.memories_embed_on_update();

-- Rows due for another webhook, claimed (embedding_requested_at := now()) so that concurrent
-- sweeps (pg_cron and the local timer) never send the same row twice:
--   never attempted: no webhook effect `pending_after` after the last write or re-send;
--   attempted and failed: backoff_base * 2^(attempts - 1) after the last send, while
--   attempts < max_attempts (`embed` marks a row 'failed' when it reaches max_attempts).
-- Expired memories are left alone.
create or replace function private.embedding_retry_due(
  batch_size int default 100,
  pending_after interval default interval '30 seconds',
  backoff_base interval default interval '30 seconds',
  max_attempts int default 5
) returns setof uuid
language sql volatile security definer set search_path = '' as $$
  with due as (
    select m.id
    from public.memories m
    where m.embedding_status <> 'ready'
      and m.embedding_attempts < max_attempts
      and (m.expires_at is null or m.expires_at > now())
      and greatest(m.updated_at, m.embedding_requested_at) < now() - case
        when m.embedding_attempts = 0 then pending_after
        else backoff_base * power(2, m.embedding_attempts - 1)
      end
    order by m.updated_at
    limit batch_size
    for update skip locked
  )
  update public.memories m set embedding_requested_at = now()
  from due where m.id = due.id
  returning m.id
$$;

-- The sweep: re-sends due rows to `embed`, 100 ids per webhook. Returns how many rows it sent.
-- pg_cron runs it every minute on Supabase; the embedded stack runs it on a timer.
create or replace function private.embed_sweep(
  batch_size int default 100,
  pending_after interval default interval '30 seconds',
  backoff_base interval default interval '30 seconds',
  max_attempts int default 5
) returns int
language plpgsql volatile security definer set search_path = '' as $$
declare
  ids uuid[];
  chunk int := 100;
  i int;
begin
  -- Claim nothing when nothing could be sent: the rows stay due for the next sweep.
  if (private.embed_webhook_config()).url is null
    or to_regprocedure('net.http_post(text, jsonb, jsonb, jsonb, integer)') is null then
    return 0;
  end if;
  ids := array(select private.embedding_retry_due(
    batch_size, pending_after, backoff_base, max_attempts));
  if cardinality(ids) = 0 then
    return 0;
  end if;
  for i in 0 .. (cardinality(ids) - 1) / chunk loop
    perform private.embed_request(jsonb_build_object(
      'type', 'SWEEP', 'table', 'memories', 'schema', 'public',
      'ids', to_jsonb(ids[i * chunk + 1 : (i + 1) * chunk])));
  end loop;
  return cardinality(ids);
end $$;

revoke all on function private.embed_webhook_config() from public, anon, authenticated, service_role;
revoke all on function private.embed_request(jsonb) from public, anon, authenticated, service_role;
revoke all on function private.embed_record(public.memories) from public, anon, authenticated;
revoke all on function private.embedding_retry_due(int, interval, interval, int)
  from public, anon, authenticated;
revoke all on function private.embed_sweep(int, interval, interval, int)
  from public, anon, authenticated;

-- Supabase: pg_cron runs the sweep every minute. Elsewhere the embedded stack's timer does.
do $$
begin
  if exists (select 1 from pg_namespace where nspname = 'cron') then
    perform cron.schedule('codememory-embed-sweep', '* * * * *', 'select private.embed_sweep()');
  end if;
end $$;
