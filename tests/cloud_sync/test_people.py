"""People in the back office, through supabase-py, the gateway stand-in and the real migrations: the row-level
security matrix for owner, manager, staff, an outsider (owner of another site), a signed-in person of no site,
anon, and devices, on every table, view and function."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from cloud_sync.worker import sync_now
from device import __version__
from device.intent.command import Action, Command
from device.inventory.records import Delta
from device.inventory.store import Store
from tests.cloud_sync.helpers import Caller, Cloud, Person, local_stock, record_adds, rows, session_of

# relation -> the column naming its site
READABLE = {
    "sites": "id",
    "devices": "site_id",
    "items": "site_id",
    "locations": "site_id",
    "stock": "site_id",
    "inventory_events": "site_id",
    "site_members": "site_id",
    "stock_vs_par": "site_id",
    "waste_by_week": "site_id",
    "journal": "site_id",
}
ROLES = ("owner", "manager", "staff", "outsider", "nobody")
# what each person may read: their own site (the outsider owns cafe-2), nothing for a person of no site
SITE_OF = {"owner": "cafe-1", "manager": "cafe-1", "staff": "cafe-1", "outsider": "cafe-2", "nobody": None}
EDITORS = {"owner", "manager"}


@dataclass
class Office:
    cloud: Cloud
    people: dict[str, Person]
    units: dict[str, tuple[Store, Any]]  # name -> (store, settings)

    def api(self, who: str) -> Caller:
        return self.people[who].api


def journal_waste(store: Store, item: str, quantity: float) -> None:
    store.record(
        command=Command(Action.WASTE, item=item, quantity=quantity),
        deltas=[Delta(item, "walk-in", -quantity)],
        confirmation="implicit",
        outcome="applied",
    )


@pytest.fixture
def office(cloud: Cloud, tmp_path: Path) -> Office:
    """Unit A at cafe-1 and unit C at cafe-2 with uploaded journals (adds, an expiring lot, a waste); catalogues
    at both; the people of cafe-1, cafe-2's owner, and a person of no site."""
    units = {}
    for name, site, item in (("a", "cafe-1", "oat milk"), ("c", "cafe-2", "rye")):
        store, settings = cloud.provisioned_store(tmp_path / name, site=site)
        record_adds(store, 4, items=(item,))
        journal_waste(store, item, 1.0)
        cloud.put_catalogue(site, [{"name": item, "unit": "carton", "par": 50}])
        cloud.sql("insert into locations (site_id, name) values (%s, 'walk-in')", (site,))
        sync_now(store, settings)
        units[name] = (store, settings)
    people = {role: cloud.person(f"{role}@cafe-1.test", site="cafe-1", role=role) for role in ROLES[:3]}
    people["outsider"] = cloud.person("owner@cafe-2.test", site="cafe-2", role="owner")
    people["nobody"] = cloud.person("nobody@example.test")
    return Office(cloud, people, units)


@pytest.mark.parametrize("who", ROLES)
def test_a_person_reads_their_own_site_and_nothing_else(office: Office, who: str) -> None:
    api = office.api(who)
    for relation, column in READABLE.items():
        seen = {r[column] for r in rows(api.client.table(relation).select(column))}
        expected = {SITE_OF[who]} - {None}
        assert seen == expected, f"{who} reading {relation}"
    lots = rows(api.client.rpc("expiring_lots", {"days": 3650}))
    assert {r["site_id"] for r in lots} == {SITE_OF[who]} - {None}
    audit = {r["site_id"] for r in rows(api.client.table("audit_logs").select("site_id"))}
    assert audit == ({SITE_OF[who]} if who in ("owner", "outsider") else set()), "only owners read the audit"


def test_anon_gets_nothing_anywhere(office: Office) -> None:
    anon = Caller(office.cloud, None)
    for relation in [*READABLE, "audit_logs"]:
        assert anon.fails(lambda r=relation: anon.client.table(r).select("*").execute()) == (401, "42501")
    for fn, args in FUNCTIONS.items():
        assert anon.fails(lambda f=fn, a=args: anon.client.rpc(f, a).execute()) == (401, "42501"), fn


