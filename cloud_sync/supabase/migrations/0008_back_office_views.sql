-- Views for the back office. All run with the caller's rights (`security_invoker`), so the row-level security of
-- the tables underneath decides what each person (or device) sees: their own site only.

-- Stock of each catalogue item against its par, in the item's base unit; `low` when below par.
create or replace view public.stock_vs_par with (security_invoker = true) as
select i.site_id, i.name as item, i.unit, i.location as usual_location, i.par,
  coalesce(sum(s.quantity), 0) as on_hand,
  i.par is not null and coalesce(sum(s.quantity), 0) < i.par as low
from public.items i
left join public.stock s on s.site_id = i.site_id and lower(s.item) = lower(i.name)
where not i.deleted
group by i.site_id, i.name, i.unit, i.location, i.par;

-- Waste per item per ISO week (Monday), in base units, leaving out wastes that were undone.
create or replace view public.waste_by_week with (security_invoker = true) as
select e.site_id, d ->> 'item' as item, date_trunc('week', e.at)::date as week,
  -sum((d ->> 'quantity')::numeric) as wasted, count(distinct e.id) as events
from public.inventory_events e
cross join lateral jsonb_array_elements(e.deltas) d
where e.action = 'waste' and e.outcome = 'applied'
  and not exists (select 1 from public.inventory_events u where u.reverses = e.id)
group by e.site_id, d ->> 'item', date_trunc('week', e.at)::date;

-- The journal with the name of the unit that recorded each event (or the person, for back-office counts).
create or replace view public.journal with (security_invoker = true) as
select e.id, e.site_id, e.at, e.action, e.item, e.quantity, e.unit, e.location, e.to_location, e.transcript,
  e.resolver, e.confirmation, e.outcome, e.reverses, e.deltas, e.device_id, d.name as device_name,
  e.user_id, e.app_version, e.received_at
from public.inventory_events e
left join public.devices d on d.id = e.device_id;

-- Lots with stock left that expire within `days` days (today included; already expired ones too).
create or replace function public.expiring_lots(days integer default 3)
returns table (site_id text, item text, location text, expires date, quantity numeric, days_left integer)
language sql stable security invoker set search_path = public, pg_temp as $$
  select s.site_id, s.item, s.location, s.expires, s.quantity, s.expires - current_date
  from public.stock s
  where s.expires is not null and s.quantity > 0 and s.expires <= current_date + greatest(days, 0)
  order by s.expires, s.item, s.location
$$;

revoke all on public.stock_vs_par, public.waste_by_week, public.journal from public, anon, authenticated;
grant select on public.stock_vs_par, public.waste_by_week, public.journal to authenticated, service_role;
revoke execute on function public.expiring_lots(integer) from public, anon, authenticated;
grant execute on function public.expiring_lots(integer) to authenticated, service_role;
