"""Undo chains, questions answered from the store (query, expiring, low) and confirmation wording."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from device.intent.command import Action, Command, Resolver
from device.inventory.apply import Inventory
from device.inventory.records import Delta
from device.inventory.store import Store

from .conftest import TODAY

OAT = "oat milk"
THU, FRI = date(2026, 11, 26), date(2026, 11, 27)


def test_undo_walks_back_one_change_at_a_time(inventory: Inventory, store: Store) -> None:
    inventory.execute(Command(Action.ADD, OAT, 12, expires=FRI))
    inventory.execute(Command(Action.ADD, OAT, 3))
    inventory.execute(Command(Action.USE, OAT, 5))
    inventory.execute(Command(Action.SET, OAT, 20))
    snapshots = []
    for _ in range(4):
        snapshots.append(store.lots(OAT, signed=True))
        assert inventory.undo(transcript="undo").status == "undone"
    assert snapshots == [
        [Delta(OAT, "walk-in", 20)],
        [Delta(OAT, "walk-in", 7, FRI), Delta(OAT, "walk-in", 3)],
        [Delta(OAT, "walk-in", 12, FRI), Delta(OAT, "walk-in", 3)],
        [Delta(OAT, "walk-in", 12, FRI)],
    ]
    assert store.stock() == []
    assert inventory.undo().reply == "Nothing to undo."
    undos = [e for e in store.journal() if e.action == "undo"]
    originals = [e for e in store.journal() if e.action != "undo"]
    assert [u.reverses for u in undos] == [e.id for e in reversed(originals)]
    assert all(u.outcome == "applied" and u.transcript == "undo" for u in undos)


def test_undo_replies(inventory: Inventory) -> None:
    inventory.execute(Command(Action.ADD, OAT, 12))
    inventory.execute(Command(Action.ADD, OAT, 3))
    assert inventory.undo().reply == "Undid adding 3 cartons of oat milk. 12 left."
    inventory.execute(Command(Action.USE, OAT, 1, "case"))
    assert inventory.undo().reply == "Undid using 1 case of oat milk. 12 left."
    inventory.execute(Command(Action.SET, OAT, 4))
    assert inventory.undo().reply == "Undid setting oat milk to 4 cartons. 12 left."
    inventory.execute(Command(Action.OUT, OAT))
    assert inventory.undo().reply == "Undid marking oat milk as out. 12 left."
    inventory.execute(Command(Action.MOVE, OAT, 2, to_location="bar"))
    assert inventory.undo().reply == "Undid moving 2 cartons of oat milk to the bar."
    inventory.execute(Command(Action.WASTE, "salmon", 1))
    assert inventory.undo().reply == "Undid wasting 1 pound of salmon. 0 left."


def test_undo_through_execute_records_its_words(inventory: Inventory, store: Store) -> None:
    inventory.execute(Command(Action.ADD, OAT, 2))
    result = inventory.execute(
        Command(Action.UNDO, text="scratch that", resolver=Resolver.LLM), confirmation="explicit"
    )
    assert result.status == "undone" and result.event is not None
    assert (result.event.transcript, result.event.resolver, result.event.confirmation) == (
        "scratch that",
        "llm",
        "explicit",
    )
    assert result.event.deltas == (Delta(OAT, "walk-in", -2),)


def test_undo_skips_refusals_audits_and_other_units(
    inventory: Inventory, store: Store, db_path: Path
) -> None:
    inventory.execute(Command(Action.ADD, OAT, 2))
    inventory.execute(Command(Action.ADD, OAT, 20000))  # refused
    inventory.audit(Command(Action.OUT, OAT), confirmation="explicit", outcome="cancelled")
    with Store.open(db_path, device_id="unit-b") as other:
        Inventory(other).execute(Command(Action.ADD, OAT, 7))
    result = inventory.undo()
    assert result.reply == "Undid adding 2 cartons of oat milk. 7 left."
    assert store.quantity(OAT) == 7


def test_undo_that_drives_stock_negative_says_so(inventory: Inventory, store: Store, db_path: Path) -> None:
    inventory.execute(Command(Action.ADD, OAT, 5))
    with Store.open(db_path, device_id="unit-b") as other:  # another unit used them meanwhile
        Inventory(other).execute(Command(Action.USE, OAT, 5))
    result = inventory.undo()
    assert result.status == "undone"
    assert (
        result.reply
        == "Undid adding 5 cartons of oat milk. That leaves -5 in the walk-in, so check the count."
    )
    assert result.warning is not None
    assert store.quantity(OAT) == -5


def test_query_per_place(inventory: Inventory) -> None:
    inventory.execute(Command(Action.ADD, OAT, 3, location="bar"))
    inventory.execute(Command(Action.ADD, OAT, 12))
    result = inventory.execute(Command(Action.QUERY, OAT))
    assert (result.status, result.reply) == (
        "answered",
        "We have 15 cartons of oat milk: 12 in the walk-in and 3 at the bar.",
    )
    assert inventory.execute(Command(Action.QUERY, OAT, location="bar")).reply == (
        "We have 3 cartons of oat milk at the bar."
    )
    assert inventory.execute(Command(Action.QUERY, "butter")).reply == "We're out of butter."
    assert inventory.execute(Command(Action.QUERY, None, unmatched="oat mlik")).reply == (
        "I don't know 'oat mlik'. Did you mean oat milk?"
    )
    inventory.execute(Command(Action.ADD, "eggs", 2, "dozen"))
    assert inventory.execute(Command(Action.QUERY, None, location="walk-in")).reply == (
        "In the walk-in: 24 eggs and 12 cartons of oat milk."
    )
    assert inventory.execute(Command(Action.QUERY, None)).reply == "I didn't catch which item."


def test_expiring_this_week(inventory: Inventory, store: Store) -> None:
    inventory.execute(Command(Action.ADD, "eggs", 12, expires=FRI))
    inventory.execute(Command(Action.ADD, "whole milk", 1, expires=THU))
    inventory.execute(Command(Action.ADD, "whole milk", 1, location="bar", expires=THU))
    inventory.execute(Command(Action.ADD, OAT, 6, expires=date(2026, 12, 10)))
    inventory.execute(Command(Action.ADD, "butter", 2))
    result = inventory.execute(Command(Action.EXPIRING))
    assert (result.status, result.reply) == (
        "answered",
        "Two things expire this week: 2 gallons of whole milk tomorrow and 12 eggs on Friday.",
    )
    assert inventory.execute(Command(Action.EXPIRING, within_days=1)).reply == (
        "One thing expires by tomorrow: 2 gallons of whole milk tomorrow."
    )
    assert inventory.execute(Command(Action.EXPIRING, "eggs")).reply == (
        "One thing expires this week: 12 eggs on Friday."
    )
    assert inventory.execute(Command(Action.EXPIRING, within_days=30)).reply.startswith("Three things")
    later = Inventory(store, today=lambda: date(2026, 11, 28))
    assert later.execute(Command(Action.EXPIRING, within_days=0)).reply == (
        "Two things have expired: 2 gallons of whole milk on Thursday and 12 eggs yesterday."
    )
    assert store.journal()[-1].action == "add"  # answers write nothing


def test_used_up_lots_no_longer_expire(inventory: Inventory) -> None:
    inventory.execute(Command(Action.ADD, "eggs", 12, expires=FRI))
    inventory.execute(Command(Action.USE, "eggs", 12))
    assert inventory.execute(Command(Action.EXPIRING)).reply == "Nothing expires this week."


def test_low_lists_items_below_par_most_urgent_first(inventory: Inventory, store: Store) -> None:
    catalogue = store.catalogue()
    for item in catalogue.items:  # stock everything at par
        inventory.execute(Command(Action.SET, item.name, item.par))
    inventory.execute(Command(Action.USE, OAT, 14))  # 10 of 24
    inventory.execute(Command(Action.USE, "basil", 3))  # 1 of 4
    inventory.execute(Command(Action.USE, "lids", 1))  # 19 of 20
    result = inventory.execute(Command(Action.LOW))
    assert (result.status, result.reply) == ("answered", "Low on 3 items: basil, oat milk and lids.")
    assert inventory.execute(Command(Action.LOW, OAT)).reply == "Oat milk is low: 10 of 24 cartons."
    assert inventory.execute(Command(Action.LOW, "butter")).reply == "Butter is fine: 10 of 10 pounds."
    inventory.execute(Command(Action.ADD, OAT, 20))
    inventory.execute(Command(Action.ADD, "lids", 1))
    assert inventory.execute(Command(Action.LOW)).reply == "Low on basil: 1 of 4 bunches."
    inventory.execute(Command(Action.ADD, "basil", 5))
    assert inventory.execute(Command(Action.LOW)).reply == "Nothing is below par."


def test_describe_asks_in_plain_words(inventory: Inventory) -> None:
    assert inventory.describe(Command(Action.SET, OAT, 0)) == "Set oat milk to zero?"
    assert inventory.describe(Command(Action.OUT, "salmon")) == "Mark salmon as out?"
    assert (
        inventory.describe(Command(Action.ADD, OAT, 40, "case")) == "Add 40 cases of oat milk to the walk-in?"
    )
    assert inventory.describe(Command(Action.MOVE, OAT, 2, "case", to_location="bar")) == (
        "Move 2 cases of oat milk from the walk-in to the bar?"
    )
    assert inventory.describe(Command(Action.WASTE, "salmon", 3)) == "Waste 3 pounds of salmon?"
    assert inventory.describe(Command(Action.UNDO)) == "Nothing to undo."
    inventory.execute(Command(Action.ADD, OAT, 3))
    assert inventory.describe(Command(Action.UNDO)) == "Undo adding 3 cartons of oat milk?"
    assert inventory.describe(Command(Action.USE, None, 1, candidates=(OAT, "whole milk"))) == (
        "Did you mean oat milk or whole milk?"
    )


def test_today_comes_from_the_callable(store: Store) -> None:
    assert Inventory(store, today=lambda: TODAY).today() == TODAY
