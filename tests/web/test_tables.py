"""What the Stock and Journal pages list, and their CSV: pure functions over plain records."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

from device.inventory.catalog import Catalogue, Item
from device.inventory.records import Delta, JournalEvent, StockRow
from device.web.tables import JournalLine, StockLine, journal_rows, stock_rows, to_csv, waste_by_item

CATALOGUE = Catalogue(
    items=(
        Item("oat milk", "carton", ("oat",), "walk-in", 24),
        Item("eggs", "each", (), "walk-in", 60),
        Item("spinach", "bag", (), "walk-in", None),
        Item("sugar", "pound", (), "dry store", 10),
    ),
    locations=("walk-in", "dry store"),
)
TODAY = date(2026, 12, 7)


def test_every_item_by_place_with_low_and_expiring_marks() -> None:
    stock = [
        StockRow("oat milk", "walk-in", 20, "carton", None),
        StockRow("oat milk", "front", 6, "carton", None),
        StockRow("eggs", "walk-in", 30, "each", TODAY + timedelta(days=2)),
        StockRow("spinach", "walk-in", 2, "bag", TODAY + timedelta(days=9)),
    ]
    rows = stock_rows(CATALOGUE, stock, TODAY)
    assert [(r.item, r.location, r.quantity, r.low, r.expiring) for r in rows] == [
        ("oat milk", "walk-in", 20, False, ""),  # 26 in all: not under par 24
        ("eggs", "walk-in", 30, True, "2026-12-09"),
        ("spinach", "walk-in", 2, False, ""),  # no par; expiry too far off
        ("sugar", "dry store", 0.0, True, ""),  # none in stock: listed at its place, at zero
        ("oat milk", "front", 6, False, ""),  # a place the catalogue does not name comes last
    ]
    assert [r.item for r in stock_rows(CATALOGUE, stock, TODAY, search="OAT")] == ["oat milk", "oat milk"]
    assert [r.item for r in stock_rows(CATALOGUE, stock, TODAY, search="dry")] == ["sugar"]
    assert stock_rows(CATALOGUE, stock, TODAY, search="caviar") == []


def _event(n: int, at: datetime, action: str, item: str, quantity: float, **extra: object) -> JournalEvent:
    fields: dict[str, object] = {
        "id": f"e{n}", "device_id": "d", "at": at.strftime("%Y-%m-%dT%H:%M:%S.000Z"), "action": action,
        "item": item, "quantity": quantity, "unit": "bag", "location": "walk-in", "to_location": None,
        "transcript": f"{action} {item}", "resolver": "grammar", "confirmation": "implicit", "outcome": "applied",
        "reverses": None, "deltas": (Delta(item, "walk-in", -quantity if action == "waste" else quantity),),
        "synced": False,
    }  # fmt: skip
    fields.update(extra)
    return JournalEvent(**fields)  # type: ignore[arg-type]


NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
EVENTS = [
    _event(1, NOW - timedelta(days=20), "waste", "spinach", 3, synced=True),
    _event(2, NOW - timedelta(days=3), "waste", "spinach", 1),
    _event(3, NOW - timedelta(days=2), "waste", "eggs", 6),
    _event(4, NOW - timedelta(days=2, seconds=-5), "undo", "eggs", 6, reverses="e3",
           deltas=(Delta("eggs", "walk-in", 6),)),
    _event(5, NOW - timedelta(days=1), "add", "eggs", 12, resolver="screen", transcript="corrected on screen"),
    _event(6, NOW - timedelta(days=40), "waste", "sugar", 2),
    _event(7, NOW - timedelta(hours=1), "waste", "spinach", 2, outcome="cancelled", deltas=()),
]  # fmt: skip


def test_waste_by_item_leaves_out_undone_cancelled_and_old_waste() -> None:
    waste = waste_by_item(EVENTS, CATALOGUE, NOW)
    assert [(w.item, w.unit, w.last_7_days, w.last_30_days) for w in waste] == [("spinach", "bag", 1, 4)]


def test_journal_filters_and_sync_state() -> None:
    rows = journal_rows(EVENTS, quarantined=["e2"])
    assert [r.id for r in rows] == ["e7", "e6", "e5", "e4", "e3", "e2", "e1"]  # newest in journal order first
    assert {r.id: r.sync for r in rows}["e1"] == "synced"
    assert {r.id: r.sync for r in rows}["e2"] == "quarantined"
    assert {r.id: r.sync for r in rows}["e3"] == "waiting"
    assert [r.id for r in journal_rows(EVENTS, [], item="EGGS")] == ["e5", "e4", "e3"]
    assert [r.id for r in journal_rows(EVENTS, [], action="waste", item="spinach")] == ["e7", "e2", "e1"]
    day = rows[2].time[:10]
    assert [r.id for r in journal_rows(EVENTS, [], day=day)] == ["e5"]
    assert journal_rows(EVENTS, [], day="1999-01-01") == []


def test_csv_has_a_header_parses_back_and_defuses_formulas() -> None:
    events = [*EVENTS, _event(8, NOW, "add", "eggs", 2, transcript='=HYPERLINK("http://x")')]
    text = to_csv(journal_rows(events, []), JournalLine)
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert list(parsed[0]) == [
        "id", "time", "transcript", "action", "item", "quantity", "unit", "location", "resolver",
        "confirmation", "outcome", "sync",
    ]  # fmt: skip
    assert len(parsed) == len(events)
    assert parsed[0]["transcript"].startswith("'=HYPERLINK")
    assert parsed[0]["quantity"] == "2" and parsed[3]["resolver"] == "screen"
    empty = to_csv([], StockLine)
    assert empty.strip() == "item,location,quantity,unit,par,low,expiring"
    stock = to_csv(stock_rows(CATALOGUE, [StockRow("eggs", "walk-in", 7.5, "each", None)], TODAY), StockLine)
    first = next(csv.DictReader(io.StringIO(stock)))
    assert first == {"item": "oat milk", "location": "walk-in", "quantity": "0", "unit": "carton", "par": "24",
                     "low": "yes", "expiring": ""}  # fmt: skip
