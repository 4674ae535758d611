-- People in the back office: site members with a role, invite codes, per-caller limits on guessing codes, counts
-- recorded by managers, the audit trail, and the row-level security for people and devices together.
--
-- A person signs in to Supabase Auth (role `authenticated`, claim `sub` = their user id, no `device_id`). What a
-- person may do follows their row in `site_members`, read on every request:
--   owner    everything a manager may, plus invite any role, change roles, remove members, read the audit trail
--   manager  read the site; edit catalogue (items, pars, aliases, packs) and locations; record counts; make
--            provisioning codes; revoke the site's devices; invite staff
--   staff    read the site (catalogue, stock, journal, devices, members)
-- Nobody reads or writes another site. Devices keep the rules of 0002 (their own site, their own events).

create table if not exists public.site_members (
  site_id text not null references public.sites (id) on delete cascade,
  user_id uuid not null, -- the person's Supabase Auth user id
  role text not null check (role in ('owner', 'manager', 'staff')),
  created_at timestamptz not null default now(),
  primary key (site_id, user_id)
);
create index if not exists site_members_user on public.site_members (user_id);
alter table public.site_members enable row level security; -- policies and grants: 0007
revoke all on public.site_members from public, anon, authenticated;

-- Invite codes: shown once to whoever made them, stored as SHA-256 only, single use, expiring.
create table if not exists app.invites (
  code_hash text primary key,
  site_id text not null references public.sites (id) on delete cascade,
  role text not null check (role in ('owner', 'manager', 'staff')),
  created_by uuid,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  used_at timestamptz,
  used_by uuid
);
alter table app.invites enable row level security;

-- Failed code redemptions per caller (an IP address for provisioning codes, a user id for invites).
create table if not exists app.code_failures (
  id bigint generated always as identity primary key,
  kind text not null check (kind in ('provisioning', 'invite')),
  caller text not null,
  at timestamptz not null default now()
);
create index if not exists code_failures_caller on app.code_failures (kind, caller, at);
alter table app.code_failures enable row level security;

-- Events recorded by a person in the back office (counts) have a user and no device.
alter table public.inventory_events alter column device_id drop not null;
alter table public.inventory_events add column if not exists user_id uuid;
do $$
begin
  if not exists (select from pg_constraint where conname = 'inventory_events_author') then
    alter table public.inventory_events
      add constraint inventory_events_author check (num_nonnulls(device_id, user_id) = 1);
  end if;
end
$$;

-- Roles of the caller, read from site_members on every request (SECURITY DEFINER: policies on site_members
-- itself use them without recursion).
create or replace function app.role_at(p_site text) returns text
language sql stable security definer set search_path = public, pg_temp as $$
  select role from site_members where site_id = p_site and user_id = app.uid()
$$;

create or replace function app.member_sites() returns setof text
language sql stable security definer set search_path = public, pg_temp as $$
  select site_id from site_members where user_id = app.uid()
$$;

create or replace function app.editor_sites() returns setof text
language sql stable security definer set search_path = public, pg_temp as $$
  select site_id from site_members where user_id = app.uid() and role in ('owner', 'manager')
$$;

create or replace function app.owner_sites() returns setof text
language sql stable security definer set search_path = public, pg_temp as $$
  select site_id from site_members where user_id = app.uid() and role = 'owner'
$$;

create or replace function app.require_role(p_site text, p_roles text[]) returns uuid
language plpgsql stable security definer set search_path = public, pg_temp as $$
begin
  if app.uid() is null or coalesce(app.role_at(p_site), '') <> all (p_roles) then
    raise exception using errcode = '42501',
      message = format('only a site''s %s may do this', array_to_string(p_roles, ' or '));
  end if;
  return app.uid();
end
$$;

-- Rate limit on guessing: at most 5 failed redemptions per caller in 15 minutes.
create or replace function app.throttled(p_kind text, p_caller text) returns boolean
language sql stable security definer set search_path = app, pg_temp as $$
  select count(*) >= 5 from app.code_failures
  where kind = p_kind and caller = p_caller and at > now() - interval '15 minutes'
$$;

create or replace function app.note_failure(p_kind text, p_caller text) returns void
language sql security definer set search_path = app, pg_temp as $$
  delete from app.code_failures where at < now() - interval '1 day';
  insert into app.code_failures (kind, caller) values (p_kind, p_caller);
$$;

-- A refusal that must still commit (the failure is counted): PostgREST answers with this status and body.
create or replace function app.refuse(p_status int, p_code text, p_message text) returns jsonb
language plpgsql volatile as $$
begin
  perform set_config('response.status', p_status::text, true);
  return jsonb_build_object('code', p_code, 'message', p_message, 'details', null, 'hint', null);
end
$$;

