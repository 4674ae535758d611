"""sd_notify over a real AF_UNIX datagram socket, and a watchdog that goes quiet when the main loop hangs."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from device.service import Notifier, Watchdog, watchdog_interval


class Manager:
    """Stands in for systemd's end of $NOTIFY_SOCKET: a bound datagram socket recording (time, message)."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(b"\0" + address[1:].encode() if address.startswith("@") else address)
        self.sock.settimeout(0.05)
        self.messages: list[tuple[float, str]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._receive, daemon=True)
        self._thread.start()

    def _receive(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.sock.recv(4096)
            except TimeoutError:
                continue
            self.messages.append((time.monotonic(), data.decode()))

    def wait_for(self, text: str, timeout: float = 2.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in m for _, m in self.messages):
                return
            time.sleep(0.01)
        raise AssertionError(f"{text!r} never arrived; got {self.messages}")

    def pings(self) -> list[float]:
        return [at for at, m in self.messages if m == "WATCHDOG=1"]

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


@pytest.fixture(params=["path", "abstract"])
def manager(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Manager]:
    address = str(tmp_path / "notify.sock") if request.param == "path" else f"@larder-test-{uuid.uuid4().hex}"
    m = Manager(address)
    yield m
    m.close()


def test_ready_status_stopping_reach_the_manager(manager: Manager) -> None:
    notifier = Notifier.from_env({"NOTIFY_SOCKET": manager.address})
    assert notifier.enabled
    assert notifier.ready("listening on mic 1")
    assert notifier.status("syncing\n3 events")
    assert notifier.watchdog()
    assert notifier.stopping()
    manager.wait_for("STOPPING=1")
    assert [m for _, m in manager.messages] == [
        "READY=1\nSTATUS=listening on mic 1",
        "STATUS=syncing 3 events",
        "WATCHDOG=1",
        "STOPPING=1",
    ]
    notifier.close()


def test_no_socket_is_a_quiet_no_op() -> None:
    notifier = Notifier.from_env({})
    assert not notifier.enabled
    assert notifier.ready() is False
    assert not Watchdog.from_env(notifier, {"WATCHDOG_USEC": "30000000"}).enabled


def test_a_vanished_manager_does_not_raise(tmp_path: Path) -> None:
    notifier = Notifier(str(tmp_path / "gone.sock"))
    assert notifier.ready() is False
    assert notifier.watchdog() is False


def test_malformed_assignment_is_refused(manager: Manager) -> None:
    with pytest.raises(ValueError):
        Notifier(manager.address).send("READY")


def test_watchdog_interval_reads_usec_and_pid() -> None:
    me = str(os.getpid())
    assert watchdog_interval({"WATCHDOG_USEC": "30000000"}) == 30.0
    assert watchdog_interval({"WATCHDOG_USEC": "200000", "WATCHDOG_PID": me}) == 0.2
    assert watchdog_interval({"WATCHDOG_USEC": "200000", "WATCHDOG_PID": "1"}) is None
    assert watchdog_interval({"WATCHDOG_USEC": "0"}) is None
    assert watchdog_interval({"WATCHDOG_USEC": "soon"}) is None
    assert watchdog_interval({}) is None


async def _daemon(watchdog: Watchdog, hang: asyncio.Event, blocking: bool) -> None:
    """A main loop shaped like the daemon's: it beats each turn until a stage hangs."""

    async def main_loop() -> None:
        while not hang.is_set():
            watchdog.heartbeat()
            await asyncio.sleep(0.01)  # one turn: a chunk of audio
        if blocking:
            time.sleep(0.8)  # a stage that holds the event loop itself
        await asyncio.Event().wait()  # a stage that never returns

    async with asyncio.TaskGroup() as group:
        group.create_task(watchdog.run())
        loop_task = group.create_task(main_loop())
        await asyncio.sleep(0.5)
        hang.set()
        await asyncio.sleep(1.2)
        loop_task.cancel()
        watchdog.stop()


@pytest.mark.parametrize("blocking", [False, True], ids=["awaits-forever", "blocks-the-loop"])
def test_watchdog_pings_stop_when_the_main_loop_hangs(manager: Manager, blocking: bool) -> None:
    env = {"NOTIFY_SOCKET": manager.address, "WATCHDOG_USEC": "200000", "WATCHDOG_PID": str(os.getpid())}
    notifier = Notifier.from_env(env)
    watchdog = Watchdog.from_env(notifier, env)
    assert watchdog.period_s == pytest.approx(0.1)
    hang = asyncio.Event()
    started = time.monotonic()
    asyncio.run(_daemon(watchdog, hang, blocking))
    pings = manager.pings()
    hung_at = started + 0.5
    before = [p for p in pings if p < hung_at]
    # a ping may still go out within one period of the hang (the last beat is fresh); leave room for a busy CPU
    after = [p for p in pings if p > hung_at + 0.4]
    assert len(before) >= 3, pings
    assert after == [], f"pings went on after the hang: {[round(p - hung_at, 3) for p in after]}"
    assert watchdog.missed >= 3
    notifier.close()


def test_watchdog_resumes_when_heartbeats_come_back(manager: Manager) -> None:
    now = [0.0]
    watchdog = Watchdog(Notifier(manager.address), 2.0, clock=lambda: now[0])
    assert watchdog.tick()
    now[0] = 1.5  # stale: the loop has not beaten for more than one period
    assert not watchdog.tick()
    watchdog.heartbeat()
    assert watchdog.tick()
    manager.wait_for("WATCHDOG=1")
    assert watchdog.pings == 2 and watchdog.missed == 0
