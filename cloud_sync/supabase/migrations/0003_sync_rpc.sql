-- The two calls a unit makes: upload a batch of journal events, and download catalogue/stock changes.

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

-- Why one event cannot be stored, or null. Field-level checks only; the insert's constraints back them up.
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

-- Insert a batch of events in one transaction. Each event is accepted (new), a duplicate (already stored: a
-- replayed batch), or rejected with a reason (kept on the unit in quarantine). Stock follows accepted events only.
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

-- Catalogue and stock rows of the caller's site changed since `since_cursor` (null: everything), and the cursor
-- for the next call. The cursor is the oldest transaction still running when this snapshot was taken: every
-- write that was not visible to this call has a changed_xid at or above it, so it is returned next time (rows
-- may come twice; the unit de-duplicates by key). STABLE: the whole call reads one snapshot.
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

revoke execute on function public.ingest_events(jsonb), public.changes_since(text) from public, anon;
revoke execute on function app.event_problem(jsonb, text), app.require_device() from public, anon;
grant execute on function public.ingest_events(jsonb), public.changes_since(text) to authenticated;
grant execute on function app.event_problem(jsonb, text), app.require_device() to authenticated;
