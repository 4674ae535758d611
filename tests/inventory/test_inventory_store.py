"""The store on real SQLite files: durability, one-transaction records, the journal, sync queue, state."""

from __future__ import annotations

import sqlite3
import uuid
from datetime import date
from pathlib import Path

import pytest

from device.errors import CatalogError, StoreError
from device.intent.command import Action, Command, Resolver
from device.inventory.catalog import Catalogue, demo_catalogue, parse_csv
from device.inventory.records import Delta
from device.inventory.store import Store

from .conftest import Clock

ADD = Command(Action.ADD, "oat milk", 3, "carton", "walk-in", text="add three oat milk")


def add(
    store: Store,
    quantity: float = 3,
    location: str = "walk-in",
    expires: date | None = None,
    reverses: str | None = None,
) -> str:
    command = ADD.with_(quantity=quantity, location=location)
    delta = Delta("oat milk", location, quantity, expires)
    event = store.record(
        command=command, deltas=[delta], confirmation="implicit", outcome="applied", reverses=reverses
    )
    return event.id


def test_durability_settings(store: Store) -> None:
    pragma = lambda name: store.db.execute(f"PRAGMA {name}").fetchone()[0]  # noqa: E731
    assert pragma("journal_mode") == "wal"
    assert pragma("synchronous") == 2  # FULL
    assert pragma("busy_timeout") == 5000
    assert pragma("foreign_keys") == 1
    assert store.integrity() == "ok"


def test_device_id_is_made_once_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "larder.db"
    with Store.open(path) as first:
        made = first.device_id
    assert str(uuid.UUID(made)) == made
    with Store.open(path) as again:
        assert again.device_id == made
    with Store.open(path, device_id="from-settings") as given:
        assert given.device_id == "from-settings"
    with Store.open(path) as later:
        assert later.device_id == made


def test_record_writes_the_event_and_its_stock_change(store: Store) -> None:
    event = store.record(
        command=ADD.with_(resolver=Resolver.LLM),
        deltas=[Delta("oat milk", "walk-in", 3)],
        confirmation="explicit",
        outcome="applied",
    )
    assert uuid.UUID(event.id).version == 7
    assert event.at == "2026-11-25T18:30:01.000Z"
    assert (event.action, event.item, event.quantity, event.unit) == ("add", "oat milk", 3, "carton")
    assert (event.location, event.transcript, event.resolver) == ("walk-in", "add three oat milk", "llm")
    assert (event.confirmation, event.outcome, event.synced, event.device_id) == (
        "explicit",
        "applied",
        False,
        "unit-a",
    )
    assert store.journal() == [event]
    assert store.quantity("oat milk") == 3
    assert store.quantity("Oat Milk", "walk-in") == 3
    assert store.quantity("oat milk", "bar") == 0


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_a_failing_delta_leaves_neither_event_nor_stock(store: Store, bad: float) -> None:
    add(store, 5)
    before = (store.journal(), store.stock())
    with pytest.raises(StoreError, match="could not record add"):
        store.record(
            command=ADD,
            deltas=[Delta("oat milk", "walk-in", 2), Delta("butter", "walk-in", bad)],
            confirmation="implicit",
            outcome="applied",
        )
    assert (store.journal(), store.stock()) == before
    assert store.quantity("oat milk") == 5


def test_an_undo_of_a_missing_event_is_rolled_back(store: Store) -> None:
    with pytest.raises(StoreError):
        add(store, 2, reverses="no-such-event")
    assert store.journal() == [] and store.stock() == []


def test_the_journal_is_append_only(store: Store) -> None:
    event_id = add(store)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        store.db.execute("UPDATE events SET item = 'butter' WHERE id = ?", [event_id])
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        store.db.execute("DELETE FROM events")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        store.db.execute("UPDATE deltas SET quantity = 100")
    store.db.rollback()
    assert store.journal()[0].item == "oat milk"


def test_record_checks_its_labels(store: Store) -> None:
    with pytest.raises(StoreError, match="confirmation"):
        store.record(command=ADD, deltas=[], confirmation="maybe", outcome="applied")
    with pytest.raises(StoreError, match="outcome"):
        store.record(command=ADD, deltas=[], confirmation="none", outcome="done")
    with pytest.raises(StoreError, match="cannot change stock"):
        store.record(
            command=ADD, deltas=[Delta("oat milk", "walk-in", 1)], confirmation="none", outcome="refused"
        )
    assert store.journal() == []


def test_lots_are_kept_per_expiry(store: Store) -> None:
    add(store, 4, expires=date(2026, 11, 28))
    add(store, 2, expires=date(2026, 11, 27))
    add(store, 5)
    add(store, 3, location="bar", expires=date(2026, 11, 26))
    add(store, 1, expires=date(2026, 11, 27))
    assert store.lots("oat milk") == [
        Delta("oat milk", "bar", 3, date(2026, 11, 26)),
        Delta("oat milk", "walk-in", 3, date(2026, 11, 27)),
        Delta("oat milk", "walk-in", 4, date(2026, 11, 28)),
        Delta("oat milk", "walk-in", 5, None),
    ]
    rows = {(r.location, r.quantity, r.unit, r.expires) for r in store.stock()}
    assert rows == {("bar", 3, "carton", date(2026, 11, 26)), ("walk-in", 12, "carton", date(2026, 11, 27))}
    assert store.expiring(date(2026, 11, 27)) == store.lots("oat milk")[:2]


