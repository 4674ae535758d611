-- Larder cloud schema: roles, the private `app` schema, tables and their bookkeeping triggers.
-- Plain SQL, applied in file order, safe to re-run (everything is IF NOT EXISTS / OR REPLACE).

-- Supabase already has these roles; a bare PostgreSQL (tests) gets them here.
do $$
begin
  if not exists (select from pg_roles where rolname = 'anon') then
    create role anon nologin noinherit;
  end if;
  if not exists (select from pg_roles where rolname = 'authenticated') then
    create role authenticated nologin noinherit;
  end if;
  if not exists (select from pg_roles where rolname = 'service_role') then
    create role service_role nologin noinherit bypassrls;
  end if;
  if not exists (select from pg_roles where rolname = 'supabase_auth_admin') then
    create role supabase_auth_admin nologin noinherit;
  end if;
end
$$;

-- Private helpers and tables; not an exposed API schema.
create schema if not exists app;
revoke all on schema app from public;
grant usage on schema app to authenticated, service_role, supabase_auth_admin;
grant usage on schema public to anon, authenticated, service_role, supabase_auth_admin;

create table if not exists app.schema_migrations (
  name text primary key,
  applied_at timestamptz not null default now()
);

-- The claims PostgREST put in `request.jwt.claims` for this transaction ('' on a reused connection, hence nullif).
create or replace function app.claims() returns jsonb
language sql stable as $$
  select coalesce(nullif(current_setting('request.jwt.claims', true), '')::jsonb, '{}'::jsonb)
$$;

-- The signed-in person's user id: null for anon, for the service role and for device tokens.
create or replace function app.uid() returns uuid
language sql stable as $$
  select case
    when app.claims() ->> 'role' = 'authenticated' and not app.claims() ? 'device_id'
      and app.claims() ->> 'sub' ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
    then (app.claims() ->> 'sub')::uuid
  end
$$;

-- A stock delta list is an array of {item, location, quantity, expires}; `null` when valid, else the reason.
create or replace function app.deltas_problem(deltas jsonb) returns text
language plpgsql immutable as $$
declare
  d jsonb;
  n int := 0;
begin
  if jsonb_typeof(deltas) is distinct from 'array' then
    return 'deltas must be a JSON array';
  end if;
  for d in select value from jsonb_array_elements(deltas) loop
    n := n + 1;
    if jsonb_typeof(d) is distinct from 'object' then
      return format('delta %s is not an object', n);
    elsif jsonb_typeof(d -> 'item') is distinct from 'string' or length(d ->> 'item') not between 1 and 100 then
      return format('delta %s: item must be a name of 1 to 100 characters', n);
    elsif jsonb_typeof(d -> 'location') is distinct from 'string'
        or length(d ->> 'location') not between 1 and 100 then
      return format('delta %s: location must be a name of 1 to 100 characters', n);
    elsif jsonb_typeof(d -> 'quantity') is distinct from 'number' or abs((d ->> 'quantity')::numeric) > 1e9 then
      return format('delta %s: quantity must be a number between -1e9 and 1e9', n);
    elsif coalesce(jsonb_typeof(d -> 'expires'), 'null') not in ('null', 'string')
        or (d ->> 'expires') !~ '^\d{4}-\d{2}-\d{2}$' then
      return format('delta %s: expires must be a date YYYY-MM-DD or null', n);
    end if;
  end loop;
  if n > 100 then
    return 'an event may carry at most 100 deltas';
  end if;
  return null;
end
$$;

