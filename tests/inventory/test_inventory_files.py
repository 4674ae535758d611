"""Opening real store files: damaged, foreign and newer files, and migrating an older schema with a backup."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from device.errors import StoreError
from device.intent.command import Action, Command
from device.inventory.migrations import SCHEMA_VERSION, Database, migrate
from device.inventory.records import Delta
from device.inventory.store import Store

OLD_ID = "0190e0a0-0000-7000-8000-000000000001"
FIXED = datetime(2026, 11, 25, 18, 30, 5, tzinfo=UTC)


def fixed_clock() -> datetime:
    return FIXED


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def filled_store(path: Path, events: int = 200) -> None:
    with Store.open(path, device_id="unit-a") as store:
        for n in range(events):
            store.record(
                command=Command(Action.ADD, "oat milk", 1, text=f"add one oat milk number {n} " + "x" * 100),
                deltas=[Delta("oat milk", "walk-in", 1)],
                confirmation="implicit",
                outcome="applied",
            )


def assert_fresh_store_opens(path: Path) -> None:
    with Store.open(path) as fresh:
        assert fresh.journal() == [] and fresh.integrity() == "ok"


def test_garbage_file_is_moved_aside_and_the_next_start_works(tmp_path: Path) -> None:
    path = tmp_path / "larder.db"
    garbage = os.urandom(8192)
    path.write_bytes(garbage)
    (tmp_path / "larder.db-wal").write_bytes(b"stale wal")
    with pytest.raises(StoreError) as caught:
        Store.open(path, clock=fixed_clock)
    aside = tmp_path / "larder.db.corrupt-20261125T183005Z"
    message = str(caught.value)
    assert "damaged" in message and str(aside) in message and "fresh store on the next run" in message
    assert caught.value.code == "store"
    assert aside.read_bytes() == garbage
    # no old WAL is left for the fresh store to replay (SQLite may drop an invalid one itself)
    assert not path.exists() and not (tmp_path / "larder.db-wal").exists()
    assert_fresh_store_opens(path)


def test_truncated_store_is_moved_aside(tmp_path: Path) -> None:
    path = tmp_path / "larder.db"
    filled_store(path)
    size = path.stat().st_size
    with path.open("r+b") as handle:
        handle.truncate(size // 2)
    with pytest.raises(StoreError, match="moved aside"):
        Store.open(path, clock=fixed_clock)
    assert (tmp_path / "larder.db.corrupt-20261125T183005Z").stat().st_size == size // 2
    assert_fresh_store_opens(path)


def damage_a_table_page(path: Path) -> None:
    """Point the first cell of a table leaf page at its second cell: SQLite still reads the file."""
    data = bytearray(path.read_bytes())
    page = 4096
    for start in range(page, len(data), page):
        cells = int.from_bytes(data[start + 3 : start + 5], "big")
        if data[start] == 0x0D and cells >= 2:
            data[start + 8 : start + 10] = data[start + 10 : start + 12]
            path.write_bytes(bytes(data))
            return
    raise AssertionError("no table leaf page found")


def test_a_failed_quick_check_moves_the_file_aside(tmp_path: Path) -> None:
    path = tmp_path / "larder.db"
    filled_store(path)
    damage_a_table_page(path)
    with pytest.raises(StoreError) as caught:
        Store.open(path, clock=fixed_clock)
    assert "out of order" in str(caught.value) or "Multiple uses" in str(caught.value)
    assert "\n" not in caught.value.message and "***" not in caught.value.message
    assert not path.exists() and (tmp_path / "larder.db.corrupt-20261125T183005Z").exists()
    assert_fresh_store_opens(path)


def test_a_second_damaged_file_in_the_same_second_keeps_the_first(tmp_path: Path) -> None:
    path = tmp_path / "larder.db"
    for content in (b"first garbage" * 100, b"second garbage" * 100):
        path.write_bytes(content)
        with pytest.raises(StoreError):
            Store.open(path, clock=fixed_clock)
    assert (tmp_path / "larder.db.corrupt-20261125T183005Z").read_bytes().startswith(b"first")
    assert (tmp_path / "larder.db.corrupt-20261125T183005Z-2").read_bytes().startswith(b"second")


def test_a_foreign_sqlite_file_is_moved_aside(tmp_path: Path) -> None:
    path = tmp_path / "larder.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE recipes (name TEXT)")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="not a Larder store"):
        Store.open(path, clock=fixed_clock)
    assert_fresh_store_opens(path)


def test_a_newer_schema_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "larder.db"
    filled_store(path, events=3)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    before = digest(path)
    for _ in range(2):  # the same answer every start, and nothing moved or changed
        with pytest.raises(StoreError) as caught:
            Store.open(path)
        assert f"written by a newer Larder (schema 99, this one knows {SCHEMA_VERSION})" in str(caught.value)
        assert str(path) in str(caught.value)
    assert digest(path) == before
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(("-wal", "-shm"))) == [
        "larder.db"
    ]


def test_an_unreadable_folder_is_a_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("file")
    with pytest.raises(StoreError, match="cannot open the store"):
        Store.open(blocker / "larder.db")


def make_v1(path: Path) -> None:
    """A store written by the first schema: running only the first migration, then v1-era rows."""
    db = Database(sqlite3.connect(path))
    migrate(db, path, target=1)
    with db.atomic():
        db.execute("INSERT INTO meta (key, value) VALUES ('device_id', 'old-unit')")
        db.execute(
            "INSERT INTO events "
            "(id, device_id, at, action, item, quantity, unit, location, transcript, resolver) "
            "VALUES (?, 'old-unit', '2026-01-01T00:00:00.000Z', 'add', 'oat milk', 2, 'case', 'walk-in', "
            "'add two cases of oat milk', 'grammar')",
            [OLD_ID],
        )
        db.execute(
            "INSERT INTO deltas (event_id, seq, item, location, quantity) "
            "VALUES (?, 0, 'oat milk', 'walk-in', 24)",
            [OLD_ID],
        )
        db.execute(
            "INSERT INTO stock (item, location, quantity, unit) VALUES ('oat milk', 'walk-in', 24, 'carton')"
        )
    db.close()


def test_migrating_a_v1_store_keeps_everything_and_backs_it_up(tmp_path: Path) -> None:
    path = tmp_path / "larder.db"
    make_v1(path)
    v1_digest = digest(path)
    with Store.open(path) as store:
        assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert store.device_id == "old-unit"
        [event] = store.journal()
        assert (event.item, event.quantity, event.unit, event.transcript) == (
            "oat milk",
            2,
            "case",
            "add two cases of oat milk",
        )
        assert (event.confirmation, event.outcome, event.synced) == ("implicit", "applied", False)
        assert event.deltas == (Delta("oat milk", "walk-in", 24),)
        assert store.quantity("oat milk") == 24
        assert store.last_change() == event
        assert [e.id for e in store.unsynced(10)] == [event.id]
        store.set_state("cursor", 1)
        store.quarantine(event.id, "test")
    backup = tmp_path / "larder.db.bak-v1"
    assert digest(path) != v1_digest
    old = sqlite3.connect(backup)
    assert old.execute("PRAGMA user_version").fetchone()[0] == 1
    assert old.execute("SELECT count(*) FROM events").fetchone()[0] == 1
    assert old.execute("SELECT quantity FROM stock").fetchone()[0] == 24
    assert old.execute("SELECT value FROM meta WHERE key = 'device_id'").fetchone()[0] == "old-unit"
    old.close()


def test_a_fresh_store_needs_no_backup(tmp_path: Path) -> None:
    with Store.open(tmp_path / "larder.db"):
        pass
    assert not list(tmp_path.glob("*.bak-*"))


def test_a_failed_migration_leaves_the_last_good_version(tmp_path: Path) -> None:
    path = tmp_path / "larder.db"
    make_v1(path)
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE quarantine (x)")  # the second migration will collide with it
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="cannot open the store"):
        Store.open(path)
    assert path.exists() and (tmp_path / "larder.db.bak-v1").exists()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    columns = [row[1] for row in conn.execute("PRAGMA table_info(events)")]
    assert "outcome" not in columns
    conn.close()


def test_skipping_the_check_still_lets_integrity_report_damage(tmp_path: Path) -> None:
    path = tmp_path / "larder.db"
    filled_store(path)
    damage_a_table_page(path)
    with Store.open(path, check=False) as store:
        problem = store.integrity()
    assert problem != "ok" and ("out of order" in problem or "Multiple uses" in problem)
    assert path.exists()
