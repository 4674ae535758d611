"""Talking to systemd: readiness, status and the watchdog (the sd_notify protocol, by hand).

systemd gives a ``Type=notify`` service the address of a datagram socket in ``$NOTIFY_SOCKET`` (a path, or
an abstract-namespace name when it starts with ``@``). The daemon sends ``READY=1`` once the microphone,
models and store are up, ``STATUS=...`` lines a technician sees in ``systemctl status``, ``STOPPING=1`` on
the way out, and ``WATCHDOG=1`` at half of ``$WATCHDOG_USEC``.

The ``Watchdog`` only pings while the main loop's heartbeats are fresh: the loop calls ``heartbeat()`` each
turn, and a hung stage (an await that never returns, or a blocking call that holds the event loop) stops the
heartbeats, then the pings, and systemd restarts the unit. Outside systemd (no ``$NOTIFY_SOCKET``) it is all
a quiet no-op.

These variables belong to the service manager's protocol, not to Larder's settings, so they are read from
the environment mapping passed in (``os.environ`` by default).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Callable, Mapping

log = logging.getLogger(__name__)


def _address(raw: str) -> str | bytes:
    """A socket address for ``raw``: a leading ``@`` means Linux's abstract namespace (a leading NUL byte)."""
    if raw.startswith("@"):
        return b"\0" + raw[1:].encode()
    return raw


class Notifier:
    """Sends sd_notify datagrams to the service manager; does nothing when there is no socket to send to."""

    def __init__(self, address: str | None) -> None:
        self.address = address or None
        self._sock: socket.socket | None = None
        self._warned = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Notifier:
        env = os.environ if environ is None else environ
        return cls(env.get("NOTIFY_SOCKET"))

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def send(self, *assignments: str) -> bool:
        """Send ``KEY=VALUE`` lines in one datagram; True when it was delivered. Socket errors never raise."""
        if self.address is None:
            return False
        bad = [item for item in assignments if "=" not in item]
        if bad:
            raise ValueError(f"not a KEY=VALUE notify assignment: {bad[0]!r}")
        payload = "\n".join(item.replace("\n", " ") for item in assignments)
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self._sock.sendto(payload.encode(), _address(self.address))
        except OSError as exc:
            if not self._warned:  # a lost manager must not flood the log at every watchdog turn
                log.warning("cannot notify the service manager at %s: %s", self.address, exc)
                self._warned = True
            return False
        return True

    def ready(self, status: str | None = None) -> bool:
        return self.send("READY=1", *([f"STATUS={status}"] if status else []))

    def status(self, text: str) -> bool:
        return self.send(f"STATUS={text}")

    def stopping(self, status: str | None = None) -> bool:
        return self.send("STOPPING=1", *([f"STATUS={status}"] if status else []))

    def watchdog(self) -> bool:
        return self.send("WATCHDOG=1")

    def extend_timeout(self, seconds: float) -> bool:
        """Ask for more time to start or stop (a slow model load on a cold Pi)."""
        return self.send(f"EXTEND_TIMEOUT_USEC={int(seconds * 1_000_000)}")

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


def watchdog_interval(environ: Mapping[str, str] | None = None) -> float | None:
    """Seconds systemd waits for a ping (``$WATCHDOG_USEC``); None when no watchdog is meant for us."""
    env = os.environ if environ is None else environ
    usec = env.get("WATCHDOG_USEC", "")
    pid = env.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) == 0:
        return None
    if pid and (not pid.isdigit() or int(pid) != os.getpid()):
        return None
    return int(usec) / 1_000_000


class Watchdog:
    """Pings systemd at half the watchdog interval, but only while the main loop's heartbeats are fresh.

    ``stale_after_s`` is how old the last heartbeat may be for a ping to go out (default: the ping period,
    so a hung loop is killed within about one and a half watchdog intervals).
    """

    def __init__(
        self,
        notifier: Notifier,
        interval_s: float | None,
        *,
        stale_after_s: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.notifier = notifier
        self.interval_s = interval_s
        self.period_s = interval_s / 2 if interval_s else None
        self.stale_after_s = stale_after_s if stale_after_s is not None else self.period_s
        self._clock = clock
        self._last_beat = clock()
        self.pings = 0
        self.missed = 0
        self._stop = asyncio.Event()

    @classmethod
    def from_env(cls, notifier: Notifier, environ: Mapping[str, str] | None = None) -> Watchdog:
        return cls(notifier, watchdog_interval(environ))

    @property
    def enabled(self) -> bool:
        return self.period_s is not None and self.notifier.enabled

    def heartbeat(self) -> None:
        """Called by the main loop each turn: proof that it is still making progress."""
        self._last_beat = self._clock()

    def fresh(self) -> bool:
        if self.stale_after_s is None:
            return True
        return self._clock() - self._last_beat <= self.stale_after_s

    def tick(self) -> bool:
        """One ping decision: send ``WATCHDOG=1`` when the heartbeat is fresh. True when a ping went out."""
        if not self.fresh():
            self.missed += 1
            if self.missed == 1:
                age = self._clock() - self._last_beat
                log.error("main loop silent for %.1f s: stopping watchdog pings so systemd restarts us", age)
            return False
        if self.missed:
            log.warning("main loop is beating again after %d missed pings", self.missed)
            self.missed = 0
        sent = self.notifier.watchdog()
        self.pings += int(sent)
        return sent

    def stop(self) -> None:
        """End ``run`` (shutting down: no more pings)."""
        self._stop.set()

    async def run(self) -> None:
        """Ping until ``stop`` or cancellation; returns at once when no watchdog is configured."""
        if not self.enabled or self.period_s is None:
            return
        self.heartbeat()
        while not self._stop.is_set():
            self.tick()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.period_s)
