-- Revocation at once, and the software version on uploaded events.
--
-- A device's identity is checked against its `devices` row on every request, not only when a token is minted:
-- `app.device_id()` is null unless the token names a device whose row is not revoked and is bound to the token's
-- user (`sub`; provisioning always binds one, a row made by hand without a user accepts any token naming it). Every policy and RPC goes through it, so `app.revoke_device(id)` (or an owner's
-- `revoke_device`) locks the unit out at its next request, even with an access token that has not expired. A
-- re-provisioned device is bound to a new auth user, which locks out every token of the old one the same way.

create or replace function app.device_id() returns text
language sql stable security definer set search_path = public, pg_temp as $$
  select d.id from public.devices d
  where d.id = app.claims() ->> 'device_id'
    and (d.user_id is null or d.user_id::text = app.claims() ->> 'sub')
    and d.revoked_at is null
$$;

-- The site of the caller's device, from its row (never from the token's word).
create or replace function app.site_id() returns text
language sql stable security definer set search_path = public, pg_temp as $$
  select d.site_id from public.devices d where d.id = app.device_id()
$$;

-- The caller's device id, or an error that says why there is none (a revoked device is told so plainly: the unit
-- shows it and stops retrying). `details` is the machine-readable reason.
create or replace function app.require_device() returns text
language plpgsql stable security definer set search_path = public, pg_temp as $$
declare
  me text := app.device_id();
begin
  if me is not null then
    return me;
  elsif app.claims() ? 'device_id' then
    raise exception using errcode = '42501', detail = 'device_revoked',
      message = 'this device has been revoked or re-provisioned',
      hint = 'provision the unit again with a new code';
  end if;
  raise exception using errcode = '42501', message = 'only a provisioned device may do this';
end
$$;

-- PostgREST's pre-request hook (`pgrst.db_pre_request`): runs before every API request, as the caller, after the
-- claims are set. A token that names a device which is no longer valid is refused outright (403), so even a
-- plain table read answers "revoked" rather than an empty list.
create or replace function app.check_request() returns void
language plpgsql stable security definer set search_path = public, pg_temp as $$
begin
  if app.claims() ? 'device_id' then
    perform app.require_device();
  end if;
end
$$;

do $$
begin
  if exists (select from pg_roles where rolname = 'authenticator') then
    alter role authenticator set pgrst.db_pre_request = 'app.check_request';
  end if;
end
$$;
notify pgrst, 'reload config';

-- The software version of the unit that journalled each event (`device.__version__`).
alter table public.inventory_events add column if not exists app_version text
  check (length(app_version) <= 40);

create or replace function app.event_problem(e jsonb, me text) returns text
language plpgsql stable as $$
begin
  if jsonb_typeof(e) is distinct from 'object' then
    return 'the event is not a JSON object';
  elsif coalesce(e ->> 'id', '') !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
    return 'id must be a UUID';
  elsif (e ->> 'device_id') is distinct from me then
    return format('the event belongs to device %s, not to the device uploading it (%s)', e ->> 'device_id', me);
  elsif jsonb_typeof(e -> 'at') is distinct from 'string' then
    return 'at must be an ISO-8601 time';
  elsif coalesce(e ->> 'action', '') !~ '^[a-z_]{1,32}$' then
    return 'action must be a short lower-case word';
  elsif coalesce(jsonb_typeof(e -> 'quantity'), 'null') not in ('null', 'number') then
    return 'quantity must be a number or null';
  elsif coalesce(jsonb_typeof(e -> 'app_version'), 'null') not in ('null', 'string')
      or length(e ->> 'app_version') > 40 then
    return 'app_version must be a version string of at most 40 characters';
  end if;
  return app.deltas_problem(coalesce(e -> 'deltas', '[]'::jsonb));
end
$$;

-- As in 0003, with the version stored and the caller's device checked against its row (revocation).
create or replace function public.ingest_events(events jsonb) returns jsonb
language plpgsql security invoker set search_path = public, pg_temp as $$
declare
  me text := app.require_device();
  my_site text := app.site_id();
  e jsonb;
  problem text;
  inserted uuid;
  accepted text[] := '{}';
  duplicates text[] := '{}';
  rejected jsonb := '[]';
