"""`larder sync status` / `larder doctor` facts, and putting quarantined events back in the queue."""

from __future__ import annotations

from pathlib import Path

from cloud_sync.status import describe, release_quarantine, sync_status
from cloud_sync.worker import sync_now
from device.intent.command import Action, Command
from device.inventory.records import Delta
from device.inventory.store import Store
from tests.cloud_sync.helpers import Cloud, record_adds


def test_status_of_a_fresh_unit(tmp_path: Path) -> None:
    with Store.open(tmp_path / "larder.db") as store:
        record_adds(store, 3)
        status = sync_status(store)
        assert status["backlog"] == 3 and status["quarantined"] == 0 and status["cursor"] is None
        assert status["last_success"] is None and status["identity"] is None
        assert describe(status) == ["this unit is not provisioned for cloud sync"]


def test_status_after_sync_reports_cursor_identity_and_quarantine(cloud: Cloud, tmp_path: Path) -> None:
    store, settings = cloud.provisioned_store(tmp_path)
    record_adds(store, 4)
    bad = store.record(
        command=Command(Action.ADD, item="caviar", quantity=1),
        deltas=[Delta("caviar", "", 1.0)],  # a lot with no place
        confirmation="implicit",
        outcome="applied",
    )
    sync_now(store, settings)
    status = sync_status(store)
    assert status["backlog"] == 0 and status["last_success"] and status["cursor"]
    assert status["identity"]["device_id"] == store.device_id and status["identity"]["site_id"] == "cafe-1"
    assert status["quarantined"] == 1 and status["quarantine"][0]["id"] == bad.id
    assert "location must be a name" in status["quarantine"][0]["reason"]
    [line] = describe(status)
    assert "1 event(s) were rejected by the cloud" in line and "caviar" in line
    # released after the cause is fixed server-side... here it is still bad, so it comes straight back
    assert release_quarantine(store) == 1 and store.backlog() == 1
    sync_now(store, settings)
    assert sync_status(store)["quarantined"] == 1 and store.backlog() == 0


def test_missing_postgres_binaries_are_named_plainly(tmp_path: Path) -> None:
    import pytest

    from tests.pg import PostgresServer, PostgresUnavailable

    with pytest.raises(PostgresUnavailable, match="apt-get install postgresql"):
        PostgresServer(bin_dir=tmp_path)
