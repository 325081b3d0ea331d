-- The two functions that read Vault, unchanged in behaviour, with the Vault table named through
-- format(): `supabase db lint` (plpgsql_check) checks a constant EXECUTE string against the
-- catalog and reports "relation vault.decrypted_secrets does not exist" wherever Vault is not
-- installed (local PostgreSQL, CI, PGlite), although the to_regclass() guard never runs it there.

create or replace function private.embed_webhook_config(out url text, out secret text)
language plpgsql stable security definer set search_path = '' as $$
begin
  if to_regclass('vault.decrypted_secrets') is not null then
    -- Dynamic SQL: the statement must not even be planned where Vault does not exist.
    execute format($q$
      select max(decrypted_secret) filter (where name = 'codememory_embed_url'),
             max(decrypted_secret) filter (where name = 'codememory_webhook_secret')
      from %I.decrypted_secrets
      where name in ('codememory_embed_url', 'codememory_webhook_secret')$q$, 'vault')
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

create or replace function private.config_value(name text) returns text
language plpgsql stable security definer set search_path = '' as $$
declare
  value text;
begin
  if to_regclass('vault.decrypted_secrets') is not null then
    -- Dynamic SQL: the statement must not even be planned where Vault does not exist.
    execute format('select max(decrypted_secret) from %I.decrypted_secrets where name = $1', 'vault')
      into value using config_value.name;
  end if;
  return coalesce(nullif(value, ''),
    (select s.value from private.settings s where s.key = config_value.name));
end $$;
