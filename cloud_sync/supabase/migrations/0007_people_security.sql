-- Who may do what, for devices and people together (the rules are listed in 0006's header and in
-- cloud_sync/README.md). Row-level security decides which rows; the grants decide which tables and functions.

-- Grants: start from nothing again (Supabase grants new objects in `public` to anon and authenticated), then
-- give each role what it needs. Row-level security decides which rows.
revoke all on all tables in schema public from public, anon, authenticated;
revoke all on all sequences in schema public from public, anon, authenticated;
revoke execute on all functions in schema public from public, anon, authenticated;
revoke execute on all functions in schema app from public, anon, authenticated;
alter default privileges in schema public revoke all on tables from public, anon, authenticated;
alter default privileges in schema public revoke all on sequences from public, anon, authenticated;
alter default privileges in schema public revoke execute on functions from public, anon, authenticated;
alter default privileges in schema app revoke execute on functions from public, anon, authenticated;
revoke all on all tables in schema app from public, anon, authenticated;

-- anon may not even run the pre-request check: every API request without a sign-in is refused (401)
revoke usage on schema app from anon;
grant select on public.sites, public.devices, public.stock, public.site_members, public.audit_logs
  to authenticated;
grant select, insert, update on public.items, public.locations to authenticated;
grant select, insert on public.inventory_events to authenticated;
grant update (role), delete on public.site_members to authenticated;
grant select on public.devices to supabase_auth_admin;
grant all on all tables in schema public to service_role;
grant all on all tables in schema app to service_role;

grant execute on function app.check_request() to authenticated, service_role;
grant execute on function
  app.claims(), app.device_id(), app.site_id(), app.require_device(), app.uid(), app.role_at(text),
  app.member_sites(), app.editor_sites(), app.owner_sites(), app.deltas_problem(jsonb),
  app.event_problem(jsonb, text), app.audit(text, jsonb)
  to authenticated, service_role;
grant execute on function public.ingest_events(jsonb), public.changes_since(text),
  public.create_provisioning_code(text, text), public.create_invite(text, text, interval),
  public.accept_invite(text), public.revoke_device(text),
  public.record_count(text, text, text, numeric, date)
  to authenticated;
grant execute on all functions in schema public to service_role;
grant execute on all functions in schema app to service_role;
revoke execute on function public.custom_access_token_hook(jsonb) from service_role;
grant execute on function public.custom_access_token_hook(jsonb) to supabase_auth_admin;

-- Row-level security, for devices and people alike.
alter table app.schema_migrations enable row level security;

drop policy if exists own_site on public.sites;
drop policy if exists read_site on public.sites;
create policy read_site on public.sites for select to authenticated
  using (id = (select app.site_id()) or id in (select app.member_sites()));

drop policy if exists own_device on public.devices;
drop policy if exists read_devices on public.devices;
create policy read_devices on public.devices for select to authenticated
  using (id = (select app.device_id()) or site_id in (select app.member_sites()));

do $$
declare
  t text;
begin
  foreach t in array array['items', 'locations', 'stock'] loop
    execute format('drop policy if exists own_site on public.%I', t);
    execute format('drop policy if exists read_site on public.%I', t);
    execute format('create policy read_site on public.%I for select to authenticated using ('
      'site_id = (select app.site_id()) or site_id in (select app.member_sites()))', t);
  end loop;
  -- managers and owners edit catalogue and locations; stock follows events only
  foreach t in array array['items', 'locations'] loop
    execute format('drop policy if exists editors_insert on public.%I', t);
    execute format('create policy editors_insert on public.%I for insert to authenticated '
      'with check (site_id in (select app.editor_sites()))', t);
    execute format('drop policy if exists editors_update on public.%I', t);
    execute format('create policy editors_update on public.%I for update to authenticated '
      'using (site_id in (select app.editor_sites())) with check (site_id in (select app.editor_sites()))', t);
  end loop;
end
$$;

drop policy if exists own_events_read on public.inventory_events;
drop policy if exists read_events on public.inventory_events;
create policy read_events on public.inventory_events for select to authenticated
  using (device_id = (select app.device_id()) or site_id in (select app.member_sites()));
drop policy if exists own_events_insert on public.inventory_events;
create policy own_events_insert on public.inventory_events for insert to authenticated
  with check (device_id = (select app.device_id()) and site_id = (select app.site_id()) and user_id is null);

drop policy if exists read_members on public.site_members;
create policy read_members on public.site_members for select to authenticated
  using (site_id in (select app.member_sites()));
drop policy if exists owners_update on public.site_members;
create policy owners_update on public.site_members for update to authenticated
  using (site_id in (select app.owner_sites())) with check (site_id in (select app.owner_sites()));
drop policy if exists owners_delete on public.site_members;
create policy owners_delete on public.site_members for delete to authenticated
  using (site_id in (select app.owner_sites()));

drop policy if exists owners_read on public.audit_logs;
create policy owners_read on public.audit_logs for select to authenticated
  using (site_id in (select app.owner_sites()));