-- Managers make provisioning codes for their own site.
create or replace function public.create_provisioning_code(p_site text, p_device_name text default '')
returns text
language plpgsql security definer set search_path = public, pg_temp as $$
begin
  perform app.require_role(p_site, array['owner', 'manager']);
  return app.create_provisioning_code(p_site, coalesce(p_device_name, ''), interval '7 days');
end
$$;

-- What the provision-device Edge Function calls (service role only): redeem a code for a device and the auth
-- user the function is about to create. Wrong, used or expired codes are counted against the caller and
-- answered 400 (429 once the caller is throttled) without raising, so the count commits.
create or replace function public.redeem_provisioning_code(
  p_code text, p_device_id text, p_user_id uuid, p_device_name text default '', p_caller text default ''
) returns jsonb
language plpgsql security definer set search_path = public, pg_temp as $$
begin
  if app.throttled('provisioning', p_caller) then
    return app.refuse(429, 'too_many_attempts', 'too many wrong codes from this address; try again later');
  end if;
  begin
    return app.redeem_provisioning_code(p_code, p_device_id, p_user_id, coalesce(p_device_name, ''));
  exception when raise_exception or integrity_constraint_violation or data_exception then
    perform app.note_failure('provisioning', p_caller);
    return app.refuse(case when sqlstate = '23505' then 409 else 400 end, sqlstate, sqlerrm);
  end;
end
$$;

-- Undo a redemption whose auth user could not be made (the function calls this, then reports the failure).
create or replace function public.release_provisioning_code(p_code text, p_device_id text, p_user_id uuid)
returns void
language sql security definer set search_path = public, pg_temp as $$
  update app.provisioning_codes set used_at = null, device_id = null
  where code_hash = app.code_hash(p_code) and device_id = p_device_id;
  update devices set revoked_at = now() where id = p_device_id and user_id = p_user_id;
$$;

-- Invites. The first owner of a site is invited by the service role (SQL editor):
--   select app.create_invite('cafe-1', 'owner');
create or replace function app.create_invite(
  p_site text, p_role text, p_valid_for interval default '7 days'
) returns text
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  code text := app.new_code();
begin
  if not exists (select 1 from sites where id = p_site) then
    raise exception using errcode = 'P0001', message = format('there is no site %s', p_site);
  elsif p_role is null or p_role not in ('owner', 'manager', 'staff') then
    raise exception using errcode = 'P0001', message = 'the role must be owner, manager or staff';
  elsif p_valid_for > interval '30 days' or p_valid_for <= interval '0' then
    raise exception using errcode = 'P0001', message = 'an invite lasts between a minute and 30 days';
  end if;
  insert into app.invites (code_hash, site_id, role, created_by, expires_at)
  values (app.code_hash(code), p_site, p_role, app.uid(), now() + p_valid_for);
  insert into audit_logs (site_id, user_id, action, detail)
  values (p_site, app.uid(), 'invite_created', jsonb_build_object('role', p_role));
  return code;
end
$$;

-- A member invites a person: owners any role, managers staff only.
create or replace function public.create_invite(p_site text, p_role text, p_valid_for interval default '7 days')
returns text
language plpgsql security definer set search_path = public, pg_temp as $$
begin
  if p_role = 'staff' then
    perform app.require_role(p_site, array['owner', 'manager']);
  else
    perform app.require_role(p_site, array['owner']);
  end if;
  return app.create_invite(p_site, p_role, p_valid_for);
end
$$;

-- A signed-in person joins a site with an invite code. Refusals are counted per person and answered 400 (429
-- once throttled) without raising, so the count commits.
create or replace function public.accept_invite(p_code text) returns jsonb
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  me uuid := app.uid();
  inv app.invites;
  problem text;
  rank_of jsonb := '{"staff": 1, "manager": 2, "owner": 3}';
begin
  if me is null then
    raise exception using errcode = '42501', message = 'sign in as a person to accept an invite';
  elsif coalesce(app.claims() ->> 'is_anonymous', 'false') = 'true' then
    raise exception using errcode = '42501', message = 'an anonymous sign-in cannot join a site';
  elsif exists (select 1 from devices where user_id = me) then
    raise exception using errcode = '42501', message = 'a device cannot join a site as a person';
  elsif app.throttled('invite', me::text) then
    return app.refuse(429, 'too_many_attempts', 'too many wrong invite codes; try again later');
  end if;
  select * into inv from app.invites where code_hash = app.code_hash(p_code) for update;
  problem := case
    when not found then 'the invite code is not valid'
    when inv.used_at is not null then 'the invite code was already used'
    when inv.expires_at < now() then 'the invite code has expired' end;
  if problem is not null then
    perform app.note_failure('invite', me::text);
    return app.refuse(400, 'invite_refused', problem);
  end if;
  update app.invites set used_at = now(), used_by = me where code_hash = inv.code_hash;
  insert into site_members as m (site_id, user_id, role) values (inv.site_id, me, inv.role)
  on conflict (site_id, user_id) do update set role = excluded.role
    where (rank_of ->> excluded.role)::int > (rank_of ->> m.role)::int;
  return jsonb_build_object('site_id', inv.site_id, 'role', app.role_at(inv.site_id));
