"""The sync worker: upload the journal to Supabase in order, then download catalogue and stock changes.

An asyncio task inside the daemon (``SyncWorker.run``). Network calls (supabase-py is blocking) and store calls
run in worker threads, so the voice loop never waits on sync. One pass (``sync_once``):

1. Upload: the oldest unsynced events, ``settings.sync_batch`` at a time, through the ``ingest_events`` RPC (one
   server transaction per batch; replayed events are recognised by id). Events are marked synced only after the
   server confirmed them. A rejected event is quarantined with its reason (reported by `larder sync status` and
   `larder doctor`), never retried as is and never dropped. A 4xx for a whole batch splits it until the bad
   event is found. A refused access token is refreshed (persisted before use) and the batch sent again.
2. Download (``cloud_sync.download``), only when every upload of the pass was confirmed.

Network errors, timeouts and 5xx end the pass; ``run`` waits with exponential backoff and full jitter (capped
at five minutes, so a unit offline for days reconnects soon after the network returns) and starts over.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import random
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from cloud_sync.download import CURSOR, STOCK_PENDING, apply_changes
from cloud_sync.errors import RemoteUnavailable, RequestRejected, TokenRefused
from cloud_sync.identity import Identity, credentials_path, make_remote
from cloud_sync.remote import Rejection, RemoteStore
from device import __version__
from device.connectivity import Link
from device.errors import LarderError
from device.inventory.catalog import Catalogue

log = logging.getLogger(__name__)

BASE_DELAY_S = 1.0
MAX_DELAY_S = 300.0
MAX_BATCHES_PER_PASS = 40
LAST_SUCCESS = "sync.last_success"
LAST_ERROR = "sync.last_error"


def backoff_delay(
    attempt: int, rng: random.Random, base: float = BASE_DELAY_S, cap: float = MAX_DELAY_S
) -> float:
    """Full jitter: uniform in [0, min(cap, base * 2**attempt)]."""
    return rng.uniform(0.0, min(cap, base * 2.0 ** min(max(attempt, 0), 40)))


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def event_payload(event: Any) -> dict[str, Any] | str:
    """The JSON ``ingest_events`` takes for one journal event, or why it cannot be sent."""
    numbers = [event.quantity, *(d.quantity for d in event.deltas)]
    if any(n is not None and not math.isfinite(n) for n in numbers):
        return "a quantity is not a finite number"
    return {
        "id": event.id,
        "device_id": event.device_id,
        "at": event.at,
        "action": event.action,
        "item": event.item,
        "quantity": event.quantity,
        "unit": event.unit,
        "location": event.location,
        "to_location": event.to_location,
        "transcript": event.transcript,
        "resolver": event.resolver,
        "confirmation": event.confirmation,
        "outcome": event.outcome,
        "reverses": event.reverses,
        "app_version": __version__,
        "deltas": [
            {
                "item": d.item,
                "location": d.location,
                "quantity": d.quantity,
                "expires": d.expires.isoformat() if d.expires else None,
            }
            for d in event.deltas
        ],
    }


@dataclass
class PassReport:
    """What one pass did."""

    uploaded: int = 0
    duplicates: int = 0
    quarantined: int = 0
    backlog: int = 0
    download: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Sent:
    synced: list[str] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    duplicates: int = 0


class SyncWorker:
    """Uploads the journal and downloads changes; ``run()`` forever in the daemon, ``sync_once()`` on demand."""

    def __init__(
        self,
        store: Any,
        remote: RemoteStore,
        settings: Any,
        *,
        identity: Identity | None = None,
        on_catalogue: Callable[[Catalogue], None] | None = None,
        rng: random.Random | None = None,
        backoff_base_s: float = BASE_DELAY_S,
        backoff_cap_s: float = MAX_DELAY_S,
    ) -> None:
        self.store = store
        self.remote = remote
        self.settings = settings
        self.identity = identity or Identity(credentials_path(settings.data_dir), remote)
        self.on_catalogue = on_catalogue
        self.rng = rng or random.Random()
        self.backoff = (backoff_base_s, backoff_cap_s)
        self._nudge = asyncio.Event()
        self._last_success_write = 0.0
        #: whether the cloud answers; ``link.on_change`` hears when it stops and when it answers again
        self.link = Link()

    def nudge(self) -> None:
        """Start the next pass now (e.g. a new journal event). Call from the event loop's thread."""
        self._nudge.set()

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Sync until ``stop`` is set (or the task is cancelled); failures only delay the next pass."""
        attempt = 0
        while stop is None or not stop.is_set():
            try:
                report = await self.sync_once()
                attempt = 0
                delay = 0.0 if report.backlog else self.settings.sync_interval_s
                self.link.record(None)
            except (RemoteUnavailable, TokenRefused) as exc:
                attempt += 1
                delay = backoff_delay(attempt, self.rng, *self.backoff)
                log.info("sync offline (%s); next try in %.1f s", exc.message, delay)
                self.link.record(exc.message)
            except LarderError as exc:
                attempt += 1
                delay = backoff_delay(attempt, self.rng, self.settings.sync_interval_s, self.backoff[1])
                log.warning("sync failed: %s; next try in %.1f s", exc, delay)
            except Exception:  # never let sync take the daemon down
                attempt += 1
                delay = backoff_delay(attempt, self.rng, self.settings.sync_interval_s, self.backoff[1])
                log.exception("sync failed unexpectedly; next try in %.1f s", delay)
            await self._wait(delay, stop)

    async def _wait(self, delay: float, stop: asyncio.Event | None) -> None:
        self._nudge.clear()
        waiters = [asyncio.ensure_future(self._nudge.wait())]
        if stop is not None:
            waiters.append(asyncio.ensure_future(stop.wait()))
        try:
            await asyncio.wait(waiters, timeout=delay, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    async def sync_once(self) -> PassReport:
        """One pass: upload what is queued, then download changes. Raises a ``SyncError`` on failure."""
        try:
            report = await self._upload()
            changes = await asyncio.to_thread(
                lambda: self._authed(self.remote.changes_since, self.store.get_state(CURSOR))
            )
            catalogue, report.download = await asyncio.to_thread(apply_changes, self.store, changes)
            report.backlog = await asyncio.to_thread(self.store.backlog)
        except LarderError as exc:
            await asyncio.to_thread(self._record_error, exc)
            raise
        await asyncio.to_thread(self._record_success, report)
        if catalogue is not None and self.on_catalogue is not None:
            try:
                self.on_catalogue(catalogue)
            except Exception:  # a listener's failure must not undo a good download
                log.exception("a catalogue listener failed")
        return report

    def _state(self, key: str) -> Any:
        return self.store.get_state(key)

    async def _upload(self) -> PassReport:
        report = PassReport()
        for _ in range(MAX_BATCHES_PER_PASS):
            batch = await asyncio.to_thread(self.store.unsynced, self.settings.sync_batch)
            if not batch:
                break
            payloads = []
            for event in batch:
                body = event_payload(event)
                if isinstance(body, str):
                    await asyncio.to_thread(self.store.quarantine, event.id, body)
                    report.quarantined += 1
                else:
                    payloads.append(body)
            if not payloads:
                continue
            log.debug("sync: sending %d events", len(payloads))
            sent = await asyncio.to_thread(self._ingest, payloads)
            await asyncio.to_thread(self._settle, payloads, sent, report)
        return report

    def _settle(self, payloads: list[dict[str, Any]], sent: _Sent, report: PassReport) -> None:
        ids = {p["id"] for p in payloads}
        for rejection in sent.rejected:
            if rejection.id in ids:
                self.store.quarantine(rejection.id, f"{rejection.reason} [{rejection.code}]")
                report.quarantined += 1
        synced = [i for i in sent.synced if i in ids]
        if synced:
            # our own events are now in the server's stock: rebase local stock on the next download
            self.store.set_state(STOCK_PENDING, True)
            self.store.mark_synced(synced)
        report.uploaded += len(synced) - sent.duplicates
        report.duplicates += sent.duplicates
        missing = ids - set(synced) - {r.id for r in sent.rejected}
        if missing:
            raise RemoteUnavailable(f"the cloud answered without {len(missing)} of the events sent")

    def _ingest(self, events: list[dict[str, Any]]) -> _Sent:
        """Send a batch (in a worker thread); a batch-wide 4xx is split until the bad event is found."""
        try:
            result = self._authed(self.remote.ingest, events)
        except RequestRejected as exc:
            if len(events) == 1:
                return _Sent(rejected=[Rejection(str(events[0]["id"]), exc.code, exc.message)])
            half = len(events) // 2
            left, right = self._ingest(events[:half]), self._ingest(events[half:])
            return _Sent(
                left.synced + right.synced, left.rejected + right.rejected, left.duplicates + right.duplicates
            )
        return _Sent([*result.accepted, *result.duplicates], list(result.rejected), len(result.duplicates))

    def _authed(self, call: Callable[..., Any], *args: Any) -> Any:
        """Run ``call`` with a fresh access token; on a 401, refresh once (persisted first) and call again."""
        session = self.identity.fresh()
        self.remote.use_token(session.access_token)
        try:
            return call(*args)
        except TokenRefused:
            session = self.identity.refresh(session)
            self.remote.use_token(session.access_token)
            return call(*args)

    def _record_success(self, report: PassReport) -> None:
        did_work = (
            report.uploaded or report.duplicates or report.quarantined or report.download.get("rebased")
        )
        if did_work or time.monotonic() - self._last_success_write > 60 or self._state(LAST_ERROR):
            self.store.set_state(LAST_SUCCESS, now_iso())
            self.store.set_state(LAST_ERROR, None)
            self._last_success_write = time.monotonic()

    def _record_error(self, exc: LarderError) -> None:
        try:
            self.store.set_state(
                LAST_ERROR, {"at": now_iso(), "message": str(exc), "kind": type(exc).__name__}
            )
        except LarderError:
            log.exception("could not record the sync error")


async def _sync_all(worker: SyncWorker) -> dict[str, Any]:
    total = PassReport()
    while True:
        report = await worker.sync_once()
        total.uploaded += report.uploaded
        total.duplicates += report.duplicates
        total.quarantined += report.quarantined
        total.download = report.download
        total.backlog = report.backlog
        if not report.backlog or not (report.uploaded or report.duplicates or report.quarantined):
            return total.as_dict()


def sync_now(
    store: Any,
    settings: Any,
    *,
    remote: RemoteStore | None = None,
    on_catalogue: Callable[..., None] | None = None,
) -> dict[str, Any]:
    """`larder sync now`: sync until the backlog is empty (or stops shrinking); raises ``SyncError`` on failure."""
    own = remote is None
    remote = remote or make_remote(settings)
    try:
        worker = SyncWorker(store, remote, settings, on_catalogue=on_catalogue)
        return asyncio.run(_sync_all(worker))
    finally:
        if own:
            remote.close()


def main(argv: list[str] | None = None) -> int:
    """``python -m cloud_sync.worker [--once]``: run the worker on its own (tests, debugging)."""
    parser = argparse.ArgumentParser(prog="python -m cloud_sync.worker")
    parser.add_argument("--once", action="store_true", help="sync until the backlog is empty, then exit")
    args = parser.parse_args(argv)
    from device.inventory.store import Store
    from device.settings import load_settings

    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings()
        with Store.from_settings(settings) as store:
            print("sync: started", flush=True)
            if args.once:
                print(json.dumps(sync_now(store, settings)), flush=True)
            else:
                remote = make_remote(settings)
                try:
                    asyncio.run(SyncWorker(store, remote, settings).run())
                finally:
                    remote.close()
    except LarderError as exc:
        print(f"sync: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