def test_a_device_reads_no_people_and_only_its_own_journal(office: Office) -> None:
    store, settings = office.units["a"]
    device = Caller(office.cloud, session_of(settings.data_dir).access_token)
    assert rows(device.client.table("site_members").select("*")) == []
    assert rows(device.client.table("audit_logs").select("*")) == []
    journal = rows(device.client.table("journal").select("id,device_id,device_name"))
    assert {r["id"] for r in journal} == {e.id for e in store.journal()}
    assert {r["site_id"] for r in rows(device.client.table("stock_vs_par").select("site_id"))} == {"cafe-1"}
    for fn, args in FUNCTIONS.items():
        if fn in ("ingest_events", "changes_since", "expiring_lots"):  # a unit's own calls
            device.client.rpc(fn, args).execute()
        else:
            assert device.fails(lambda f=fn, a=args: device.client.rpc(f, a).execute()) == (403, "42501"), fn
    for table, row in (
        ("items", {"site_id": "cafe-1", "name": "gold", "unit": "bar"}),
        ("locations", {"site_id": "cafe-1", "name": "safe"}),
    ):
        assert device.fails(lambda t=table, r=row: device.client.table(t).insert(r).execute()) == (
            403,
            "42501",
        )
    assert rows(device.client.table("items").update({"par": 1}).eq("site_id", "cafe-1")) == []
    assert_no_direct_writes(device, None)
    assert office.cloud.sql("select count(*) from stock where item = 'gold'") == [(0,)]


FUNCTIONS: dict[str, dict[str, Any]] = {
    "record_count": {"p_site": "cafe-1", "p_item": "oat milk", "p_location": "walk-in", "p_quantity": 7},
    "create_invite": {"p_site": "cafe-1", "p_role": "staff"},
    "create_provisioning_code": {"p_site": "cafe-1", "p_device_name": "bar unit"},
    "revoke_device": {"p_device_id": "x"},
    "accept_invite": {"p_code": "AAAA-BBBB"},
    "ingest_events": {"events": []},
    "changes_since": {"since_cursor": None},
    "expiring_lots": {"days": 3},
    "redeem_provisioning_code": {"p_code": "x", "p_device_id": "x", "p_user_id": None},
    "release_provisioning_code": {"p_code": "x", "p_device_id": "x", "p_user_id": None},
    "custom_access_token_hook": {"event": {"user_id": None, "claims": {}}},
}


def assert_no_direct_writes(api: Caller, user_id: str | None) -> None:
    """Nobody writes stock, devices, sites, members or the audit trail directly, nor edits or forges events."""
    lot = {"site_id": "cafe-1", "item": "gold", "location": "safe", "quantity": 5}
    event = {
        "id": "01900000-0000-7000-8000-000000000001",
        "site_id": "cafe-1",
        "user_id": user_id,
        "at": "2026-01-01T00:00:00Z",
        "action": "add",
        "resolver": "manual",
        "confirmation": "none",
        "outcome": "applied",
        "deltas": [{"item": "gold", "location": "safe", "quantity": 100, "expires": None}],
    }
    for call in (
        lambda: api.client.table("stock").insert(lot).execute(),
        lambda: api.client.table("stock").update({"quantity": 1000}).eq("site_id", "cafe-1").execute(),
        lambda: api.client.table("stock").delete().eq("site_id", "cafe-1").execute(),
        lambda: api.client.table("inventory_events").insert(event).execute(),
        lambda: api.client.table("inventory_events").update({"item": "x"}).eq("site_id", "cafe-1").execute(),
        lambda: api.client.table("inventory_events").delete().eq("site_id", "cafe-1").execute(),
        lambda: api.client.table("devices").update({"site_id": "cafe-2"}).eq("site_id", "cafe-1").execute(),
        lambda: api.client.table("sites").insert({"id": "mine"}).execute(),
        lambda: (
            api.client.table("site_members")
            .insert({"site_id": "cafe-1", "user_id": user_id or str(uuid.uuid4()), "role": "owner"})
            .execute()
        ),
        lambda: api.client.table("audit_logs").insert({"action": "forged"}).execute(),
        lambda: api.client.table("audit_logs").delete().eq("site_id", "cafe-1").execute(),
    ):
        assert api.fails(call) == (403, "42501")
    # the views are not updatable (PostgreSQL says so before it looks at privileges: 55000, a 500)
    for view in ("journal", "stock_vs_par", "waste_by_week"):
        assert api.fails(lambda v=view: api.client.table(v).delete().eq("site_id", "cafe-1").execute())[
            1
        ] in (
            "42501",
            "55000",
        )


