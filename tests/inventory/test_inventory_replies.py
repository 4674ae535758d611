"""The wording of outcomes: natural numbers, plural units, places, lists and dates."""

from __future__ import annotations

from datetime import date

import pytest

from device.inventory import replies
from device.inventory.catalog import Catalogue, Item

WEDNESDAY = date(2026, 11, 25)


@pytest.mark.parametrize(
    ("value", "said"),
    [(3.0, "3"), (1.5, "1.5"), (0.25, "0.25"), (1.333333, "1.33"), (-2.0, "-2"), (12000, "12,000"), (0, "0")],
)
def test_numbers_are_natural(value: float, said: str) -> None:
    assert replies.number(value) == said


@pytest.mark.parametrize(
    ("quantity", "unit", "name", "said"),
    [
        (1, "carton", "oat milk", "1 carton of oat milk"),
        (3, "carton", "oat milk", "3 cartons of oat milk"),
        (3, "case", "oat milk", "3 cases of oat milk"),
        (1.5, "kg", "flour", "1.5 kilograms of flour"),
        (1, "kilogram", "flour", "1 kilogram of flour"),
        (2, "loaf", "sourdough", "2 loaves of sourdough"),
        (1, "box", "straws", "1 box of straws"),
        (2, "box", "straws", "2 boxes of straws"),
        (2, "bunch", "basil", "2 bunches of basil"),
        (12, None, "eggs", "12 eggs"),
        (1, "each", "eggs", "1 egg"),
        (2, "dozen", "eggs", "2 dozen eggs"),
        (2, "lb", "butter", "2 pounds of butter"),
    ],
)
def test_amounts(catalogue: Catalogue, quantity: float, unit: str | None, name: str, said: str) -> None:
    assert replies.amount(quantity, unit, catalogue[name]) == said


def test_singular_of_a_counted_item_without_an_alias() -> None:
    assert replies.amount(1, "each", Item(name="lemons", unit="each")) == "1 lemon"
    assert replies.amount(1, "each", Item(name="tomatoes", unit="each")) == "1 tomato"
    assert replies.amount(1, "each", Item(name="cherries", unit="each")) == "1 cherry"
    assert replies.amount(3, "each", Item(name="bagel", unit="each")) == "3 bagels"


def test_places() -> None:
    assert replies.at("walk-in") == "in the walk-in"
    assert replies.at("bar") == "at the bar"
    assert replies.at("dry store") == "in the dry store"
    assert replies.place("the cellar") == "the cellar"


def test_lists() -> None:
    assert replies.joined(["a"]) == "a"
    assert replies.joined(["a", "b"]) == "a and b"
    assert replies.joined(["a", "b", "c"], "or") == "a, b or c"


@pytest.mark.parametrize(
    ("when", "said"),
    [
        (date(2026, 11, 25), "today"),
        (date(2026, 11, 26), "tomorrow"),
        (date(2026, 11, 24), "yesterday"),
        (date(2026, 11, 27), "on Friday"),
        (date(2026, 11, 23), "on Monday"),
        (date(2026, 12, 3), "on 3 December"),
    ],
)
def test_days(when: date, said: str) -> None:
    assert replies.day(when, WEDNESDAY) == said


def test_change_sentences(catalogue: Catalogue) -> None:
    oat = catalogue["oat milk"]
    tail = replies.left(60, oat, added=True, said_unit="case")
    assert replies.added("3 cases of oat milk", "walk-in", tail) == (
        "Added 3 cases of oat milk to the walk-in. 60 cartons in stock."
    )
    assert replies.left(15, oat, added=True, said_unit="carton") == "15 in stock."
    assert replies.used("use", "2 pounds of butter", "8 left.") == "Used 2 pounds of butter. 8 left."
    assert replies.used("waste", "1 pound of salmon", "3 left.", "walk-in") == (
        "Wasted 1 pound of salmon from the walk-in. 3 left."
    )
    assert replies.negative(-2) == "That leaves -2, so check the count."
    assert replies.negative(-2, "bar") == "That leaves -2 at the bar, so check the count."
    assert replies.now(oat, 12, "walk-in") == "Oat milk is now 12 cartons in the walk-in."
    assert replies.now(catalogue["eggs"], 0, "walk-in") == "Eggs are now zero in the walk-in."
    assert replies.marked_out(catalogue["salmon"], None) == "Marked salmon as out."
    assert replies.moved("2 cases of oat milk", "walk-in", "bar") == (
        "Moved 2 cases of oat milk from the walk-in to the bar."
    )


