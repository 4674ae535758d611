-- PostgREST's pre-request hook (`pgrst.db_pre_request`): runs before every API request, as the caller, after the
-- claims are set. A token that names a device which is revoked or re-provisioned is refused outright (403 with
-- details `device_revoked`), so even a plain table read answers "revoked" rather than an empty list. Row-level
-- security refuses such a device on its own too (app.device_id); this makes the refusal explicit.
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
exception when insufficient_privilege then
  raise warning 'cannot set pgrst.db_pre_request on authenticator: revoked devices get empty reads, not 403';
end
$$;
notify pgrst, 'reload config';
