-- A stand-in for Supabase's pg_net where the extension is not available (local PostgreSQL,
-- PGlite): the same schema, tables and net.http_post signature, so migrations and triggers are
-- written once against pg_net's API. Requests are queued here and announced with pg_notify,
-- which PostgreSQL delivers only on COMMIT; relay.ts sends them over HTTP and records the
-- response, as pg_net's background worker does. Idempotent: installing twice changes nothing.

create schema if not exists net;

do $$
begin
  if to_regtype('net.http_method') is null then
    create domain net.http_method as text
      check (value ilike 'get' or value ilike 'post' or value ilike 'delete');
  end if;
end $$;

-- Pending requests; the relay deletes each one as it takes it (like pg_net's worker).
create unlogged table if not exists net.http_request_queue (
  id bigserial,
  method net.http_method not null,
  url text not null,
  headers jsonb not null,
  body bytea,
  timeout_milliseconds int not null
);

-- One row per finished request: an HTTP status, or timed_out / error_msg without one.
create unlogged table if not exists net._http_response (
  id bigint,
  status_code integer,
  content_type text,
  headers jsonb,
  content text,
  timed_out bool,
  error_msg text,
  created timestamptz not null default now()
);
create index if not exists _http_response_created_idx on net._http_response (created);

-- RFC 3986 percent-encoding of UTF-8 bytes (pg_net does this in C).
create or replace function net._urlencode_string(string varchar) returns text
language plpgsql immutable strict as $$
declare
  bytes bytea := convert_to(string, 'UTF8');
  out text := '';
  b int;
begin
  for i in 0 .. length(bytes) - 1 loop
    b := get_byte(bytes, i);
    if b < 128 and chr(b) ~ '[A-Za-z0-9._~-]' then
      out := out || chr(b);
    else
      out := out || '%' || upper(lpad(to_hex(b), 2, '0'));
    end if;
  end loop;
  return out;
end $$;

-- pg_net's signature, defaults and checks; returns the request id.
create or replace function net.http_post(
  url text,
  body jsonb default '{}'::jsonb,
  params jsonb default '{}'::jsonb,
  headers jsonb default '{"Content-Type": "application/json"}'::jsonb,
  timeout_milliseconds integer default 5000
) returns bigint
language plpgsql volatile as $$
declare
  request_id bigint;
  content_type text;
  query text;
begin
  select h.value into content_type
  from jsonb_each_text(coalesce(headers, '{}'::jsonb)) h
  where lower(h.key) = 'content-type'
  limit 1;
  if content_type is null then
    headers := coalesce(headers, '{}'::jsonb) || '{"Content-Type": "application/json"}'::jsonb;
  elsif content_type <> 'application/json' then
    raise exception 'Content-Type header must be "application/json"';
  end if;
  if body is null then
    raise exception 'body must not be null';
  end if;

  select string_agg(net._urlencode_string(p.key) || '=' || net._urlencode_string(p.value), '&')
    into query
  from jsonb_each_text(coalesce(params, '{}'::jsonb)) p;

  insert into net.http_request_queue (method, url, headers, body, timeout_milliseconds)
  values (
    'POST',
    case
      when query is null then url
      when strpos(url, '?') > 0 then url || '&' || query
      else url || '?' || query
    end,
    headers,
    convert_to(body::text, 'UTF8'),
    timeout_milliseconds)
  returning id into request_id;

  -- Delivered to listeners only if and when this transaction commits.
  perform pg_notify('pg_net_standin', request_id::text);
  return request_id;
end $$;

-- Only privileged code calls it (SECURITY DEFINER triggers); clients never reach net.
revoke all on schema net from public;
revoke all on all tables in schema net from public;
revoke all on function net.http_post(text, jsonb, jsonb, jsonb, integer) from public;
do $$
begin
  if exists (select 1 from pg_roles where rolname = 'service_role') then
    grant usage on schema net to service_role;
    grant execute on function net.http_post(text, jsonb, jsonb, jsonb, integer) to service_role;
  end if;
end $$;