create table if not exists public.sites (
  id text primary key check (id ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'),
  name text not null default '',
  created_at timestamptz not null default now()
);

create table if not exists public.devices (
  id text primary key check (id ~ '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$'),
  site_id text not null references public.sites (id),
  user_id uuid unique, -- the auth user this device signs in as
  name text not null default '',
  created_at timestamptz not null default now(),
  revoked_at timestamptz
);

-- Catalogue and stock rows carry the id of the transaction that last wrote them (`changed_xid`), which the
-- download cursor pages on: unlike a timestamp or a sequence it cannot skip rows committed out of order.
create table if not exists public.locations (
  site_id text not null references public.sites (id),
  name text not null check (length(name) between 1 and 100),
  position integer not null default 0,
  deleted boolean not null default false,
  changed_xid xid8 not null default pg_current_xact_id(),
  updated_at timestamptz not null default now(),
  primary key (site_id, name)
);

create table if not exists public.items (
  site_id text not null references public.sites (id),
  name text not null check (length(name) between 1 and 100),
  unit text not null check (length(unit) between 1 and 40),
  aliases text[] not null default '{}',
  location text,
  par numeric check (par >= 0),
  packs jsonb not null default '{}' check (jsonb_typeof(packs) = 'object'),
  position integer not null default 0,
  deleted boolean not null default false,
  changed_xid xid8 not null default pg_current_xact_id(),
  updated_at timestamptz not null default now(),
  primary key (site_id, name)
);

-- Stock per lot, in the item's base unit: the sum of every accepted event's deltas. Written only by the
-- inventory_events trigger below.
create table if not exists public.stock (
  id bigint generated always as identity primary key,
  site_id text not null references public.sites (id),
  item text not null,
  location text not null,
  expires date,
  quantity numeric not null default 0,
  changed_xid xid8 not null default pg_current_xact_id(),
  updated_at timestamptz not null default now(),
  constraint stock_lot unique nulls not distinct (site_id, item, location, expires)
);

-- The journal of every unit, append-only; the primary key is the event's UUID made on the unit.
create table if not exists public.inventory_events (
  id uuid primary key,
  site_id text not null references public.sites (id),
  device_id text not null references public.devices (id),
  at timestamptz not null,
  action text not null check (action ~ '^[a-z_]{1,32}$'),
  item text check (length(item) <= 100),
  quantity double precision,
  unit text check (length(unit) <= 40),
  location text check (length(location) <= 100),
  to_location text check (length(to_location) <= 100),
  transcript text not null default '' check (length(transcript) <= 2000),
  resolver text not null check (resolver ~ '^[a-z_]{1,32}$'),
  confirmation text not null check (confirmation ~ '^[a-z_]{1,32}$'),
  outcome text not null check (outcome ~ '^[a-z_]{1,32}$'),
  reverses uuid,
  deltas jsonb not null default '[]' check (app.deltas_problem(deltas) is null),
  app_version text check (length(app_version) <= 40), -- the unit's software version (device.__version__)
  received_at timestamptz not null default now()
);

create table if not exists public.audit_logs (
  id bigint generated always as identity primary key,
  at timestamptz not null default now(),
  site_id text,
  device_id text,
  user_id uuid, -- the person who made the change (null for devices, the service role and the SQL editor)
  action text not null,
  detail jsonb not null default '{}'
);

-- The caller's device, checked against its row on every request (not only when a token is minted): null unless
-- the token names a device that is not revoked and is bound to the token's user (`sub`; provisioning always binds
-- one, a row made by hand without a user accepts any token naming it). Every policy and RPC goes through it, so a
-- revoked or re-provisioned unit is refused at its next request, even with an access token that has not expired.
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

create unique index if not exists items_name_ci on public.items (site_id, lower(name));
create unique index if not exists locations_name_ci on public.locations (site_id, lower(name));
create index if not exists items_changes on public.items (site_id, changed_xid);
create index if not exists locations_changes on public.locations (site_id, changed_xid);
create index if not exists stock_changes on public.stock (site_id, changed_xid);
create index if not exists events_device on public.inventory_events (device_id, at);

-- Stamp every write with the writing transaction's id, whatever the writer sent.
create or replace function app.stamp_change() returns trigger
language plpgsql as $$
begin
  new.changed_xid := pg_current_xact_id();
  new.updated_at := now();
  return new;
end
$$;

drop trigger if exists stamp_change on public.items;
create trigger stamp_change before insert or update on public.items
  for each row execute function app.stamp_change();
drop trigger if exists stamp_change on public.locations;
create trigger stamp_change before insert or update on public.locations
  for each row execute function app.stamp_change();
drop trigger if exists stamp_change on public.stock;
create trigger stamp_change before insert or update on public.stock
  for each row execute function app.stamp_change();

create or replace function app.append_only() returns trigger
language plpgsql as $$
begin
  raise exception using errcode = '42501', message = format('%I is append-only', tg_table_name);
end
$$;

drop trigger if exists append_only on public.inventory_events;
create trigger append_only before update or delete on public.inventory_events
  for each row execute function app.append_only();
drop trigger if exists append_only_truncate on public.inventory_events;
create trigger append_only_truncate before truncate on public.inventory_events
  for each statement execute function app.append_only();
drop trigger if exists append_only on public.audit_logs;
create trigger append_only before update or delete on public.audit_logs
  for each row execute function app.append_only();

-- Server stock is derived from events in the inserting transaction. The trigger fires only for rows really
-- inserted: a replayed event (ON CONFLICT DO NOTHING) never counts twice.
create or replace function app.apply_event_deltas() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
begin
  insert into public.stock as s (site_id, item, location, expires, quantity)
  select new.site_id, d ->> 'item', d ->> 'location', (d ->> 'expires')::date, sum((d ->> 'quantity')::numeric)
  from jsonb_array_elements(new.deltas) as d
  group by 1, 2, 3, 4
  on conflict on constraint stock_lot do update set quantity = s.quantity + excluded.quantity;
  return null;
end
$$;

drop trigger if exists apply_event_deltas on public.inventory_events;
create trigger apply_event_deltas after insert on public.inventory_events
  for each row execute function app.apply_event_deltas();

-- The upload's summary row (ingest_events runs as the device, so the device may call this): only a valid device,
-- only about itself, only as `ingest`. Everything else in the audit trail is written by triggers.
create or replace function app.audit(p_action text, p_detail jsonb) returns void
language plpgsql security definer set search_path = public, pg_temp as $$
begin
  if app.device_id() is null or p_action is distinct from 'ingest' then
    raise exception using errcode = '42501', message = 'only an upload writes this audit row';
  end if;
  insert into public.audit_logs (site_id, device_id, action, detail)
  values (app.site_id(), app.device_id(), p_action, coalesce(p_detail, '{}'::jsonb));
end
$$;
