"""Revocation at once: a revoked unit is refused at its next request, even with an access token that has not
expired; the unit says so (`larder sync status`, `larder doctor`) and keeps journalling."""

from __future__ import annotations

import json
from pathlib import Path

import jwt
import psycopg
import pytest

from cloud_sync.errors import DeviceRevoked
from cloud_sync.status import describe, sync_status
from cloud_sync.worker import event_payload, sync_now
from device import __version__
from device.doctor import run_checks
from device.doctor.data import check_sync
from tests.cloud_sync.helpers import Caller, Cloud, record_adds, rows, session_of


def test_a_revoked_unit_is_refused_with_its_live_token(cloud: Cloud, tmp_path: Path) -> None:
    store, settings = cloud.provisioned_store(tmp_path)
    record_adds(store, 5)
    sync_now(store, settings)
    session = session_of(tmp_path)
    cloud.sql("select app.revoke_device(%s)", (store.device_id,))
    # the access token is still valid for most of an hour; every request is refused all the same
    remote = cloud.remote()
    remote.use_token(session.access_token)
    record_adds(store, 3)
    batch = [event_payload(e) for e in store.unsynced(10)]
    with pytest.raises(DeviceRevoked):
        remote.ingest(batch)  # type: ignore[arg-type]
    with pytest.raises(DeviceRevoked):
        remote.changes_since(None)
    remote.close()
    api = Caller(cloud, session.access_token)
    for table in ("inventory_events", "items", "stock", "sites", "devices"):
        assert api.fails(lambda t=table: api.client.table(t).select("*").execute()) == (403, "42501")
    assert len(cloud.events(store.device_id)) == 5  # nothing more landed
    remote = cloud.remote()
    with pytest.raises(DeviceRevoked):  # ... and the refresh is refused by the access-token hook
        remote.refresh(session.refresh_token)
    remote.close()


def test_the_unit_reports_revocation_and_keeps_journalling(cloud: Cloud, tmp_path: Path) -> None:
    store, settings = cloud.provisioned_store(tmp_path)
    record_adds(store, 4)
    cloud.sql("select app.revoke_device(%s)", (store.device_id,))
    with pytest.raises(DeviceRevoked):
        sync_now(store, settings)
    record_adds(store, 2)  # the kitchen goes on
    status = sync_status(store)
    assert status["revoked"] and status["backlog"] == 6 and status["quarantined"] == 0
    assert describe(status)[0].startswith("this unit was revoked in the back office: 6 event(s) are kept")
    doctor = check_sync(settings)
    assert doctor.status.name == "FAIL" and "revoked" in doctor.message and "provision" in (doctor.hint or "")
    [online] = run_checks(settings, only=["supabase"])  # the doctor's live check asks the cloud
    assert online.status.name == "FAIL" and "revoked in the back office" in online.message
    # provisioned again (a new code): the kept events go up, once each
    from cloud_sync.identity import provision

    old = session_of(tmp_path)
    provision(settings, cloud.code("cafe-1"), store=store)
    report = sync_now(store, settings)
    assert report["uploaded"] == 6 and not sync_status(store)["revoked"]
    assert cloud.sql("select distinct app_version from inventory_events") == [(__version__,)]
    # the token of the old binding stays refused: the device is bound to a new auth user
    api = Caller(cloud, old.access_token)
    assert api.fails(lambda: api.client.rpc("changes_since", {"since_cursor": None}).execute()) == (
        403,
        "42501",
    )


def test_a_manager_revokes_a_unit_of_their_site(cloud: Cloud, tmp_path: Path) -> None:
    store, settings = cloud.provisioned_store(tmp_path)
    manager = cloud.person("manager@cafe-1.test", site="cafe-1", role="manager")
    rows(manager.api.client.rpc("revoke_device", {"p_device_id": store.device_id}))
    record_adds(store, 1)
    with pytest.raises(DeviceRevoked):
        sync_now(store, settings)
    owner = cloud.person("owner@cafe-1.test", site="cafe-1", role="owner")
    audit = rows(owner.api.client.table("audit_logs").select("*").eq("action", "devices.update"))
    assert [a["user_id"] for a in audit if a["detail"]["new"]["revoked_at"]] == [manager.user_id]


def test_revocation_holds_in_sql_without_the_gateway(cloud: Cloud, tmp_path: Path) -> None:
    """As PostgREST would run it, but without its pre-request hook: row-level security alone refuses too."""
    store, _ = cloud.provisioned_store(tmp_path)
    record_adds(store, 2)
    claims = jwt.decode(session_of(tmp_path).access_token, options={"verify_signature": False})
    cloud.sql("select app.revoke_device(%s)", (store.device_id,))
    event = event_payload(store.unsynced(1)[0])
    with psycopg.connect(cloud.server.conninfo(cloud.dbname, "authenticator")) as conn:
        conn.execute(
            "select set_config('role', 'authenticated', true), set_config('request.jwt.claims', %s, true)",
            (json.dumps(claims),),
        )
        assert conn.execute("select count(*) from inventory_events").fetchone() == (0,)
        assert conn.execute("select count(*) from stock").fetchone() == (0,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="revoked"):
            conn.execute("select ingest_events(%s::jsonb)", (json.dumps([event]),))
