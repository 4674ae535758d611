"""Row-level security and token checks, through supabase-py, the stand-in and the real migrations."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import jwt
import pytest

from cloud_sync.worker import event_payload
from tests.cloud_sync.helpers import Caller, Cloud, record_adds, rows, session_of

TABLES = ("sites", "devices", "items", "locations", "stock", "inventory_events", "audit_logs")


@pytest.fixture
def units(cloud: Cloud, tmp_path: Path) -> dict[str, Any]:
    """Devices A and B at site cafe-1, C at site cafe-2, each with journalled events uploaded."""
    from cloud_sync.worker import sync_now

    made = {}
    for name, site in (("a", "cafe-1"), ("b", "cafe-1"), ("c", "cafe-2")):
        store, settings = cloud.provisioned_store(tmp_path / name, site=site)
        record_adds(store, 4, items=(f"{name} milk",))
        sync_now(store, settings)
        made[name] = store
    cloud.put_catalogue("cafe-1", [{"name": "oat milk", "unit": "carton"}])
    cloud.put_catalogue("cafe-2", [{"name": "rye", "unit": "loaf"}])
    return {name: (store, session_of(tmp_path / name)) for name, store in made.items()}


def test_a_device_reads_only_its_own_events(cloud: Cloud, units: dict[str, Any]) -> None:
    (a, a_session), (b, _) = units["a"], units["b"]
    caller = Caller(cloud, a_session.access_token)
    seen = rows(caller.client.table("inventory_events").select("id,device_id"))
    assert {r["id"] for r in seen} == {e.id for e in a.journal()}
    b_event = b.journal()[0].id
    assert rows(caller.client.table("inventory_events").select("*").eq("id", b_event)) == []


def test_a_device_cannot_write_another_devices_events(cloud: Cloud, units: dict[str, Any]) -> None:
    (_, a_session), (b, b_session) = units["a"], units["b"]
    record_adds(b, 1, items=("b milk",))
    forged = event_payload(b.unsynced(1)[0])
    assert isinstance(forged, dict)
    caller = Caller(cloud, a_session.access_token)
    row = {k: forged[k] for k in ("id", "device_id", "at", "action", "resolver", "confirmation", "outcome")}
    row["site_id"] = "cafe-1"
    assert caller.fails(lambda: caller.client.table("inventory_events").insert(row).execute()) == (
        403,
        "42501",
    )
    answer = rows(caller.client.rpc("ingest_events", {"events": [forged]}))
    assert answer["accepted"] == [] and "belongs to device" in answer["rejected"][0]["reason"]
    assert forged["id"] not in cloud.events()
    # ... and B's own upload of it still works afterwards
    caller_b = Caller(cloud, b_session.access_token)
    assert rows(caller_b.client.rpc("ingest_events", {"events": [forged]}))["accepted"] == [forged["id"]]


def test_an_event_id_taken_by_another_device_is_rejected_not_swallowed(
    cloud: Cloud, units: dict[str, Any]
) -> None:
    (a, _), (_, b_session) = units["a"], units["b"]
    taken = event_payload(a.journal()[0])
    assert isinstance(taken, dict)
    taken["device_id"] = b_session.device_id
    caller = Caller(cloud, b_session.access_token)
    answer = rows(caller.client.rpc("ingest_events", {"events": [taken]}))
    assert answer["duplicates"] == [] and "already used by another device" in answer["rejected"][0]["reason"]


def test_a_device_reads_only_its_own_sites_catalogue_and_stock(cloud: Cloud, units: dict[str, Any]) -> None:
    caller = Caller(cloud, units["a"][1].access_token)
    items = rows(caller.client.table("items").select("site_id,name"))
    assert items == [{"site_id": "cafe-1", "name": "oat milk"}]
    stock = rows(caller.client.table("stock").select("site_id,item"))
    assert {r["site_id"] for r in stock} == {"cafe-1"} and {r["item"] for r in stock} == {"a milk", "b milk"}
    assert [r["id"] for r in rows(caller.client.table("sites").select("id"))] == ["cafe-1"]
    changes: Any = rows(caller.client.rpc("changes_since", {"since_cursor": None}))
    assert [i["name"] for i in changes["items"]] == ["oat milk"]
    assert {r["item"] for r in changes["stock"]} == {"a milk", "b milk"}


def test_a_device_cannot_write_any_catalogue_or_stock(cloud: Cloud, units: dict[str, Any]) -> None:
    caller = Caller(cloud, units["a"][1].access_token)
    for site in ("cafe-2", "cafe-1"):
        row = {"site_id": site, "name": "gold", "unit": "bar"}
        assert caller.fails(lambda r=row: caller.client.table("items").insert(r).execute()) == (403, "42501")
    stock = {"site_id": "cafe-1", "item": "gold", "location": "safe", "quantity": 5}
    assert caller.fails(lambda: caller.client.table("stock").insert(stock).execute()) == (403, "42501")
    assert rows(caller.client.table("audit_logs").select("*")) == []  # the site's owners read it, no device
    assert cloud.sql("select count(*) from items where name = 'gold'") == [(0,)]


def test_anon_can_do_nothing(cloud: Cloud, units: dict[str, Any]) -> None:
    caller = Caller(cloud, None)  # the publishable key alone
    for table in TABLES:
        assert caller.fails(lambda t=table: caller.client.table(t).select("*").execute()) == (401, "42501")
    event = event_payload(units["a"][0].journal()[0])
    assert caller.fails(lambda: caller.client.table("inventory_events").insert(event).execute()) == (
        401,
        "42501",
    )
    for fn, args in (
        ("ingest_events", {"events": [event]}),
        ("changes_since", {"since_cursor": None}),
        ("custom_access_token_hook", {"event": {"user_id": units["a"][1].device_id, "claims": {}}}),
    ):
        assert caller.fails(lambda f=fn, a=args: caller.client.rpc(f, a).execute()) == (401, "42501")
    # the private schema is not an API at all
    assert caller.fails(lambda: caller.client.rpc("new_code", {}).execute())[0] == 404


def test_forged_and_expired_tokens_are_refused(cloud: Cloud, units: dict[str, Any]) -> None:
    claims = jwt.decode(units["a"][1].access_token, options={"verify_signature": False})
    forged = jwt.encode(
        {**claims, "device_id": units["b"][1].device_id}, "not the secret" * 3, algorithm="HS256"
    )
    service = jwt.encode({"role": "service_role", "exp": claims["exp"]}, "guess" * 8, algorithm="HS256")
    expired = jwt.encode({**claims, "exp": int(claims["iat"]) - 31}, cloud.api.secret, algorithm="HS256")
    for token, code in (
        (forged, "PGRST301"),
        (service, "PGRST301"),
        (expired, "PGRST303"),
        ("junk", "PGRST301"),
    ):
        caller = Caller(cloud, token)
        assert caller.fails(lambda c=caller: c.client.table("inventory_events").select("*").execute()) == (
            401,
            code,
        )
    # within PostgREST's 30 s clock skew a just-expired token still works
    fresh = jwt.encode({**claims, "exp": int(time.time()) - 5}, cloud.api.secret, algorithm="HS256")
    assert rows(Caller(cloud, fresh).client.table("sites").select("id")) == [{"id": "cafe-1"}]


def test_a_user_token_without_device_claims_gets_nothing(cloud: Cloud, units: dict[str, Any]) -> None:
    caller = Caller(cloud, cloud.api.sign({"role": "authenticated", "sub": "someone"}))
    for table in ("items", "stock", "inventory_events", "devices"):
        assert rows(caller.client.table(table).select("*")) == []
    assert caller.fails(lambda: caller.client.rpc("ingest_events", {"events": []}).execute()) == (
        403,
        "42501",
    )


def test_the_journal_is_append_only_even_for_the_owner(cloud: Cloud, units: dict[str, Any]) -> None:
    event_id = units["a"][0].journal()[0].id
    for statement in (
        "update inventory_events set item = 'x' where id = %s",
        "delete from inventory_events where id = %s",
    ):
        with pytest.raises(Exception, match="append-only"):
            cloud.sql(statement, (event_id,))
