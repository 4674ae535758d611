"""Fault tests: kill -9 the sync process mid-upload again and again, take the server away and back, lose answers.
Afterwards the server's events equal the unit's journal and the server's stock equals the unit's stock."""

from __future__ import annotations

import asyncio
import os
import random
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

from cloud_sync.worker import SyncWorker, sync_now
from device.inventory.store import Store
from tests.cloud_sync.helpers import Cloud, local_stock, record_adds, session_of

ROOT = Path(__file__).resolve().parents[2]


def assert_converged(cloud: Cloud, store: Store) -> None:
    journal = store.journal()
    server = cloud.events(store.device_id)
    assert set(server) == {e.id for e in journal}, "server events differ from the journal"
    assert cloud.sql("select count(*) from inventory_events")[0][0] == len(journal)  # nothing twice
    assert store.backlog() == 0 and not store.quarantined()
    assert cloud.stock("cafe-1") == local_stock(store)
    for event in journal:  # every event's stock changes arrived intact
        sent = [(d.item, d.location, d.quantity) for d in event.deltas]
        got = [(d["item"], d["location"], d["quantity"]) for d in server[event.id]["deltas"]]
        assert got == sent


def _wait_for_line(proc: subprocess.Popen[str], text: str, timeout: float) -> bool:
    assert proc.stdout is not None
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if sel.select(timeout=0.1):
                line = proc.stdout.readline()
                if not line:
                    return False
                if text in line:
                    return True
    return False


def test_kill_9_mid_upload_loses_and_duplicates_nothing(cloud: Cloud, tmp_path: Path) -> None:
    cloud.api.access_ttl = 62  # tokens are refreshed on almost every start: kills land mid-refresh too
    store, settings = cloud.provisioned_store(tmp_path)
    record_adds(store, 600)
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "LARDER_ENV_FILE": str(tmp_path / "no.env"),
        "LARDER_DATA_DIR": str(tmp_path),
        "LARDER_SUPABASE_URL": cloud.api.url,
        "LARDER_SUPABASE_KEY": cloud.api.anon_key,
        "LARDER_SYNC_BATCH": "15",
    }
    rng = random.Random(20261125)
    interrupted = 0
    for round_ in range(24):
        if round_ % 6 == 5:
            cloud.api.faults.drop_after_commit = 1
        proc = subprocess.Popen(
            [sys.executable, "-m", "cloud_sync.worker", "--once"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert _wait_for_line(proc, "sync: started", 30)
        if round_ % 2:
            time.sleep(rng.uniform(0.05, 0.6))  # while it starts, refreshes its token, or uploads
        else:
            start = store.backlog()  # mid-upload: as soon as the backlog moves, plus a little
            deadline = time.monotonic() + 20
            while store.backlog() == start and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.005)
            time.sleep(rng.uniform(0.0, 0.06))
        backlog = store.backlog()
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        if proc.returncode == -signal.SIGKILL and backlog:
            interrupted += 1
        record_adds(store, 20)  # the kitchen carries on between crashes
    assert interrupted >= 20, f"only {interrupted} kills landed while events were queued"
    cloud.api.faults.drop_after_commit = 0
    sync_now(store, settings)
    assert_converged(cloud, store)
    assert session_of(tmp_path).expires_at > time.time()  # credentials survived every kill


def test_server_away_and_back_twenty_times_while_the_kitchen_works(cloud: Cloud, tmp_path: Path) -> None:
    store, settings = cloud.provisioned_store(tmp_path, sync_batch=25)
    record_adds(store, 300)
    rng = random.Random(42)

    async def scenario() -> int:
        worker = SyncWorker(store, cloud.remote(), settings, rng=rng, backoff_base_s=0.02, backoff_cap_s=0.2)
        worker.link.on_change = lambda online, reason: told.append((online, reason))
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop))
        outages = 0
        for n in range(20):
            await asyncio.to_thread(record_adds, store, 10)
            worker.nudge()
            await asyncio.sleep(rng.uniform(0.02, 0.15))
            if n % 4 == 3:
                cloud.api.faults.drop_after_commit = 1  # the server commits, the answer is lost
            cloud.api.stop()
            outages += 1
            await asyncio.sleep(rng.uniform(0.05, 0.3))
            cloud.api.start()
            if n % 5 == 2:
                cloud.api.faults.fail_next = 2  # and comes back answering 503 for a moment
        for _ in range(400):
            settled = store.backlog() == 0 and worker.store.get_state("sync.stock_pending") is None
            if settled and worker.link.online:  # a whole pass answered after the last outage
                break
            worker.nudge()
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.wait_for(task, 10)
        return outages

    told: list[tuple[bool, str]] = []
    assert asyncio.run(scenario()) == 20
    assert_converged(cloud, store)
    # the page and the light hear each outage once, and that the cloud answers again after it
    assert told and [online for online, _ in told] == [False, True] * (len(told) // 2)
    assert all(reason for online, reason in told if not online)