def test_a_lot_that_reaches_zero_is_removed_and_negatives_are_kept(store: Store) -> None:
    add(store, 2)
    add(store, -2)
    assert store.stock() == [] and store.lots("oat milk", signed=True) == []
    add(store, -3)
    assert store.quantity("oat milk") == -3
    assert store.lots("oat milk") == []
    assert store.lots("oat milk", signed=True) == [Delta("oat milk", "walk-in", -3, None)]


def test_journal_limit_gives_the_latest_oldest_first(store: Store) -> None:
    ids = [add(store, n) for n in range(1, 6)]
    assert [e.id for e in store.journal()] == ids == sorted(ids)
    assert [e.id for e in store.journal(limit=2)] == ids[-2:]
    assert store.event(ids[1]) is not None and store.event("nope") is None


def test_last_change_is_this_devices_latest_change_not_undone(store: Store, db_path: Path) -> None:
    first = add(store, 1)
    second = add(store, 2)
    store.record(command=ADD, deltas=[], confirmation="none", outcome="refused")
    with Store.open(db_path, device_id="unit-b") as other:
        add(other, 7)
    last = store.last_change()
    assert last is not None and last.id == second
    undo = Command(Action.UNDO, "oat milk", text="undo")
    store.record(
        command=undo,
        deltas=[Delta("oat milk", "walk-in", -2)],
        confirmation="implicit",
        outcome="applied",
        reverses=second,
    )
    last = store.last_change()
    assert last is not None and last.id == first
    with pytest.raises(StoreError):  # one event can be undone only once
        store.record(command=undo, deltas=[], confirmation="implicit", outcome="applied", reverses=second)


def test_sync_queue_and_quarantine(store: Store) -> None:
    ids = [add(store, n) for n in range(1, 6)]
    assert store.backlog() == 5
    assert [e.id for e in store.unsynced(2)] == ids[:2]
    store.mark_synced(ids[:2])
    assert [e.id for e in store.unsynced(10)] == ids[2:]
    assert all(e.synced for e in store.journal()[:2])
    store.quarantine(ids[2], "rejected: bad item")
    assert [e.id for e in store.unsynced(10)] == ids[3:]
    assert store.backlog() == 2
    [(event, reason)] = store.quarantined()
    assert event.id == ids[2] and reason == "rejected: bad item"
    store.quarantine(ids[2], "rejected again")
    assert store.quarantined()[0][1] == "rejected again"
    with pytest.raises(StoreError, match="no journal event"):
        store.quarantine("missing", "why")
    store.release(ids[2])
    assert [e.id for e in store.unsynced(10)] == ids[2:]
    store.mark_synced([])
    store.mark_synced(ids)
    assert store.backlog() == 0 and store.unsynced(10) == []


def test_mark_synced_handles_large_batches(store: Store) -> None:
    ids = [add(store, 1) for _ in range(520)]
    store.mark_synced(ids)
    assert store.backlog() == 0
    assert len(store.journal()) == 520


def test_state_survives_a_restart(store: Store, db_path: Path, catalogue: Catalogue) -> None:
    assert store.get_state("pending") is None
    store.set_state("pending", {"action": "out", "deadline": 12.5, "items": ["a", "b"]})
    store.set_state("cursor", 42)
    store.close()
    with Store.open(db_path) as again:
        assert again.get_state("pending") == {"action": "out", "deadline": 12.5, "items": ["a", "b"]}
        assert again.get_state("cursor") == 42
        again.set_state("pending", None)
        assert again.get_state("pending") is None
        with pytest.raises(StoreError, match="cannot keep 'bad'"):
            again.set_state("bad", {1, 2})


def test_demo_catalogue_until_one_is_imported(tmp_path: Path, catalogue: Catalogue) -> None:
    with Store.open(tmp_path / "larder.db") as store:
        assert store.catalogue() == demo_catalogue()
        store.replace_catalogue(catalogue)
        assert store.catalogue() == catalogue
        assert store.catalogue()["eggs"].packs == {"dozen": 12, "tray": 30}
    with Store.open(tmp_path / "larder.db") as again:
        assert again.catalogue() == catalogue


def test_another_process_importing_is_seen(store: Store, db_path: Path) -> None:
    assert store.catalogue().get("kale") is None
    with Store.open(db_path) as other:
        other.replace_catalogue(parse_csv("name,aliases,unit,location,par\nkale,,bunch,walk-in,3\n"))
    assert store.catalogue().names == ("kale",)


def test_replacing_the_catalogue_keeps_stock(store: Store) -> None:
    add(store, 4)
    store.replace_catalogue(parse_csv("name,aliases,unit,location,par\nkale,,bunch,walk-in,3\n"))
    assert store.quantity("oat milk") == 4
    assert [(r.item, r.unit) for r in store.stock()] == [("oat milk", "carton")]
    assert store.locations() == ("walk-in",)
    with pytest.raises(CatalogError):
        store.replace_catalogue(Catalogue(items=(), locations=()))
    assert store.catalogue().names == ("kale",)


def test_locations_include_places_only_stock_knows(store: Store) -> None:
    add(store, 1, location="cellar")
    assert store.locations() == ("walk-in", "dry store", "bar", "cellar")


def test_secrets_never_reach_the_journal(db_path: Path) -> None:
    with Store.open(db_path, redact=["sk-secret-123", ""], clock=Clock()) as store:
        event = store.record(
            command=ADD.with_(text="add oat milk sk-secret-123"),
            deltas=[],
            confirmation="none",
            outcome="refused",
        )
    assert event.transcript == "add oat milk [redacted]"
    assert b"sk-secret-123" not in db_path.read_bytes()
