"""Reading the journal back, and the upload queue kept over it: a part of ``Store``, split out to be read alone.

``JournalQueries`` is a mixin that ``Store`` inherits; it holds no state of its own. The events come back
oldest first, each with its deltas. The upload queue is every event not yet synced and not quarantined (an
event the cloud rejects waits aside, with the reason, until it is released). ``read_journal`` reads the
journal of another store file without opening it as a store (no checks, no migration, nothing written): a
rollback uses it to carry the events a newer Larder journalled into the restored store.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import fields
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from device.errors import StoreError
from device.inventory.migrations import Database
from device.inventory.records import STOCK_ACTIONS, Delta, JournalEvent, iso_ms, parse_day

_CHUNK = 500


def _chunks(values: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


class JournalQueries:
    """The journal's reads and the upload queue, for ``Store``.

    Needs from the host: ``db``, ``device_id``, ``_lock``, ``_clock``, and the methods ``_rows`` (one read)
    and ``_writing`` (one write transaction).
    """

    db: Database
    device_id: str
    _lock: threading.RLock
    _clock: Callable[[], datetime]

    if TYPE_CHECKING:

        def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[Any]: ...
        def _writing(self, what: str) -> AbstractContextManager[None]: ...

    _FIELDS = tuple(f.name for f in fields(JournalEvent) if f.name != "deltas")
    _EVENTS = f"SELECT {', '.join('e.' + f for f in _FIELDS)} FROM events e"

    def _events(self, sql: str, params: Sequence[Any] = ()) -> list[JournalEvent]:
        with self._lock:
            rows = self._rows(sql, params)
            deltas: dict[str, list[Delta]] = {}
            ids = [row[0] for row in rows]
            for chunk in _chunks(ids):
                marks = ",".join("?" * len(chunk))
                for event_id, item, location, quantity, expires in self._rows(
                    "SELECT event_id, item, location, quantity, expires FROM deltas "
                    f"WHERE event_id IN ({marks}) ORDER BY event_id, seq",
                    chunk,
                ):
                    deltas.setdefault(event_id, []).append(
                        Delta(item, location, quantity, parse_day(expires))
                    )
        return [
            JournalEvent(
                **{**dict(zip(self._FIELDS, row, strict=True)), "synced": bool(row[-1])},
                deltas=tuple(deltas.get(row[0], ())),
            )
            for row in rows
        ]

    def journal(self, limit: int | None = None) -> list[JournalEvent]:
        """Every event, oldest first; with ``limit``, only the latest ``limit`` (still oldest first)."""
        if limit is None:
            return self._events(f"{self._EVENTS} ORDER BY e.rowid")
        latest = self._events(f"{self._EVENTS} ORDER BY e.rowid DESC LIMIT ?", [max(limit, 0)])
        return latest[::-1]

    def event(self, event_id: str) -> JournalEvent | None:
        found = self._events(f"{self._EVENTS} WHERE e.id = ?", [event_id])
        return found[0] if found else None

    def last_change(self) -> JournalEvent | None:
        """This device's latest applied stock change that no applied undo reverses yet."""
        marks = ",".join("?" * len(STOCK_ACTIONS))
        found = self._events(
            f"{self._EVENTS} WHERE e.device_id = ? AND e.outcome = 'applied' AND e.action IN ({marks}) "
            "AND NOT EXISTS (SELECT 1 FROM events u WHERE u.reverses = e.id AND u.outcome = 'applied') "
            "ORDER BY e.rowid DESC LIMIT 1",
            [self.device_id, *STOCK_ACTIONS],
        )
        return found[0] if found else None

    # --- sync queue ---
    _QUEUED = "e.synced = 0 AND NOT EXISTS (SELECT 1 FROM quarantine q WHERE q.event_id = e.id)"

    def unsynced(self, limit: int) -> list[JournalEvent]:
        """The oldest ``limit`` events not yet synced, in journal order, leaving out quarantined ones."""
        return self._events(f"{self._EVENTS} WHERE {self._QUEUED} ORDER BY e.rowid LIMIT ?", [max(limit, 0)])

    def mark_synced(self, ids: Sequence[str]) -> None:
        with self._writing("mark events synced"):
            for chunk in _chunks(list(ids)):
                marks = ",".join("?" * len(chunk))
                self.db.execute(f"UPDATE events SET synced = 1 WHERE id IN ({marks})", list(chunk))

    def quarantine(self, event_id: str, reason: str) -> None:
        """Keep an event the cloud rejects out of the upload queue, with the reason."""
        with self._lock:
            if not self._rows("SELECT 1 FROM events WHERE id = ?", [event_id]):
                raise StoreError(f"there is no journal event {event_id} to quarantine")
            with self._writing("quarantine an event"):
                self.db.execute(
                    "INSERT INTO quarantine (event_id, reason, at) VALUES (?, ?, ?) "
                    "ON CONFLICT (event_id) DO UPDATE SET reason = excluded.reason, at = excluded.at",
                    [event_id, reason, iso_ms(self._clock())],
                )

    def release(self, event_id: str) -> None:
        """Put a quarantined event back in the upload queue (after the cause was fixed)."""
        with self._writing("release an event"):
            self.db.execute("DELETE FROM quarantine WHERE event_id = ?", [event_id])

    def quarantined(self) -> list[tuple[JournalEvent, str]]:
        reasons = dict(self._rows("SELECT event_id, reason FROM quarantine"))
        events = self._events(
            f"{self._EVENTS} WHERE e.id IN (SELECT event_id FROM quarantine) ORDER BY e.rowid"
        )
        return [(event, reasons[event.id]) for event in events]

    def backlog(self) -> int:
        """How many events wait for upload (unsynced, not quarantined)."""
        return int(self._rows(f"SELECT count(*) FROM events e WHERE {self._QUEUED}")[0][0])


class _JournalFile(JournalQueries):
    """A store file opened read-only, just to read its journal."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._lock = threading.RLock()

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return self.db.execute(sql, list(params)).fetchall()


def read_journal(path: Path) -> list[JournalEvent]:
    """Every event of the store file at ``path``, oldest first; a file of any schema that still has this
    version's journal columns. Every failure is a ``StoreError``."""
    if not path.is_file():
        raise StoreError(f"there is no store file at {path}")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open {path}: {exc}") from None
    try:
        return _JournalFile(Database(conn, execute_plugins=False)).journal()
    except sqlite3.Error as exc:
        raise StoreError(
            f"cannot read the journal in {path}: {exc}",
            hint="it may come from a Larder whose journal this version cannot read; the file was not changed",
        ) from None
    finally:
        conn.close()
