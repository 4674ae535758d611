"""What the Stock and Journal pages list, worked out from plain records: pure functions, no I/O.

``stock_rows`` puts every catalogue item at each place it is kept, by place (items with no stock at their own
place, at zero), with its par and the marks ``low`` (the item's total is under par) and ``expiring`` (a lot expires
within ``EXPIRING_DAYS``). ``journal_rows`` filters the journal by local day, item and action and says each
event's sync state. ``waste_by_item`` sums what was thrown away over the last days, leaving out waste that
was undone. ``to_csv`` writes any of these lists as CSV text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import UTC, date, datetime, timedelta
from typing import Any

from device.inventory.catalog import Catalogue
from device.inventory.records import JournalEvent, StockRow

EXPIRING_DAYS = 3


@dataclass(frozen=True)
class StockLine:
    item: str
    location: str
    quantity: float
    unit: str
    par: float | None
    low: bool
    expiring: str  # the soonest expiry date within EXPIRING_DAYS, or ""


@dataclass(frozen=True)
class JournalLine:
    id: str
    time: str
    transcript: str
    action: str
    item: str
    quantity: float | None
    unit: str
    location: str
    resolver: str
    confirmation: str
    outcome: str
    sync: str  # synced, waiting or quarantined


@dataclass(frozen=True)
class Waste:
    item: str
    unit: str
    last_7_days: float
    last_30_days: float


def stock_rows(
    catalogue: Catalogue, stock: Sequence[StockRow], today: date, *, search: str = ""
) -> list[StockLine]:
    """Every item by place, in catalogue order; ``search`` keeps items whose name, alias or place has it."""
    totals: dict[str, float] = {}
    for row in stock:
        totals[row.item.casefold()] = totals.get(row.item.casefold(), 0.0) + row.quantity
    soon = today + timedelta(days=EXPIRING_DAYS)
    order = {item.name.casefold(): n for n, item in enumerate(catalogue.items)}
    by_item: dict[str, list[StockRow]] = {}
    for row in stock:
        by_item.setdefault(row.item.casefold(), []).append(row)
    lines: list[StockLine] = []
    names = [i.name for i in catalogue.items] + sorted(
        {r.item for r in stock if r.item.casefold() not in order}, key=str.casefold
    )
    for name in names:
        item = catalogue.get(name)
        par = item.par if item else None
        low = bool(par) and totals.get(name.casefold(), 0.0) < (par or 0.0)
        rows = by_item.get(name.casefold()) or [
            StockRow(name, (item.location if item else None) or "", 0.0, item.unit if item else "", None)
        ]
        for row in rows:
            expiring = row.expires.isoformat() if row.expires and row.expires <= soon else ""
            line = StockLine(
                name, row.location, row.quantity, item.unit if item else row.unit, par, low, expiring
            )
            if _matches(line, item.aliases if item else (), search):
                lines.append(line)
    places = {p.casefold(): n for n, p in enumerate(catalogue.locations)}
    return sorted(lines, key=lambda line: (places.get(line.location.casefold(), len(places)), line.location))


def _matches(line: StockLine, aliases: Iterable[str], search: str) -> bool:
    wanted = search.strip().casefold()
    return not wanted or any(wanted in text.casefold() for text in (line.item, line.location, *aliases))


def local_time(at: str) -> datetime:
    """A journal time (UTC, ``...Z``) in this unit's local time."""
    return datetime.fromisoformat(at.replace("Z", "+00:00")).astimezone()


def journal_rows(
    events: Sequence[JournalEvent],
    quarantined: Iterable[str],
    *,
    day: str = "",
    item: str = "",
    action: str = "",
) -> list[JournalLine]:
    """The events, newest first, filtered by local day (``YYYY-MM-DD``), item and action (empty: any)."""
    held = set(quarantined)
    lines = []
    for event in reversed(events):
        when = local_time(event.at)
        if day and when.date().isoformat() != day:
            continue
        if item and (event.item or "").casefold() != item.casefold():
            continue
        if action and event.action != action:
            continue
        sync = "synced" if event.synced else "quarantined" if event.id in held else "waiting"
        lines.append(
            JournalLine(
                id=event.id,
                time=when.strftime("%Y-%m-%d %H:%M:%S"),
                transcript=event.transcript,
                action=event.action,
                item=event.item or "",
                quantity=event.quantity,
                unit=event.unit or "",
                location=event.location or "",
                resolver=event.resolver,
                confirmation=event.confirmation,
                outcome=event.outcome,
                sync=sync,
            )
        )
    return lines


def waste_by_item(events: Sequence[JournalEvent], catalogue: Catalogue, now: datetime) -> list[Waste]:
    """Applied waste per item (base units) over the last 7 and 30 days, undone waste left out; most first."""
    undone = {e.reverses for e in events if e.reverses and e.outcome == "applied"}
    now = now.astimezone(UTC)
    week: dict[str, float] = {}
    month: dict[str, float] = {}
    units: dict[str, str] = {}
    for event in events:
        if event.action != "waste" or event.outcome != "applied" or event.id in undone:
            continue
        age = now - datetime.fromisoformat(event.at.replace("Z", "+00:00"))
        if age > timedelta(days=30):
            continue
        for delta in event.deltas:
            amount = -delta.quantity
            month[delta.item] = month.get(delta.item, 0.0) + amount
            if age <= timedelta(days=7):
                week[delta.item] = week.get(delta.item, 0.0) + amount
            known = catalogue.get(delta.item)
            units[delta.item] = known.unit if known else event.unit or ""
    found = [Waste(i, units[i], round(week.get(i, 0.0), 6), round(q, 6)) for i, q in month.items()]
    return sorted(found, key=lambda w: (-w.last_30_days, w.item))


def to_csv(rows: Sequence[Any], row_type: type) -> str:
    """Rows of the dataclass ``row_type`` as CSV text with a header line (its field names)."""
    out = io.StringIO()
    names = [f.name for f in fields(row_type)]
    writer = csv.DictWriter(out, fieldnames=names, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        values: Mapping[str, Any] = asdict(row)
        writer.writerow({k: _cell(values.get(k)) for k in names})
    return out.getvalue()


def _cell(value: Any) -> Any:
    """Text a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``) is quoted with a leading ``'``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
