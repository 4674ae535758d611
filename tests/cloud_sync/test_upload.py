"""The upload worker against the Supabase stand-in over a real PostgreSQL, with supabase-py as the client."""

from __future__ import annotations

import asyncio
import json
import random
from dataclasses import replace
from pathlib import Path

import pytest

from cloud_sync.errors import CredentialsRefused, NotProvisioned, RemoteUnavailable
from cloud_sync.identity import credentials_path, save_session
from cloud_sync.remote import Session
from cloud_sync.status import sync_status
from cloud_sync.worker import SyncWorker, backoff_delay, event_payload, sync_now
from device.intent.command import Action, Command
from device.inventory.records import Delta
from device.inventory.store import Store
from tests.cloud_sync.helpers import Cloud, local_stock, record_adds, session_of


def test_backlog_drains_in_order_and_server_stock_matches(cloud: Cloud, tmp_path: Path) -> None:
    store, settings = cloud.provisioned_store(tmp_path)
    record_adds(store, 230)
    report = sync_now(store, settings)
    assert report["uploaded"] == 230 and report["backlog"] == 0
    assert set(cloud.events(store.device_id)) == {e.id for e in store.journal()}
    assert all(e.synced for e in store.journal())
    assert cloud.stock("cafe-1") == local_stock(store)
    # events arrived in journal order: the server's receive order follows the unit's ids (UUIDv7)
    order = [r[0] for r in cloud.sql("select id::text from inventory_events order by received_at, id")]
    assert order == sorted(order)


def test_a_batch_delivered_twice_counts_once(cloud: Cloud, tmp_path: Path) -> None:
    store, _ = cloud.provisioned_store(tmp_path)
    record_adds(store, 40)
    batch = [event_payload(e) for e in store.unsynced(100)]
    remote = cloud.remote()
    remote.use_token(session_of(tmp_path).access_token)
    first = remote.ingest(batch)  # type: ignore[arg-type]
    stock_after_first = cloud.stock("cafe-1")
    second = remote.ingest(batch)  # type: ignore[arg-type]
    remote.close()
    assert len(first.accepted) == 40 and not first.duplicates
    assert not second.accepted and len(second.duplicates) == 40
    assert cloud.stock("cafe-1") == stock_after_first == local_stock(store)
    assert len(cloud.events()) == 40


def test_an_answer_lost_after_commit_is_resent_and_not_counted_twice(cloud: Cloud, tmp_path: Path) -> None:
    store, settings = cloud.provisioned_store(tmp_path)
    record_adds(store, 60)
    cloud.api.faults.drop_after_commit = 1
    with pytest.raises(RemoteUnavailable):
        sync_now(store, settings)
    assert store.backlog() == 60  # nothing marked synced without a confirmation
    assert len(cloud.events()) == 60  # ... although the server stored the batch
    report = sync_now(store, settings)
    assert report["duplicates"] == 60 and report["uploaded"] == 0
    assert cloud.stock("cafe-1") == local_stock(store)


def test_server_errors_retry_and_leave_the_queue_intact(cloud: Cloud, tmp_path: Path) -> None:
    store, settings = cloud.provisioned_store(tmp_path)
    record_adds(store, 10)
    cloud.api.faults.fail_next = 1
    with pytest.raises(RemoteUnavailable):
        sync_now(store, settings)
    assert store.backlog() == 10 and sync_status(store)["last_error"]["kind"] == "RemoteUnavailable"
    assert sync_now(store, settings)["uploaded"] == 10
    assert sync_status(store)["last_error"] is None and sync_status(store)["last_success"]


def test_a_rejected_event_is_quarantined_with_its_reason_and_not_retried(
    cloud: Cloud, tmp_path: Path
) -> None:
    store, settings = cloud.provisioned_store(tmp_path)
    record_adds(store, 5)
    bad = store.record(
        command=Command(Action.ADD, item="x" * 150, quantity=1),
        deltas=[Delta("x" * 150, "walk-in", 1.0)],
        confirmation="implicit",
        outcome="applied",
    )
    record_adds(store, 5)
    report = sync_now(store, settings)
    assert report["quarantined"] == 1 and report["uploaded"] == 10
    [(event, reason)] = store.quarantined()
    assert event.id == bad.id and "item must be a name of 1 to 100 characters" in reason
    requests = cloud.api.faults.requests
    assert sync_now(store, settings)["uploaded"] == 0
    assert cloud.api.faults.requests - requests == 1  # only the download: the bad event is not sent again
    status = sync_status(store)
    assert status["quarantined"] == 1 and status["quarantine"][0]["id"] == bad.id
    assert bad.id not in cloud.events()


