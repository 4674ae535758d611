"""A rollback's store: the backup taken before an upgrade, plus every event the newer Larder journalled since.

Real store files: a store is copied (SQLite's backup API, as the installer does), the copy goes on being written
and is then given a schema this Larder does not know; its events are carried back into the backup.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from device.errors import StoreError
from device.intent.command import Action, Command
from device.inventory.journal import read_journal
from device.inventory.migrations import SCHEMA_VERSION, stored_version
from device.inventory.records import Delta
from device.inventory.store import Store


def add(store: Store, item: str, quantity: float, location: str = "walk-in") -> str:
    event = store.record(
        command=Command(Action.ADD, item, quantity, text=f"add {quantity} {item}"),
        deltas=[Delta(item, location, quantity)],
        confirmation="implicit",
        outcome="applied",
    )
    return event.id


def copy(source: Path, dest: Path) -> None:
    src = sqlite3.connect(source)
    target = sqlite3.connect(dest)
    src.backup(target)
    target.close()
    src.close()


def newer_schema(path: Path) -> None:
    """What a later Larder's migration could do: a new column and table, a higher schema version."""
    conn = sqlite3.connect(path)
    conn.execute("ALTER TABLE events ADD COLUMN shift TEXT")
    conn.execute("CREATE TABLE later (x INTEGER)")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()


def stock(store: Store) -> list[tuple[str, str, float]]:
    return sorted((row.item, row.location, row.quantity) for row in store.stock())


@pytest.fixture
def upgraded(tmp_path: Path) -> tuple[Path, Path, list[str]]:
    """(backup before the upgrade, the store the newer Larder kept writing, ids of the events it wrote)."""
    live = tmp_path / "larder.db"
    with Store.open(live, device_id="unit-a") as store:
        add(store, "oat milk", 3)
        add(store, "eggs", 30)
    backup = tmp_path / "backup.db"
    copy(live, backup)
    with Store.open(live) as store:
        later = [add(store, "oat milk", 2), add(store, "butter", 4, "fridge")]
        store.mark_synced([later[0]])
        used = store.record(
            command=Command(Action.USE, "eggs", 6, text="use six eggs"),
            deltas=[Delta("eggs", "walk-in", -6)],
            confirmation="implicit",
            outcome="applied",
        )
        store.record(
            command=Command(Action.UNDO, text="undo"),
            deltas=[Delta("eggs", "walk-in", 6)],
            confirmation="implicit",
            outcome="applied",
            reverses=used.id,
        )
        later += [used.id, store.journal()[-1].id]
    newer_schema(live)
    return backup, live, later


def test_the_events_journalled_since_the_backup_come_back_with_their_stock(
    upgraded: tuple[Path, Path, list[str]],
) -> None:
    backup, live, later = upgraded
    with pytest.raises(StoreError, match="written by a newer Larder"):
        Store.open(live)  # this Larder never opens it as a store
    before = hashlib.sha256(live.read_bytes()).hexdigest()
    events = read_journal(live)
    assert [e.id for e in events][-4:] == later
    with Store.open(backup) as restored:
        assert restored.adopt(events) == 4
        assert restored.adopt(events) == 0  # a second run adds nothing
        journal = restored.journal()
        assert [e.id for e in journal] == [e.id for e in events]
        assert journal == events  # times, outcomes, undo links, deltas and synced flags as they were
        assert stock(restored) == [
            ("butter", "fridge", 4),
            ("eggs", "walk-in", 30),
            ("oat milk", "walk-in", 5),
        ]
        assert restored.integrity() == "ok"
    assert hashlib.sha256(live.read_bytes()).hexdigest() == before  # read, never written
    assert stored_version(live) == SCHEMA_VERSION + 1 and stored_version(backup) == SCHEMA_VERSION


def test_a_journal_this_version_cannot_read_is_refused_plainly(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE events (id TEXT PRIMARY KEY, happened TEXT)")
    conn.execute("PRAGMA user_version = 9")
    conn.close()
    with pytest.raises(StoreError) as caught:
        read_journal(path)
    assert "cannot read the journal" in caught.value.message and caught.value.hint
    with pytest.raises(StoreError, match="there is no store file"):
        read_journal(tmp_path / "absent.db")


def test_migrate_and_merge_journal_from_the_command_line(
    upgraded: tuple[Path, Path, list[str]], tmp_path: Path
) -> None:
    backup, live, later = upgraded
    data = tmp_path / "data"
    data.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LARDER_")}
    env |= {"LARDER_DATA_DIR": str(data), "LARDER_ENV_FILE": str(tmp_path / "absent.env")}

    def larder(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "device", *args], capture_output=True, text=True, env=env, timeout=120
        )

    copy(backup, data / "larder.db")
    migrated = larder("migrate")
    assert migrated.returncode == 0 and f"schema {SCHEMA_VERSION}, nothing to migrate" in migrated.stdout
    merged = larder("merge-journal", str(live))
    assert merged.returncode == 0, merged.stderr
    assert merged.stdout.startswith(f"added 4 of {len(read_journal(live))} journal events")
    with Store.open(data / "larder.db") as store:
        assert [e.id for e in store.journal()][-4:] == later
    copy(live, data / "larder.db")  # a store newer than this Larder: refused, with the way back named
    newer = larder("migrate")
    assert (
        newer.returncode == 3 and "written by a newer Larder" in newer.stderr and "--rollback" in newer.stderr
    )
    assert "Traceback" not in newer.stderr
