"""A stocktake CSV: rows read into ``set`` commands, every bad row named at once, nothing counted unless all are
good, and the counts applied through the journal of a real SQLite store."""

from __future__ import annotations

from pathlib import Path

import pytest

from device.errors import CatalogError
from device.intent.command import Action, Command, Resolver
from device.inventory.apply import Inventory
from device.inventory.catalog import Catalogue, demo_catalogue
from device.inventory.stocktake import check, count, load_stocktake, parse_stocktake
from device.inventory.store import Store

GOOD = """item,quantity,unit,location
oat milk,2,cases,
Oatly,5,,bar
eggs,30,,
butter,10,lb,walk-in
"""


def _set(catalogue: Catalogue, row: str) -> Command:
    return parse_stocktake(f"item,quantity\n{row}\n", catalogue).rows[0].command


def _stock(store: Store) -> dict[tuple[str, str], float]:
    return {(row.item, row.location): row.quantity for row in store.stock()}


def test_rows_become_manual_set_commands(catalogue: Catalogue) -> None:
    stocktake = parse_stocktake(GOOD, catalogue, source="count.csv")
    assert not stocktake.errors
    assert [row.line for row in stocktake.rows] == [2, 3, 4, 5]
    first, alias, eggs, butter = (row.command for row in stocktake.rows)
    assert (first.action, first.item, first.quantity, first.unit, first.location) == (
        Action.SET,
        "oat milk",
        2,
        "case",
        "walk-in",  # the item's own place when the row names none
    )
    assert first.resolver is Resolver.MANUAL and first.text == "stocktake count.csv line 2"
    assert (alias.item, alias.location) == ("oat milk", "bar")  # an alias names the item
    assert eggs.unit is None and butter.unit == "pound"


def test_counting_sets_stock_and_journals_each_row(
    store: Store, inventory: Inventory, catalogue: Catalogue
) -> None:
    inventory.execute(_set(catalogue, "eggs,12"))  # an earlier count, replaced
    stocktake = parse_stocktake(GOOD, catalogue)
    replies = count(inventory, stocktake)
    assert len(replies) == 4 and "24 cartons" in replies[0]
    stock = _stock(store)
    assert stock[("oat milk", "walk-in")] == 24  # 2 cases of 12
    assert stock[("oat milk", "bar")] == 5
    assert stock[("eggs", "walk-in")] == 30
    events = store.journal()[-4:]
    assert [e.action for e in events] == ["set"] * 4
    assert {e.confirmation for e in events} == {"none"} and {e.resolver for e in events} == {"manual"}
    count(inventory, stocktake)  # counting the same file again changes nothing
    assert _stock(store) == stock


def test_every_bad_row_is_named_and_nothing_is_counted(
    store: Store, inventory: Inventory, catalogue: Catalogue
) -> None:
    text = (
        "item,quantity,unit,location\n"
        "oat milk,24,,\n"
        "oatmilk,3,,\n"  # not an item: a suggestion
        "eggs,-1,,\n"
        "butter,2 pounds,,\n"
        "flour,3,litre,\n"  # not a unit flour is counted in
        "salmon,4,,garage\n"  # not a place
        "basil,1e9,,\n"  # more than the unit allows
        "oat milk,5,,walk-in\n"  # counted twice
        "lids,3,,,extra\n"
    )
    stocktake = parse_stocktake(text, catalogue, source="bad.csv")
    with pytest.raises(CatalogError) as raised:
        check(inventory, stocktake)
    message = str(raised.value)
    assert "nothing counted, 8 bad row(s)" in message
    for line, words in [
        (3, "oat milk"),
        (4, "'-1'"),
        (5, "'2 pounds'"),
        (6, "litre"),
        (7, "garage"),
        (8, "more than"),
        (9, "already counted on line 2"),
        (10, "more values than columns"),
    ]:
        assert f"line {line}: " in message and words in message.split(f"line {line}: ")[1], (line, message)
    with pytest.raises(CatalogError):
        count(inventory, stocktake)
    assert _stock(store) == {} and store.journal() == []


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("name,qty\noat milk,3\n", "missing: item, quantity"),
        ("item,quantity,colour\noat milk,3,red\n", "unknown: 'colour'"),
        ("item,quantity\n\n", "no rows to count"),
        ("", "the header must be"),
    ],
)
def test_an_unusable_file_says_why(catalogue: Catalogue, text: str, words: str) -> None:
    with pytest.raises(CatalogError, match=words):
        parse_stocktake(text, catalogue)


def test_unreadable_files(tmp_path: Path, catalogue: Catalogue) -> None:
    with pytest.raises(CatalogError, match="cannot read"):
        load_stocktake(tmp_path / "absent.csv", catalogue)
    binary = tmp_path / "count.csv"
    binary.write_bytes(b"item,quantity\n\xff\xfe,3\n")
    with pytest.raises(CatalogError, match="cannot read"):
        load_stocktake(binary, catalogue)


def test_the_demo_opening_stock_counts_against_the_demo_catalogue(tmp_path: Path) -> None:
    demo = Path(__file__).resolve().parents[2] / "device" / "data" / "demo_stock.csv"
    with Store.open(tmp_path / "larder.db", device_id="demo") as store:
        store.replace_catalogue(demo_catalogue())
        inventory = Inventory(store)
        stocktake = load_stocktake(demo, store.catalogue())
        count(inventory, stocktake)
        assert len(store.stock()) == len(stocktake.rows) >= 10
