"""Applying stock changes through Inventory.execute on a real store: replies, deltas, lots and refusals."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from device.errors import StoreError
from device.intent.command import Action, Command, Resolver
from device.inventory.apply import Inventory, Result
from device.inventory.records import Delta
from device.inventory.store import Store

OAT = "oat milk"
FRI, SAT, SUN = date(2026, 11, 27), date(2026, 11, 28), date(2026, 11, 29)


def do(
    inventory: Inventory, action: Action, item: str | None = OAT, quantity: float | None = None, **kw: Any
) -> Result:
    return inventory.execute(Command(action, item, quantity, **kw))


def test_add_in_packs_says_the_total_in_base_units(inventory: Inventory, store: Store) -> None:
    result = do(
        inventory, Action.ADD, OAT, 3, unit="case", location="walk-in", text="add three cases of oat milk"
    )
    assert result.status == "applied"
    assert result.reply == "Added 3 cases of oat milk to the walk-in. 36 cartons in stock."
    assert result.event is not None and result.event.deltas == (Delta(OAT, "walk-in", 36),)
    assert (result.event.quantity, result.event.unit, result.event.transcript) == (
        3,
        "case",
        "add three cases of oat milk",
    )
    assert store.quantity(OAT) == 36


def test_add_defaults_to_the_items_place_and_unit(inventory: Inventory, store: Store) -> None:
    do(inventory, Action.ADD, OAT, 12)
    result = do(inventory, Action.ADD, OAT, 3)
    assert result.reply == "Added 3 cartons of oat milk to the walk-in. 15 in stock."
    assert result.event is not None
    assert (result.event.location, result.event.unit) == ("walk-in", "carton")
    assert do(inventory, Action.ADD, "syrup", 1).reply == "Added 1 bottle of syrup to the bar. 1 in stock."


def test_add_with_an_expiry_keeps_a_lot(inventory: Inventory, store: Store) -> None:
    do(inventory, Action.ADD, "eggs", 2, unit="dozen", expires=FRI)
    result = do(inventory, Action.ADD, "eggs", 6, expires=SAT)
    assert result.reply == "Added 6 eggs to the walk-in. 30 in stock."
    assert store.lots("eggs") == [Delta("eggs", "walk-in", 24, FRI), Delta("eggs", "walk-in", 6, SAT)]


def test_use_takes_the_soonest_expiry_first(inventory: Inventory, store: Store) -> None:
    do(inventory, Action.ADD, OAT, 5)
    do(inventory, Action.ADD, OAT, 4, expires=SAT)
    do(inventory, Action.ADD, OAT, 3, expires=FRI)
    result = do(inventory, Action.USE, OAT, 5)
    assert result.reply == "Used 5 cartons of oat milk. 7 left."
    assert result.event is not None
    assert result.event.deltas == (Delta(OAT, "walk-in", -3, FRI), Delta(OAT, "walk-in", -2, SAT))
    assert store.lots(OAT) == [Delta(OAT, "walk-in", 2, SAT), Delta(OAT, "walk-in", 5)]


def test_use_without_a_place_reaches_other_places_before_going_negative(
    inventory: Inventory, store: Store
) -> None:
    do(inventory, Action.ADD, OAT, 2)
    do(inventory, Action.ADD, OAT, 3, location="bar", expires=FRI)
    result = do(inventory, Action.USE, OAT, 4)
    assert result.reply == "Used 4 cartons of oat milk. 1 left." and result.warning is None
    assert store.quantity(OAT, "walk-in") == 0 and store.quantity(OAT, "bar") == 1


def test_use_at_a_named_place_takes_only_from_there(inventory: Inventory, store: Store) -> None:
    do(inventory, Action.ADD, OAT, 10)
    do(inventory, Action.ADD, OAT, 1, location="bar")
    result = do(inventory, Action.USE, OAT, 3, location="bar")
    assert (
        result.reply
        == "Used 3 cartons of oat milk from the bar. That leaves -2 at the bar, so check the count."
    )
    assert result.warning == "oat milk is below zero at the bar: -2 cartons"
    assert store.quantity(OAT, "walk-in") == 10 and store.quantity(OAT, "bar") == -2


def test_going_negative_is_applied_and_said(inventory: Inventory, store: Store) -> None:
    do(inventory, Action.ADD, "butter", 8)
    result = do(inventory, Action.USE, "butter", 10, unit="lb")
    assert result.status == "applied"
    assert result.reply == "Used 10 pounds of butter. That leaves -2, so check the count."
    assert result.warning is not None and "below zero" in result.warning
    assert store.quantity("butter") == -2
    # the next delivery makes good the missing count first, then keeps its expiry
    result = do(inventory, Action.ADD, "butter", 5, expires=FRI)
    assert result.reply == "Added 5 pounds of butter to the walk-in. 3 in stock."
    assert store.lots("butter", signed=True) == [Delta("butter", "walk-in", 3, FRI)]
    do(inventory, Action.USE, "butter", 8)
    result = do(inventory, Action.ADD, "butter", 2)
    assert result.reply == "Added 2 pounds of butter to the walk-in. That leaves -3, so check the count."


def test_waste_and_unit_conversion(inventory: Inventory, store: Store) -> None:
    do(inventory, Action.ADD, "flour", 2, unit="bag")
    result = do(inventory, Action.WASTE, "flour", 1500, unit="g")
    assert result.reply == "Wasted 1,500 grams of flour. 48.5 kilograms left."
    assert store.quantity("flour") == 48.5
    result = do(inventory, Action.USE, "butter", 1, unit="kg")
    assert store.quantity("butter") == pytest.approx(-2.204623)


def test_set_replaces_all_lots_at_that_place(inventory: Inventory, store: Store) -> None:
    do(inventory, Action.ADD, OAT, 5, expires=FRI)
    do(inventory, Action.ADD, OAT, 4)
    do(inventory, Action.ADD, OAT, 2, location="bar")
    result = do(inventory, Action.SET, OAT, 12)
    assert result.reply == "Oat milk is now 12 cartons in the walk-in."
    assert store.lots(OAT, location="walk-in") == [Delta(OAT, "walk-in", 12)]
    assert store.quantity(OAT, "bar") == 2
    result = do(inventory, Action.SET, OAT, 1, unit="case", location="bar")
    assert result.reply == "Oat milk is now 12 cartons at the bar."
    assert do(inventory, Action.SET, "eggs", 0).reply == "Eggs are now zero in the walk-in."


def test_out_empties_every_place_or_the_named_one(inventory: Inventory, store: Store) -> None:
    do(inventory, Action.ADD, OAT, 5, expires=FRI)
    do(inventory, Action.ADD, OAT, 2, location="bar")
    result = do(inventory, Action.OUT, OAT, location="bar")
    assert result.reply == "Marked oat milk as out at the bar."
    assert store.quantity(OAT) == 5
    result = do(inventory, Action.OUT, OAT)
    assert result.reply == "Marked oat milk as out."
    assert store.stock() == []
    assert result.event is not None and result.event.deltas == (Delta(OAT, "walk-in", -5, FRI),)
    do(inventory, Action.USE, "salmon", 2)
    do(inventory, Action.OUT, "salmon")
    assert store.quantity("salmon") == 0  # a negative count is cleared too


def test_move_keeps_expiry_dates(inventory: Inventory, store: Store) -> None:
    do(inventory, Action.ADD, OAT, 2, unit="case")
    do(inventory, Action.ADD, OAT, 6, expires=FRI)
    result = do(inventory, Action.MOVE, OAT, 1, unit="case", to_location="bar")
    assert result.reply == "Moved 1 case of oat milk from the walk-in to the bar."
    assert store.lots(OAT, location="bar") == [Delta(OAT, "bar", 6, FRI), Delta(OAT, "bar", 6)]
    assert store.quantity(OAT, "walk-in") == 18 and store.quantity(OAT) == 30


def test_move_everything_and_beyond(inventory: Inventory, store: Store) -> None:
    do(inventory, Action.ADD, OAT, 4)
    result = do(inventory, Action.MOVE, OAT, location="walk-in", to_location="bar")
    assert result.reply == "Moved 4 cartons of oat milk from the walk-in to the bar."
    assert store.quantity(OAT, "bar") == 4
    result = do(inventory, Action.MOVE, OAT, 6, location="bar", to_location="walk-in")
    assert result.reply == (
        "Moved 6 cartons of oat milk from the bar to the walk-in. "
        "That leaves -2 at the bar, so check the count."
    )
    assert result.warning is not None
    assert (store.quantity(OAT, "bar"), store.quantity(OAT, "walk-in")) == (-2, 6)


@pytest.mark.parametrize(
    ("command", "reply"),
    [
        (Command(Action.MOVE, OAT, 1), "Where should the oat milk go?"),
        (Command(Action.MOVE, OAT, 1, to_location="Walk-In"), "The oat milk is already in the walk-in."),
        (Command(Action.MOVE, OAT, None, to_location="bar"), "There's no oat milk in the walk-in to move."),
        (Command(Action.ADD, OAT, 1, location="cellar"), "I don't know a place called 'cellar'."),
        (Command(Action.ADD, OAT, 1, location="walkin"), None),
    ],
)
def test_places_are_checked(inventory: Inventory, store: Store, command: Command, reply: str | None) -> None:
    result = inventory.execute(command)
    if reply is None:
        assert result.status == "applied" and store.quantity(OAT, "walk-in") == 1
    else:
        assert (result.status, result.reply) == ("refused", reply)


def test_a_misheard_place_gets_a_suggestion(inventory: Inventory) -> None:
    result = do(inventory, Action.ADD, OAT, 1, location="dry stor")
    assert result.reply == "I don't know a place called 'dry stor'. Did you mean the dry store?"


@pytest.mark.parametrize(
    ("command", "reply"),
    [
        (
            Command(Action.ADD, None, 3, unmatched="oat mlik"),
            "I don't know 'oat mlik'. Did you mean oat milk?",
        ),
        (Command(Action.ADD, "kombucha", 3), "I don't know 'kombucha'."),
        (
            Command(Action.USE, None, 1, candidates=(OAT, "whole milk")),
            "Did you mean oat milk or whole milk?",
        ),
        (Command(Action.ADD, OAT, 20000), "That's more than 10,000, so I didn't change anything."),
        (Command(Action.ADD, OAT, 10001), "That's more than 10,000, so I didn't change anything."),
        (
            Command(Action.ADD, OAT, 1000, "case"),
            "That's 12,000 cartons, more than 10,000, so I didn't change anything.",
        ),
        (Command(Action.ADD, "flour", 2, "bottle"), "Flour is counted in kilograms, not bottles."),
        (Command(Action.ADD, OAT, 0), "The amount has to be more than zero."),
        (Command(Action.USE, OAT, -2), "The amount has to be more than zero."),
        (Command(Action.ADD, OAT, float("nan")), "The amount has to be more than zero."),
        (Command(Action.SET, OAT, -1), "The amount has to be more than zero."),
        (Command(Action.ADD, OAT, None), "I didn't catch how much oat milk."),
        (Command(Action.ADD, None, 2), "I didn't catch which item."),
    ],
)
def test_refusals_change_nothing_and_are_journalled(
    inventory: Inventory, store: Store, command: Command, reply: str
) -> None:
    result = inventory.execute(command.with_(text="the words"), confirmation="none")
    assert (result.status, result.reply) == ("refused", reply)
    assert store.stock() == []
    [event] = store.journal()
    assert result.event == event
    assert (event.outcome, event.confirmation, event.transcript, event.deltas) == (
        "refused",
        "none",
        "the words",
        (),
    )


def test_the_limit_is_a_setting(store: Store) -> None:
    inventory = Inventory(store, max_quantity=50)
    assert inventory.execute(Command(Action.ADD, OAT, 50)).status == "applied"
    assert (
        inventory.execute(Command(Action.ADD, OAT, 51)).reply
        == "That's more than 50, so I didn't change anything."
    )


def test_a_misheard_alias_is_suggested_by_its_item(inventory: Inventory) -> None:
    result = do(inventory, Action.ADD, None, 1, unmatched="oatlee")
    assert result.reply == "I don't know 'oatlee'. Did you mean oat milk?"


def test_item_names_are_matched_without_case(inventory: Inventory, store: Store) -> None:
    result = do(inventory, Action.ADD, "Oat Milk", 2)
    assert result.event is not None and result.event.item == OAT
    assert store.quantity(OAT) == 2


def test_other_answers_write_nothing(inventory: Inventory, store: Store) -> None:
    assert do(inventory, Action.UNKNOWN, None) == Result("unknown", "Sorry, I didn't catch that.")
    assert do(inventory, Action.CONFIRM, None) == Result("nothing", "There's nothing to confirm.")
    assert do(inventory, Action.CANCEL, None) == Result("nothing", "Okay.")
    assert do(inventory, Action.QUERY, "kombucha").status == "refused"
    assert store.journal() == []


def test_plan_writes_nothing(inventory: Inventory, store: Store) -> None:
    do(inventory, Action.ADD, OAT, 5, expires=FRI)
    planned = inventory.plan(Command(Action.USE, OAT, 7))
    assert planned == [Delta(OAT, "walk-in", -5, FRI), Delta(OAT, "walk-in", -2)]
    assert inventory.plan(Command(Action.QUERY, OAT)) == []
    assert inventory.plan(Command(Action.UNDO)) == [Delta(OAT, "walk-in", -5, FRI)]
    refused = inventory.plan(Command(Action.ADD, "kombucha", 1))
    assert isinstance(refused, Result) and refused.status == "refused" and refused.event is None
    assert isinstance(inventory.plan(Command(Action.UNKNOWN)), Result)
    assert len(store.journal()) == 1 and store.quantity(OAT) == 5


def test_resolver_and_confirmation_are_journalled(inventory: Inventory, store: Store) -> None:
    inventory.execute(
        Command(Action.ADD, OAT, 1, resolver=Resolver.LLM, text="chuck in an oat"), confirmation="explicit"
    )
    [event] = store.journal()
    assert (event.resolver, event.confirmation, event.transcript) == ("llm", "explicit", "chuck in an oat")


def test_audit_records_what_was_not_done(inventory: Inventory, store: Store) -> None:
    out = Command(Action.OUT, OAT, text="we're out of oat milk")
    cancelled = inventory.audit(out, confirmation="explicit", outcome="cancelled")
    timed_out = inventory.audit(
        out.with_(resolver=Resolver.LLM), confirmation="explicit", outcome="timed_out"
    )
    assert [(e.outcome, e.confirmation, e.resolver, e.transcript) for e in store.journal()] == [
        ("cancelled", "explicit", "grammar", "we're out of oat milk"),
        ("timed_out", "explicit", "llm", "we're out of oat milk"),
    ]
    assert store.journal() == [cancelled, timed_out] and store.last_change() is None
    with pytest.raises(StoreError):
        inventory.audit(out, confirmation="explicit", outcome="applied")