begin
  if jsonb_typeof(events) is distinct from 'array' then
    raise exception using errcode = '22023', message = 'events must be a JSON array';
  end if;
  if jsonb_array_length(events) > 5000 then
    raise exception using errcode = '22023', message = 'at most 5000 events per call';
  end if;
  for e in select value from jsonb_array_elements(events) loop
    problem := app.event_problem(e, me);
    if problem is not null then
      rejected := rejected || jsonb_build_object('id', e ->> 'id', 'code', '22023', 'reason', problem);
      continue;
    end if;
    begin
      inserted := null;
      insert into inventory_events as t (
        id, site_id, device_id, at, action, item, quantity, unit, location, to_location,
        transcript, resolver, confirmation, outcome, reverses, deltas, app_version)
      values (
        (e ->> 'id')::uuid, my_site, me, (e ->> 'at')::timestamptz, e ->> 'action', e ->> 'item',
        (e ->> 'quantity')::double precision, e ->> 'unit', e ->> 'location', e ->> 'to_location',
        coalesce(e ->> 'transcript', ''), coalesce(e ->> 'resolver', 'manual'),
        coalesce(e ->> 'confirmation', 'none'), coalesce(e ->> 'outcome', 'applied'),
        (e ->> 'reverses')::uuid, coalesce(e -> 'deltas', '[]'::jsonb), e ->> 'app_version')
      on conflict (id) do nothing
      returning t.id into inserted;
      if inserted is not null then
        accepted := accepted || (e ->> 'id');
      elsif exists (select 1 from inventory_events where id = (e ->> 'id')::uuid) then
        duplicates := duplicates || (e ->> 'id');
      else
        -- the id is taken by an event this device cannot see
        rejected := rejected || jsonb_build_object(
          'id', e ->> 'id', 'code', '23505', 'reason', 'the event id is already used by another device');
      end if;
    exception when data_exception or integrity_constraint_violation or insufficient_privilege then
      rejected := rejected || jsonb_build_object('id', e ->> 'id', 'code', sqlstate, 'reason', sqlerrm);
    end;
  end loop;
  perform app.audit('ingest', jsonb_build_object(
    'accepted', cardinality(accepted), 'duplicates', cardinality(duplicates), 'rejected', rejected));
  return jsonb_build_object(
    'accepted', to_jsonb(accepted), 'duplicates', to_jsonb(duplicates), 'rejected', rejected);
end
$$;

-- As in 0003, refusing a revoked device.
create or replace function public.changes_since(since_cursor text default null) returns jsonb
language plpgsql stable security invoker set search_path = public, pg_temp as $$
declare
  since xid8 := coalesce(nullif(since_cursor, '')::xid8, '0'::xid8);
  next_cursor xid8 := pg_snapshot_xmin(pg_current_snapshot());
  me text := app.require_device();
  my_site text := app.site_id();
begin
  return jsonb_build_object(
    'cursor', next_cursor::text,
    'site_id', my_site,
    'items', coalesce((
      select jsonb_agg(jsonb_build_object(
        'name', name, 'unit', unit, 'aliases', to_jsonb(aliases), 'location', location, 'par', par,
        'packs', packs, 'position', position, 'deleted', deleted) order by position, name)
      from items where site_id = my_site and changed_xid >= since), '[]'::jsonb),
    'locations', coalesce((
      select jsonb_agg(jsonb_build_object('name', name, 'position', position, 'deleted', deleted)
        order by position, name)
      from locations where site_id = my_site and changed_xid >= since), '[]'::jsonb),
    'stock', coalesce((
      select jsonb_agg(jsonb_build_object(
        'item', item, 'location', location, 'expires', expires, 'quantity', quantity) order by item, location)
      from stock where site_id = my_site and changed_xid >= since), '[]'::jsonb));
end
$$;

-- Revoke a unit: refused at its next request (see app.device_id) and at its next token refresh (the hook).
create or replace function app.revoke_device(p_device_id text) returns void
language sql security definer set search_path = public, pg_temp as $$
  update devices set revoked_at = now() where id = p_device_id and revoked_at is null;
$$;