def test_a_batch_wide_4xx_is_split_down_to_the_bad_event(cloud: Cloud, tmp_path: Path) -> None:
    # a server-side business rule that fails the whole request (P0001 -> 400), as an admin might add
    cloud.sql(
        "create function public.no_caviar() returns trigger language plpgsql as $$ begin "
        "if new.item = 'caviar' then raise exception 'caviar is not sold here'; end if; return new; end $$"
    )
    cloud.sql(
        "create trigger no_caviar before insert on inventory_events for each row execute function no_caviar()"
    )
    store, settings = cloud.provisioned_store(tmp_path)
    record_adds(store, 20)
    caviar = store.record(
        command=Command(Action.ADD, item="caviar", quantity=1),
        deltas=[Delta("caviar", "walk-in", 1.0)],
        confirmation="implicit",
        outcome="applied",
    )
    record_adds(store, 20)
    report = sync_now(store, settings)
    assert report["uploaded"] == 40 and report["quarantined"] == 1
    [(event, reason)] = store.quarantined()
    assert event.id == caviar.id and "caviar is not sold here" in reason and "P0001" in reason
    assert cloud.stock("cafe-1") == {k: v for k, v in local_stock(store).items() if k[0] != "caviar"}


def test_an_expired_token_is_refreshed_persisted_and_the_batch_retried(cloud: Cloud, tmp_path: Path) -> None:
    store, settings = cloud.provisioned_store(tmp_path)
    record_adds(store, 12)
    path = credentials_path(tmp_path)
    old = session_of(tmp_path)
    # the unit's clock says the token is good; the server (30 s skew) says it expired
    expired = cloud.api.sign(
        {"role": "authenticated", "device_id": old.device_id, "site_id": old.site_id}, ttl=-120
    )
    save_session(path, replace(old, access_token=expired))
    assert sync_now(store, settings)["uploaded"] == 12
    new = session_of(tmp_path)
    assert new.refresh_token != old.refresh_token and new.access_token != expired
    assert path.stat().st_mode & 0o777 == 0o600


def test_a_token_near_expiry_is_refreshed_before_use(cloud: Cloud, tmp_path: Path) -> None:
    store, settings = cloud.provisioned_store(tmp_path)
    old = session_of(tmp_path)
    save_session(credentials_path(tmp_path), replace(old, expires_at=0))
    record_adds(store, 3)
    requests = cloud.api.faults.requests
    assert sync_now(store, settings)["uploaded"] == 3
    assert cloud.api.faults.requests - requests == 3  # refresh, ingest, download: no refused call
    assert session_of(tmp_path).refresh_token != old.refresh_token


def test_a_refresh_whose_answer_was_lost_can_be_repeated(cloud: Cloud, tmp_path: Path) -> None:
    cloud.provisioned_store(tmp_path)
    old = session_of(tmp_path)
    remote = cloud.remote()
    child = remote.refresh(old.refresh_token)  # the server rotated; the unit died before writing it down
    again = remote.refresh(old.refresh_token)
    assert again.refresh_token == child.refresh_token
    grandchild = remote.refresh(child.refresh_token)
    with pytest.raises(CredentialsRefused):  # the old token is now reuse: the whole session is revoked
        remote.refresh(old.refresh_token)
    with pytest.raises(CredentialsRefused):
        remote.refresh(grandchild.refresh_token)
    remote.close()


def test_an_unprovisioned_unit_says_so(cloud: Cloud, tmp_path: Path) -> None:
    settings = cloud.settings(tmp_path)
    with Store.open(settings.db_path) as store:
        record_adds(store, 1)
        with pytest.raises(NotProvisioned):
            sync_now(store, settings)
        assert store.backlog() == 1