@pytest.mark.parametrize("who", ROLES)
def test_what_each_person_may_write(office: Office, who: str) -> None:
    api, sql = office.api(who), office.cloud.sql
    may_edit = who in EDITORS
    refused = (403, "42501")
    item = {"site_id": "cafe-1", "name": f"{who} beans", "unit": "bag", "par": 3}
    if may_edit:
        assert rows(api.client.table("items").insert(item))[0]["name"] == item["name"]
    else:
        assert api.fails(lambda: api.client.table("items").insert(item).execute()) == refused
    changed = rows(
        api.client.table("items").update({"par": 99}).eq("site_id", "cafe-1").eq("name", "oat milk")
    )
    assert [r["par"] for r in changed] == ([99] if may_edit else [])
    assert sql("select par from items where name = 'oat milk'") == [(99 if may_edit else 50,)]
    place = {"site_id": "cafe-1", "name": f"{who} shelf"}
    if may_edit:
        assert rows(api.client.table("locations").insert(place))
    else:
        assert api.fails(lambda: api.client.table("locations").insert(place).execute()) == refused
    # nobody edits another site, whatever their role at their own
    for table, row in (
        ("items", {**item, "site_id": "cafe-2"}),
        ("locations", {**place, "site_id": "cafe-2"}),
    ):
        if who != "outsider":
            assert api.fails(lambda t=table, r=row: api.client.table(t).insert(r).execute()) == refused
    updated = rows(api.client.table("items").update({"par": 1}).eq("site_id", "cafe-2"))
    assert len(updated) == (1 if who == "outsider" else 0)  # cafe-2's owner edits cafe-2 only
    assert_no_direct_writes(api, office.people[who].user_id)
    assert sql("select count(*) from stock where item = 'gold'") == [(0,)]


@pytest.mark.parametrize("who", ROLES)
def test_what_each_person_may_call(office: Office, who: str) -> None:
    api, sql = office.api(who), office.cloud.sql
    refused = (403, "42501")
    unit_a = office.units["a"][0].device_id

    def allowed(fn: str, args: dict[str, Any], ok: bool) -> None:
        if ok:
            api.client.rpc(fn, args).execute()
        else:
            assert api.fails(lambda: api.client.rpc(fn, args).execute()) == refused, (who, fn)

    allowed("record_count", FUNCTIONS["record_count"], who in EDITORS)
    allowed("create_invite", FUNCTIONS["create_invite"], who in EDITORS)
    allowed("create_invite", {"p_site": "cafe-1", "p_role": "manager"}, who == "owner")
    allowed("create_invite", {"p_site": "cafe-1", "p_role": "owner"}, who == "owner")
    allowed("create_provisioning_code", FUNCTIONS["create_provisioning_code"], who in EDITORS)
    for fn in ("ingest_events", "changes_since", "custom_access_token_hook"):
        allowed(fn, FUNCTIONS[fn], False)
    for fn in (
        "redeem_provisioning_code",
        "release_provisioning_code",
    ):  # the Edge Function's, service role only
        allowed(fn, FUNCTIONS[fn], False)
    if who not in EDITORS:
        allowed("revoke_device", {"p_device_id": unit_a}, False)
        assert sql("select revoked_at from devices where id = %s", (unit_a,)) == [(None,)]
    # cafe-2 is out of reach even for its neighbour's owner, and vice versa
    other = "cafe-1" if who == "outsider" else "cafe-2"
    allowed("record_count", {**FUNCTIONS["record_count"], "p_site": other, "p_item": "rye"}, False)
    allowed("create_invite", {"p_site": other, "p_role": "staff"}, False)
    allowed("create_provisioning_code", {"p_site": other}, False)


def test_a_count_reaches_the_units_and_the_audit_names_who(office: Office) -> None:
    manager, cloud = office.people["manager"], office.cloud
    store, settings = office.units["a"]

    def undated_lot() -> float:  # the lot counted: oat milk in the walk-in without a date
        return sum(
            d.quantity for d in store.lots("oat milk", location="walk-in", signed=True) if not d.expires
        )

    before = undated_lot()
    answer = rows(manager.api.client.rpc("record_count", FUNCTIONS["record_count"]))
    assert answer["quantity"] == 7 and float(answer["was"]) == before != 7
    sync_now(store, settings)
    assert undated_lot() == 7  # down through the cursor
    lot = "select quantity::float8 from stock where item = 'oat milk' and location = 'walk-in' and expires is null"
    assert cloud.sql(lot) == [(7.0,)]
    [(user, action)] = cloud.sql(
        "select user_id::text, action from inventory_events where user_id is not null"
    )
    assert (user, action) == (manager.user_id, "count")
    owner = office.people["owner"].api
    audit = rows(owner.client.table("audit_logs").select("*").eq("action", "inventory_events.insert"))
    assert [(a["user_id"], a["site_id"]) for a in audit] == [(manager.user_id, "cafe-1")]
    # a later unit event adds to the counted lot: stock stays the sum of events
    record_adds(store, 1, items=("oat milk",))
    sync_now(store, settings)
    assert cloud.stock("cafe-1")[("oat milk", "walk-in")] == local_stock(store)[("oat milk", "walk-in")]
    with pytest.raises(Exception, match="not in the site's catalogue"):
        manager.api.client.rpc("record_count", {**FUNCTIONS["record_count"], "p_item": "unicorn"}).execute()


