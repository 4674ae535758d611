"""The store's record types and the small rules they follow: plain immutable data, no I/O.

A ``Delta`` is one change to one lot of stock, a ``JournalEvent`` one journal entry with its deltas, and a
``StockRow`` the stock of one item at one place. Quantities are in the item's base unit; journal times are
UTC strings to the millisecond (``iso_ms``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

CONFIRMATIONS = frozenset({"implicit", "explicit", "none"})
OUTCOMES = frozenset({"applied", "cancelled", "timed_out", "refused", "undone"})
STOCK_ACTIONS = ("add", "use", "waste", "set", "move", "out")
#: a quantity closer to zero than this counts as zero
EPSILON = 1e-9


@dataclass(frozen=True)
class Delta:
    """One change to one lot of stock, in base units."""

    item: str
    location: str
    quantity: float
    expires: date | None = None


@dataclass(frozen=True)
class JournalEvent:
    """One journal entry: a change, an undo, or a command that was cancelled, timed out or refused."""

    id: str
    device_id: str
    at: str
    action: str
    item: str | None
    quantity: float | None
    unit: str | None
    location: str | None
    to_location: str | None
    transcript: str
    resolver: str
    confirmation: str
    outcome: str
    reverses: str | None
    deltas: tuple[Delta, ...]
    synced: bool


@dataclass(frozen=True)
class StockRow:
    """Stock of one item at one location, summed over its lots."""

    item: str
    location: str
    quantity: float
    unit: str
    expires: date | None


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso_ms(moment: datetime) -> str:
    """``2026-11-25T18:30:00.123Z``."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_day(value: str | None) -> date | None:
    """An ISO date as kept in the store (``2026-11-25``), or ``None`` for no date."""
    return date.fromisoformat(value) if value else None
