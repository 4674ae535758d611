"""The local store: the catalogue, stock lots and the append-only journal, in one SQLite file.

The journal is the source of truth on the unit. A stock change and the journal event that explains it are
written in one transaction, in WAL mode with ``synchronous=FULL`` (a pulled plug loses no acknowledged
change). Quantities here are always in the item's base unit. Opening a damaged file moves it aside and says
so, and a file from a newer Larder is refused untouched: the daemon never crash-loops on a bad file.

This module opens the store and does its writes (the catalogue, journal events with their stock changes,
small state). Reading the journal and the upload queue is in ``journal``, the stock questions in ``stock``,
the record types in ``records``.
"""

from __future__ import annotations

import json
import logging
import math
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from functools import cache
from pathlib import Path
from types import MappingProxyType, TracebackType
from typing import Any

import uuid6

from device.errors import CatalogError, StoreError
from device.intent.command import Command
from device.inventory.catalog import Catalogue, Item, demo_catalogue
from device.inventory.journal import JournalQueries
from device.inventory.migrations import Database, open_database, problems
from device.inventory.records import CONFIRMATIONS, EPSILON, OUTCOMES, Delta, JournalEvent, iso_ms, utc_now
from device.inventory.stock import StockQueries
from device.settings import Settings

log = logging.getLogger(__name__)


@cache
def _demo() -> Catalogue:
    return demo_catalogue()


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