def test_every_change_by_a_person_is_audited_with_their_id(office: Office) -> None:
    manager, owner = office.people["manager"], office.people["owner"]
    rows(manager.api.client.table("items").update({"par": 12}).eq("site_id", "cafe-1").eq("name", "oat milk"))
    rows(manager.api.client.table("locations").insert({"site_id": "cafe-1", "name": "freezer"}))
    audit = rows(owner.api.client.table("audit_logs").select("*").eq("user_id", manager.user_id))
    by_action = {a["action"]: a for a in audit}
    assert set(by_action) == {
        "site_members.insert",
        "items.update",
        "locations.insert",
    }  # joined, then edited
    assert by_action["items.update"]["detail"]["old"]["par"] == 50
    assert by_action["items.update"]["detail"]["new"]["par"] == 12
    assert all(a["site_id"] == "cafe-1" for a in audit)


def test_members_and_roles(office: Office) -> None:
    owner, staff, outsider = (office.people[k] for k in ("owner", "staff", "outsider"))
    sql = office.cloud.sql
    # staff cannot promote themselves; an outsider cannot touch cafe-1's members
    for api in (staff.api, outsider.api):
        assert (
            rows(api.client.table("site_members").update({"role": "owner"}).eq("user_id", staff.user_id))
            == []
        )
        assert rows(api.client.table("site_members").delete().eq("site_id", "cafe-1")) == []
    assert sql("select role from site_members where user_id = %s", (staff.user_id,)) == [("staff",)]
    # the owner may change roles and remove members, but a site keeps an owner
    changed = rows(
        owner.api.client.table("site_members").update({"role": "manager"}).eq("user_id", staff.user_id)
    )
    assert [r["role"] for r in changed] == ["manager"]
    assert owner.api.fails(
        lambda: owner.api.client.table("site_members").delete().eq("user_id", owner.user_id).execute()
    ) == (403, "42501")
    assert rows(owner.api.client.table("site_members").delete().eq("user_id", staff.user_id))
    assert rows(staff.api.client.table("items").select("*")) == []  # removed: reads nothing any more
    audit = {a["action"] for a in rows(owner.api.client.table("audit_logs").select("action"))}
    assert {"site_members.update", "site_members.delete"} <= audit


def test_views_answer_the_back_offices_questions(office: Office) -> None:
    cloud, owner = office.cloud, office.people["owner"].api
    store, settings = office.units["a"]
    soon = date.today() + timedelta(days=2)
    store.record(
        command=Command(Action.ADD, item="oat milk", quantity=2),
        deltas=[
            Delta("oat milk", "fridge", 2.0, soon),
            Delta("oat milk", "shelf", 1.0, soon + timedelta(days=30)),
        ],
        confirmation="implicit",
        outcome="applied",
    )
    journal_waste(store, "oat milk", 2.0)
    sync_now(store, settings)
    [par] = rows(owner.client.table("stock_vs_par").select("*"))
    assert par["item"] == "oat milk" and float(par["on_hand"]) == sum(
        q for (i, _), q in cloud.stock("cafe-1").items() if i == "oat milk"
    )
    assert par["low"] is True  # far below the par of 50
    cloud.sql("update items set par = 1 where name = 'oat milk'")
    assert rows(owner.client.table("stock_vs_par").select("low"))[0]["low"] is False
    lots = rows(owner.client.rpc("expiring_lots", {"days": 3}))
    assert [(r["location"], r["expires"], r["days_left"]) for r in lots] == [("fridge", soon.isoformat(), 2)]
    waste = rows(owner.client.table("waste_by_week").select("*"))
    assert [(w["item"], float(w["wasted"]), w["events"]) for w in waste] == [("oat milk", 3.0, 2)]
    journal = rows(owner.client.table("journal").select("device_id,device_name,app_version"))
    assert {(j["device_id"], j["device_name"], j["app_version"]) for j in journal} == {
        (store.device_id, "cafe-1 unit", __version__)
    }
