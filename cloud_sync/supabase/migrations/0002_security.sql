-- Who may do what. A device signs in as role `authenticated` with claims `device_id` and `site_id`: it may insert
-- only its own events and read only its own events and its own site's catalogue and stock. `anon` may do nothing.
-- Supabase grants everything in `public` to anon/authenticated by default, so start from nothing.

revoke all on all tables in schema public from public, anon, authenticated;
revoke all on all sequences in schema public from public, anon, authenticated;
revoke execute on all functions in schema public from public, anon, authenticated;
revoke execute on all functions in schema app from public, anon, authenticated;

grant select on public.sites, public.devices, public.items, public.locations, public.stock to authenticated;
grant select, insert on public.inventory_events to authenticated;
grant select on public.devices to supabase_auth_admin;
grant all on all tables in schema public to service_role;
grant execute on function app.claims(), app.device_id(), app.site_id(), app.deltas_problem(jsonb)
  to authenticated, service_role;

alter table public.sites enable row level security;
alter table public.devices enable row level security;
alter table public.items enable row level security;
alter table public.locations enable row level security;
alter table public.stock enable row level security;
alter table public.inventory_events enable row level security;
alter table public.audit_logs enable row level security;

drop policy if exists own_site on public.sites;
create policy own_site on public.sites for select to authenticated using (id = app.site_id());

drop policy if exists own_device on public.devices;
create policy own_device on public.devices for select to authenticated using (id = app.device_id());
drop policy if exists token_hook on public.devices;
create policy token_hook on public.devices for select to supabase_auth_admin using (true);

drop policy if exists own_site on public.items;
create policy own_site on public.items for select to authenticated using (site_id = app.site_id());
drop policy if exists own_site on public.locations;
create policy own_site on public.locations for select to authenticated using (site_id = app.site_id());
drop policy if exists own_site on public.stock;
create policy own_site on public.stock for select to authenticated using (site_id = app.site_id());

drop policy if exists own_events_read on public.inventory_events;
create policy own_events_read on public.inventory_events for select to authenticated
  using (device_id = app.device_id());
drop policy if exists own_events_insert on public.inventory_events;
create policy own_events_insert on public.inventory_events for insert to authenticated
  with check (device_id = app.device_id() and site_id = app.site_id());
-- audit_logs: no policy at all; only service_role (bypassrls) and the table owner read it.