class Store(JournalQueries, StockQueries):
    """The unit's SQLite store. Open with ``Store.open``; safe to share between threads (writes serialise)."""

    def __init__(
        self, db: Database, path: Path, device_id: str, clock: Callable[[], datetime], redact: Sequence[str]
    ) -> None:
        self.db = db
        self.path = path
        self.device_id = device_id
        self._clock = clock
        self._redact = tuple(s for s in redact if s)
        self._lock = threading.RLock()
        self._catalogue: tuple[str, Catalogue] | None = None

    # --- opening ---
    @classmethod
    def from_settings(cls, settings: Settings, *, check: bool = True) -> Store:
        """The unit's store as configured: its path, its device id, and every secret kept out of the journal."""
        return cls.open(
            settings.db_path, device_id=settings.device_id or None, redact=settings.secrets(), check=check
        )

    @classmethod
    def open(
        cls,
        path: Path,
        *,
        device_id: str | None = None,
        clock: Callable[[], datetime] = utc_now,
        redact: Sequence[str] = (),
        check: bool = True,
    ) -> Store:
        """Open (creating and migrating as needed) the store at ``path``.

        ``device_id``: this unit's id, else the one made once and kept in the store. ``clock``: the time
        journal events carry. ``redact``: secrets never written into the journal. ``check``: run
        ``PRAGMA quick_check`` first (the daemon should; a short-lived read-only CLI command may skip it).
        """
        path = Path(path)
        db = open_database(path, clock, check=check)
        try:
            kept = cls._device_id(db, device_id)
        except sqlite3.Error as exc:
            db.close()
            raise StoreError(f"cannot open the store at {path}: {exc}") from exc
        return cls(db, path, kept, clock, redact)

    @staticmethod
    def _device_id(db: Database, given: str | None) -> str:
        row = db.execute("SELECT value FROM meta WHERE key = 'device_id'").fetchone()
        if row is not None:
            return given or str(row[0])
        made = given or str(uuid.uuid4())
        with db.atomic():
            db.execute("INSERT INTO meta (key, value) VALUES ('device_id', ?)", [made])
        return made

    def close(self) -> None:
        with self._lock:
            self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def integrity(self) -> str:
        """``"ok"`` or the problems ``PRAGMA quick_check`` found."""
        try:
            with self._lock:
                return problems(self.db) or "ok"
        except sqlite3.DatabaseError as exc:
            return str(exc)

    def data_version(self) -> int:
        """SQLite's ``PRAGMA data_version`` on this connection: it moves when another process commits."""
        return int(self._rows("PRAGMA data_version")[0][0])

    # --- catalogue ---
    def catalogue(self) -> Catalogue:
        """The imported catalogue, else the embedded demo catalogue (re-read when another process imports)."""
        with self._lock:
            rev = self._rows("SELECT value FROM meta WHERE key = 'catalogue_rev'")
            if not rev:
                return _demo()
            if self._catalogue is not None and self._catalogue[0] == rev[0][0]:
                return self._catalogue[1]
            items = tuple(
                Item(
                    name=name,
                    unit=unit,
                    aliases=tuple(json.loads(aliases)),
                    location=location,
                    par=par,
                    packs=MappingProxyType(json.loads(packs)),
                )
                for name, unit, aliases, location, par, packs in self._rows(
                    "SELECT name, unit, aliases, location, par, packs FROM items ORDER BY position"
                )
            )
            places = tuple(r[0] for r in self._rows("SELECT name FROM locations ORDER BY position"))
            catalogue = Catalogue(items=items, locations=places)
            self._catalogue = (rev[0][0], catalogue)
            return catalogue

    def replace_catalogue(self, catalogue: Catalogue) -> None:
        """Replace items and locations in one transaction; stock rows (even of dropped items) are kept."""
        if not catalogue.items:
            raise CatalogError("a catalogue needs at least one item; nothing was changed")
        places = dict.fromkeys([*catalogue.locations, *(i.location for i in catalogue.items if i.location)])
        with self._writing("import the catalogue"):
            self.db.execute("DELETE FROM items")
            self.db.execute("DELETE FROM locations")
            self.db.conn.executemany(
                "INSERT INTO items (name, unit, aliases, location, par, packs, position) "
                "VALUES (?,?,?,?,?,?,?)",
                [
                    (
                        i.name,
                        i.unit,
                        json.dumps(list(i.aliases)),
                        i.location,
                        i.par,
                        json.dumps(dict(i.packs)),
                        n,
                    )
                    for n, i in enumerate(catalogue.items)
                ],
            )
            self.db.conn.executemany(
                "INSERT INTO locations (name, position) VALUES (?, ?)", [(p, n) for n, p in enumerate(places)]
            )
            self.db.execute(
                "INSERT INTO meta (key, value) VALUES ('catalogue_rev', '1') ON CONFLICT (key) "
                "DO UPDATE SET value = CAST(value AS INTEGER) + 1"
            )

    # --- the journal ---
    def record(
        self,
        *,
        command: Command,
        deltas: Sequence[Delta],
        confirmation: str,
        outcome: str,
        reverses: str | None = None,
    ) -> JournalEvent:
        """Journal ``command`` and apply its ``deltas`` to the stock lots, in ONE transaction."""
        if confirmation not in CONFIRMATIONS:
            raise StoreError(
                f"confirmation {confirmation!r} is not one of {', '.join(sorted(CONFIRMATIONS))}"
            )
        if outcome not in OUTCOMES:
            raise StoreError(f"outcome {outcome!r} is not one of {', '.join(sorted(OUTCOMES))}")
        if deltas and outcome != "applied":
            raise StoreError(f"a {outcome} command cannot change stock")
        transcript = command.text
        for secret in self._redact:
            transcript = transcript.replace(secret, "[redacted]")
        event = JournalEvent(
            id=str(uuid6.uuid7()),
            device_id=self.device_id,
            at=iso_ms(self._clock()),
            action=str(command.action),
            item=command.item,
            quantity=command.quantity if _finite(command.quantity) else None,
            unit=command.unit,
            location=command.location,
            to_location=command.to_location,
            transcript=transcript,
            resolver=str(command.resolver),
            confirmation=confirmation,
            outcome=outcome,
            reverses=reverses,
            deltas=tuple(deltas),
            synced=False,
        )
        with self._writing(f"record {event.action}"):
            self._insert(event)
        return event

    def adopt(self, events: Sequence[JournalEvent]) -> int:
        """Add events journalled elsewhere (another copy of this unit's store) that this store lacks.

        Each keeps its id, time and synced flag, and its deltas change the stock as they did there; oldest
        first, all in one transaction. Returns how many were added.
        """
        with self._lock:
            have = {row[0] for row in self._rows("SELECT id FROM events")}
            with self._writing("adopt journal events"):
                added = [event for event in events if event.id not in have]
                for event in added:
                    self._insert(event)
        return len(added)

    def _insert(self, event: JournalEvent) -> None:
        """The event's row, its deltas and their stock changes (inside the caller's transaction)."""
        catalogue = self.catalogue()
        self.db.execute(
            "INSERT INTO events (id, device_id, at, action, item, quantity, unit, location, to_location, "
            "transcript, resolver, confirmation, outcome, reverses, synced) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [
                event.id,
                event.device_id,
                event.at,
                event.action,
                event.item,
                event.quantity,
                event.unit,
                event.location,
                event.to_location,
                event.transcript,
                event.resolver,
                event.confirmation,
                event.outcome,
                event.reverses,
                int(event.synced),
            ],
        )
        for seq, delta in enumerate(event.deltas):
            expires = delta.expires.isoformat() if delta.expires else None
            self.db.execute(
                "INSERT INTO deltas (event_id, seq, item, location, quantity, expires) VALUES (?,?,?,?,?,?)",
                [event.id, seq, delta.item, delta.location, delta.quantity, expires],
            )
            item = catalogue.get(delta.item)
            self._apply(delta, expires, item.unit if item else "")

    def _apply(self, delta: Delta, expires: str | None, unit: str) -> None:
        lot = self.db.execute(
            "SELECT id, quantity FROM stock WHERE item = ? AND location = ? AND ifnull(expires, '') = ?",
            [delta.item, delta.location, expires or ""],
        ).fetchone()
        if lot is None:
            if abs(delta.quantity) > EPSILON:
                self.db.execute(
                    "INSERT INTO stock (item, location, expires, quantity, unit) VALUES (?,?,?,?,?)",
                    [delta.item, delta.location, expires, round(delta.quantity, 6), unit],
                )
            return
        left = round(lot[1] + delta.quantity, 6)
        if abs(left) <= EPSILON:
            self.db.execute("DELETE FROM stock WHERE id = ?", [lot[0]])
        else:
            self.db.execute("UPDATE stock SET quantity = ? WHERE id = ?", [left, lot[0]])

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """Run one read; a SQLite failure becomes a ``StoreError``."""
        try:
            with self._lock:
                return self.db.execute(sql, list(params)).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(
                f"could not read the store at {self.path}: {exc}", hint="`larder doctor` checks the file"
            ) from exc

    @contextmanager
    def _writing(self, what: str) -> Iterator[None]:
        """One write transaction; a SQLite failure rolls it back and becomes a ``StoreError``."""
        try:
            with self._lock, self.db.atomic():
                yield
        except sqlite3.Error as exc:
            raise StoreError(f"could not {what} in the store at {self.path}: {exc}") from exc

    # --- small durable state ---
    def get_state(self, key: str) -> Any | None:
        rows = self._rows("SELECT value FROM state WHERE key = ?", [key])
        return json.loads(rows[0][0]) if rows else None

    def set_state(self, key: str, value: Any | None) -> None:
        """Keep a small JSON value under ``key``; ``None`` deletes it."""
        if value is None:
            with self._writing(f"clear {key}"):
                self.db.execute("DELETE FROM state WHERE key = ?", [key])
            return
        try:
            text = json.dumps(value)
        except (TypeError, ValueError) as exc:
            raise StoreError(f"cannot keep {key!r}: {exc}") from None
        with self._writing(f"keep {key}"):
            self.db.execute(
                "INSERT INTO state (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) "
                "DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                [key, text, iso_ms(self._clock())],
            )