def test_a_provisioning_code_works_once(cloud: Cloud, tmp_path: Path) -> None:
    from cloud_sync.identity import provision

    code = cloud.code("cafe-1")
    settings = cloud.settings(tmp_path / "a")
    with Store.open(settings.db_path) as store:
        session = provision(settings, code, store=store)
        assert session.site_id == "cafe-1" and session.device_id == store.device_id
    other = cloud.settings(tmp_path / "b")
    with Store.open(other.db_path) as store, pytest.raises(CredentialsRefused, match="already used"):
        provision(other, code, store=store)
    with Store.open(other.db_path) as store, pytest.raises(CredentialsRefused, match="not valid"):
        provision(other, "AAAA-BBBB-CCCC-DDDD-EEEE", store=store)


def test_a_captive_portal_page_is_an_outage_not_a_crash(cloud: Cloud, tmp_path: Path) -> None:
    from cloud_sync.identity import provision

    code = cloud.code("cafe-1")
    settings = cloud.settings(tmp_path)
    with Store.open(settings.db_path) as store:
        cloud.api.faults.html_next = 1
        with pytest.raises(RemoteUnavailable, match="not JSON"):
            provision(settings, code, store=store)
        assert provision(settings, code, store=store).site_id == "cafe-1"  # the code was not used up


def test_credentials_that_are_no_tokens_are_refused_plainly() -> None:
    with pytest.raises(RemoteUnavailable, match="not valid"):
        Session.from_tokens("not-a-jwt", "refresh")
    with pytest.raises(RemoteUnavailable, match="not valid"):
        Session.from_tokens(_jwt({"exp": 1}), "refresh", expires_at="soon")  # type: ignore[arg-type]


def test_a_damaged_credentials_file_is_one_sentence(tmp_path: Path) -> None:
    from cloud_sync.identity import load_session
    from device.errors import SyncError

    path = credentials_path(tmp_path)
    fields = {"access_token": "a", "refresh_token": "r", "device_id": "d", "site_id": "s"}
    path.write_text(json.dumps(fields | {"expires_at": "soon"}), encoding="utf-8")
    with pytest.raises(SyncError, match="cannot be read"):
        load_session(path)


def _jwt(claims: dict[str, object]) -> str:
    import jwt

    return jwt.encode(claims, "k" * 32, algorithm="HS256")


def test_a_revoked_unit_cannot_refresh(cloud: Cloud, tmp_path: Path) -> None:
    store, settings = cloud.provisioned_store(tmp_path)
    cloud.sql("select app.revoke_device(%s)", (store.device_id,))
    save_session(credentials_path(tmp_path), replace(session_of(tmp_path), expires_at=0))
    with pytest.raises(CredentialsRefused, match="revoked"):
        sync_now(store, settings)


def test_run_keeps_going_through_outages(cloud: Cloud, tmp_path: Path) -> None:
    store, settings = cloud.provisioned_store(tmp_path)
    record_adds(store, 30)
    cloud.api.stop()

    async def scenario() -> None:
        worker = SyncWorker(store, cloud.remote(), settings, rng=random.Random(7))
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop))
        await asyncio.sleep(0.3)
        assert store.backlog() == 30
        cloud.api.start()
        for _ in range(200):
            if store.backlog() == 0:
                break
            worker.nudge()
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.wait_for(task, 10)

    asyncio.run(scenario())
    assert store.backlog() == 0 and cloud.stock("cafe-1") == local_stock(store)


def test_backoff_is_full_jitter_exponential_and_capped() -> None:
    rng = random.Random(1)
    for attempt in range(1, 30):
        ceiling = min(300.0, 2.0**attempt)
        delays = [backoff_delay(attempt, rng) for _ in range(50)]
        assert all(0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling / 4  # spread over the range, not stuck at the bottom
    assert backoff_delay(5, random.Random(3)) == backoff_delay(5, random.Random(3))
    assert backoff_delay(10_000, random.Random(3)) <= 300.0


def test_session_reads_its_claims() -> None:
    import jwt

    token = jwt.encode({"exp": 123, "device_id": "d", "site_id": "s"}, "k" * 32, algorithm="HS256")
    assert Session.from_tokens(token, "r") == Session(token, "r", 123, "d", "s")
