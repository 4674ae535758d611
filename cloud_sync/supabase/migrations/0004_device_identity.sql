-- Device identity. A technician makes a one-time provisioning code for a site (service role, off the unit). The
-- install script sends the code to the `provision-device` Edge Function, which runs with the service role on the
-- server, redeems the code here, creates the device's own auth user and answers with that user's session. From
-- then on the unit refreshes its session at Supabase Auth (single-use refresh tokens); the access token hook
-- below puts `device_id` and `site_id` into every access token it mints. No unit ever holds the service key.

create table if not exists app.provisioning_codes (
  code_hash text primary key, -- sha256 of the code, hex; the code itself is shown once and never stored
  site_id text not null references public.sites (id),
  device_name text not null default '',
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  used_at timestamptz,
  device_id text
);
alter table app.provisioning_codes enable row level security;
revoke all on app.provisioning_codes from public, anon, authenticated;

grant execute on function app.audit(text, jsonb) to authenticated, service_role;

-- A fresh code: 80 bits (five groups of four hex digits) drawn from two random UUIDs (244 random bits, from the
-- server's strong random source) through SHA-256; and the hash stored for a code.
create or replace function app.new_code() returns text
language sql volatile as $$
  select upper(substr(r, 1, 4) || '-' || substr(r, 5, 4) || '-' || substr(r, 9, 4) || '-'
    || substr(r, 13, 4) || '-' || substr(r, 17, 4))
  from (select encode(sha256(convert_to(gen_random_uuid()::text || gen_random_uuid()::text, 'UTF8')), 'hex')
    as r) x
$$;

create or replace function app.code_hash(p_code text) returns text
language sql immutable as $$
  select encode(sha256(convert_to(upper(trim(coalesce(p_code, ''))), 'UTF8')), 'hex')
$$;

-- A new code for a site, e.g. `select app.create_provisioning_code('cafe-1', 'walk-in unit')`.
create or replace function app.create_provisioning_code(
  p_site text, p_device_name text default '', p_valid_for interval default '7 days'
) returns text
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  code text := app.new_code();
begin
  if not exists (select 1 from sites where id = p_site) then
    raise exception using errcode = 'P0001', message = format('there is no site %s', p_site);
  end if;
  insert into app.provisioning_codes (code_hash, site_id, device_name, expires_at)
  values (app.code_hash(code), p_site, p_device_name, now() + p_valid_for);
  insert into audit_logs (site_id, user_id, action, detail)
  values (p_site, app.uid(), 'provisioning_code_created', jsonb_build_object('device_name', p_device_name));
  return code;
end
$$;

-- Redeem a code once: registers (or re-binds) the device and returns {device_id, site_id}.
create or replace function app.redeem_provisioning_code(
  p_code text, p_device_id text, p_user_id uuid, p_device_name text default ''
) returns jsonb
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  c app.provisioning_codes;
  existing devices;
begin
  select * into c from app.provisioning_codes
  where code_hash = app.code_hash(p_code)
  for update;
  if not found then
    raise exception using errcode = 'P0001', message = 'the provisioning code is not valid';
  elsif c.used_at is not null then
    raise exception using errcode = 'P0001', message = 'the provisioning code was already used';
  elsif c.expires_at < now() then
    raise exception using errcode = 'P0001', message = 'the provisioning code has expired';
  end if;
  select * into existing from devices where id = p_device_id;
  if found and existing.site_id <> c.site_id then
    raise exception using errcode = '23505',
      message = format('device %s is already registered to another site', p_device_id);
  end if;
  insert into devices (id, site_id, user_id, name)
  values (p_device_id, c.site_id, p_user_id, coalesce(nullif(p_device_name, ''), c.device_name))
  on conflict (id) do update set user_id = excluded.user_id, name = excluded.name, revoked_at = null;
  update app.provisioning_codes set used_at = now(), device_id = p_device_id where code_hash = c.code_hash;
  insert into audit_logs (site_id, device_id, action, detail)
  values (c.site_id, p_device_id, 'device_provisioned', jsonb_build_object('user_id', p_user_id));
  return jsonb_build_object('device_id', p_device_id, 'site_id', c.site_id);
end
$$;

-- Revoke a unit: refused at its next request (app.device_id checks the row) and at its next token refresh (the
-- hook below). The audit trigger on devices records it.
create or replace function app.revoke_device(p_device_id text) returns void
language sql security definer set search_path = public, pg_temp as $$
  update devices set revoked_at = now() where id = p_device_id and revoked_at is null;
$$;

-- Supabase Auth "custom access token" hook: adds device_id and site_id to a device user's claims.
create or replace function public.custom_access_token_hook(event jsonb) returns jsonb
language plpgsql stable set search_path = public, pg_temp as $$
declare
  d devices;
  claims jsonb := event -> 'claims';
begin
  select * into d from devices where user_id = (event ->> 'user_id')::uuid;
  if not found then
    return jsonb_build_object('claims', claims);
  elsif d.revoked_at is not null then
    return jsonb_build_object('error', jsonb_build_object(
      'http_code', 403, 'message', 'this device has been revoked; provision it again'));
  end if;
  claims := jsonb_set(claims, '{device_id}', to_jsonb(d.id));
  claims := jsonb_set(claims, '{site_id}', to_jsonb(d.site_id));
  return jsonb_build_object('claims', claims);
end
$$;

revoke execute on function app.create_provisioning_code(text, text, interval),
  app.redeem_provisioning_code(text, text, uuid, text), app.revoke_device(text),
  public.custom_access_token_hook(jsonb)
  from public, anon, authenticated;
grant execute on function app.create_provisioning_code(text, text, interval),
  app.redeem_provisioning_code(text, text, uuid, text), app.revoke_device(text) to service_role;
grant execute on function public.custom_access_token_hook(jsonb) to supabase_auth_admin;