end
$$;

-- A site always keeps an owner.
create or replace function app.keep_an_owner() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
begin
  if old.role = 'owner' and (tg_op = 'DELETE' or new.role <> 'owner' or new.site_id <> old.site_id)
      and exists (select 1 from sites where id = old.site_id)
      and not exists (select 1 from site_members
        where site_id = old.site_id and role = 'owner' and user_id <> old.user_id) then
    raise exception using errcode = '42501', message = 'a site must keep at least one owner';
  end if;
  return coalesce(new, old);
end
$$;
drop trigger if exists keep_an_owner on public.site_members;
create trigger keep_an_owner before update or delete on public.site_members
  for each row execute function app.keep_an_owner();

-- Managers revoke their site's devices.
create or replace function public.revoke_device(p_device_id text) returns void
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  site text := (select site_id from devices where id = p_device_id);
begin
  perform app.require_role(site, array['owner', 'manager']);
  perform app.revoke_device(p_device_id);
end
$$;

-- A count recorded in the back office: the lot is set to `p_quantity` by an event (action `count`) whose delta
-- is the difference, so stock stays the sum of events, and the change reaches the units through changes_since.
create or replace function public.record_count(
  p_site text, p_item text, p_location text, p_quantity numeric, p_expires date default null
) returns jsonb
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  me uuid := app.require_role(p_site, array['owner', 'manager']);
  item_name text;
  current_qty numeric;
  event_id uuid := gen_random_uuid();
begin
  select name into item_name from items
  where site_id = p_site and lower(name) = lower(trim(p_item)) and not deleted;
  if item_name is null then
    raise exception using errcode = 'P0001', message = format('%s is not in the site''s catalogue', p_item);
  elsif p_quantity is null or p_quantity < 0 or p_quantity > 1e9 then
    raise exception using errcode = 'P0001', message = 'a count is a number from 0 to 1e9';
  elsif length(coalesce(trim(p_location), '')) not between 1 and 100 then
    raise exception using errcode = 'P0001', message = 'a count needs a location of 1 to 100 characters';
  end if;
  perform pg_advisory_xact_lock(hashtext(concat_ws('|', p_site, item_name, trim(p_location), p_expires)));
  select quantity into current_qty from stock
  where site_id = p_site and item = item_name and location = trim(p_location)
    and expires is not distinct from p_expires;
  insert into inventory_events (
    id, site_id, user_id, at, action, item, quantity, location, resolver, confirmation, outcome, deltas)
  values (
    event_id, p_site, me, now(), 'count', item_name, p_quantity, trim(p_location), 'back_office', 'none',
    'applied', jsonb_build_array(jsonb_build_object(
      'item', item_name, 'location', trim(p_location), 'quantity', p_quantity - coalesce(current_qty, 0),
      'expires', p_expires)));
  return jsonb_build_object('id', event_id, 'item', item_name, 'location', trim(p_location),
    'quantity', p_quantity, 'was', coalesce(current_qty, 0));
end
$$;

-- The audit trail, written by triggers with the caller's identity from the verified token (never the client's
-- word): every insert, update and delete on the back office's tables.
create or replace function app.audit_change() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  before jsonb := case when tg_op <> 'INSERT' then to_jsonb(old) end;
  after jsonb := case when tg_op <> 'DELETE' then to_jsonb(new) end;
  site text := coalesce(after ->> 'site_id', before ->> 'site_id');
begin
  if tg_table_name = 'sites' then
    site := coalesce(after ->> 'id', before ->> 'id');
  end if;
  insert into audit_logs (site_id, device_id, user_id, action, detail)
  values (site, app.device_id(), app.uid(), tg_table_name || '.' || lower(tg_op),
    jsonb_strip_nulls(jsonb_build_object('old', before, 'new', after)));
  return null;
end
$$;

do $$
declare
  t text;
begin
  foreach t in array array['sites', 'devices', 'items', 'locations', 'site_members'] loop
    execute format('drop trigger if exists audit_change on public.%I', t);
    execute format('create trigger audit_change after insert or update or delete on public.%I '
      'for each row execute function app.audit_change()', t);
  end loop;
end
$$;
drop trigger if exists audit_change on public.inventory_events;
create trigger audit_change after insert on public.inventory_events
  for each row when (new.user_id is not null) execute function app.audit_change();