def test_query_sentences(catalogue: Catalogue) -> None:
    oat = catalogue["oat milk"]
    assert replies.have(oat, [("walk-in", 12), ("bar", 3)], None) == (
        "We have 15 cartons of oat milk: 12 in the walk-in and 3 at the bar."
    )
    assert replies.have(oat, [("walk-in", 12)], None) == "We have 12 cartons of oat milk in the walk-in."
    assert replies.have(oat, [], None) == "We're out of oat milk."
    assert replies.have(oat, [], "bar") == "There's no oat milk at the bar."
    assert replies.have(oat, [("walk-in", -2)], None) == "The count for oat milk is -2, so check it."


def test_expiring_sentences(catalogue: Catalogue) -> None:
    eggs, milk, oat = catalogue["eggs"], catalogue["whole milk"], catalogue["oat milk"]
    soon = [(milk, 2, date(2026, 11, 26)), (eggs, 12, date(2026, 11, 27))]
    assert replies.expiring(soon, WEDNESDAY, 7) == (
        "Two things expire this week: 2 gallons of whole milk tomorrow and 12 eggs on Friday."
    )
    assert (
        replies.expiring(soon[:1], WEDNESDAY, 1)
        == "One thing expires by tomorrow: 2 gallons of whole milk tomorrow."
    )
    assert replies.expiring([], WEDNESDAY, 7) == "Nothing expires this week."
    gone = [(oat, 3, date(2026, 11, 24))]
    assert replies.expiring(gone + soon[:1], WEDNESDAY, 7) == (
        "3 cartons of oat milk expired yesterday, and one thing expires this week: "
        "2 gallons of whole milk tomorrow."
    )


def test_low_sentences(catalogue: Catalogue) -> None:
    oat, basil, lids = catalogue["oat milk"], catalogue["basil"], catalogue["lids"]
    assert replies.low([(oat, 3), (basil, 1), (lids, 2)]) == "Low on 3 items: oat milk, basil and lids."
    assert replies.low([(oat, 10)]) == "Low on oat milk: 10 of 24 cartons."
    assert replies.low([]) == "Nothing is below par."
    many = [(Item(name=f"thing {n}", unit="each", par=5), 0.0) for n in range(8)]
    assert replies.low(many) == "Low on 8 items: thing 0, thing 1, thing 2, thing 3 and 4 more."


def test_refusal_sentences(catalogue: Catalogue) -> None:
    assert replies.unknown_item("oat mlik", ["oat milk"]) == "I don't know 'oat mlik'. Did you mean oat milk?"
    assert replies.unknown_item("zzz", []) == "I don't know 'zzz'."
    assert replies.ambiguous(["oat milk", "whole milk"]) == "Did you mean oat milk or whole milk?"
    assert replies.too_much(10000) == "That's more than 10,000, so I didn't change anything."
    assert replies.wrong_unit(catalogue["flour"], "bottle") == "Flour is counted in kilograms, not bottles."
    assert replies.wrong_unit(catalogue["eggs"], "kg") == "Eggs are counted one by one, not in kilograms."
    assert replies.didnt_catch() == "Sorry, I didn't catch that."


def test_questions(catalogue: Catalogue) -> None:
    oat = catalogue["oat milk"]
    assert replies.question("set", oat, 1, "case", "bar", None) == "Set oat milk to 1 case at the bar?"
    assert replies.question("set", catalogue["eggs"], 12, None, None, None) == "Set eggs to 12?"
    assert replies.undo_question("set", oat, 4, "carton", None) == "Undo setting oat milk to 4 cartons?"
    assert replies.question("set", oat, 0, None, None, None) == "Set oat milk to zero?"
    assert replies.question("out", catalogue["salmon"], None, None, None, None) == "Mark salmon as out?"
    assert replies.question("move", oat, 2, "case", "walk-in", "bar") == (
        "Move 2 cases of oat milk from the walk-in to the bar?"
    )
    assert replies.undo_question("add", oat, 3, "carton", None) == "Undo adding 3 cartons of oat milk?"


def test_asking_for_an_amount_counts_or_measures(catalogue: Catalogue) -> None:
    assert replies.how_much(catalogue["eggs"]) == "I didn't catch how many eggs."
    assert replies.how_much(catalogue["butter"]) == "I didn't catch how much butter."
