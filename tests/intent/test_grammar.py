"""The grammar, action by action, on the demo catalogue: what was said becomes a ``Command``, the rest None."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from device.intent.command import Action, Command
from device.intent.grammar import Grammar
from device.inventory.catalog import Catalogue, Item
from tests.intent.common import TODAY

# text -> (action, item, quantity, unit, location, to_location)
ROWS: dict[Action, list[tuple[str, tuple[Any, ...]]]] = {
    Action.ADD: [
        ("add three cases of oat milk to the walk-in", ("oat milk", 3, "case", "walk-in", None)),
        ("Add three cartons of oat milk to the walk-in.", ("oat milk", 3, "carton", "walk-in", None)),
        ("okay nabu, add 2 kilos of flour", ("flour", 2, "kilogram", None, None)),
        ("add 3 oat milk", ("oat milk", 3, None, None, None)),
        ("add a dozen eggs", ("eggs", 12, None, None, None)),
        ("add two dozen bagels", ("bagels", 24, None, None, None)),
        ("add half a case of oat milk", ("oat milk", 0.5, "case", None, None)),
        ("add a case of oat milk", ("oat milk", 1, "case", None, None)),
        ("add a case and a half of oat milk", ("oat milk", 1.5, "case", None, None)),
        ("add another case of almond milk", ("almond milk", 1, "case", None, None)),
        ("add oat milk", ("oat milk", 1, None, None, None)),
        ("received 4 pounds of butter", ("butter", 4, "pound", None, None)),
        ("we got a delivery of 2 cases of lemons", ("lemons", 2, "case", None, None)),
        ("restocked the honey, three bottles", ("honey", 3, "bottle", None, None)),
        ("put away six loaves of sourdough", ("sourdough", 6, "loaf", None, None)),
        ("3 cases of soy milk came in", ("soy milk", 3, "case", None, None)),
        ("can you add 2 bottles of caramel syrup please", ("caramel syrup", 2, "bottle", None, None)),
        ("add 5kg of sugar to dry store", ("sugar", 5, "kilogram", "dry store", None)),
        ("add twenty-five lemons", ("lemons", 25, None, None, None)),
        ("add one and a half kilos of flour", ("flour", 1.5, "kilogram", None, None)),
        ("add 1,000 napkins", ("napkins", 1000, None, None, None)),
        ("add 12 avos", ("avocados", 12, None, None, None)),
        ("add 2 crossants", ("croissants", 2, None, None, None)),
        ("add 5 pounds of romas", ("roma tomatoes", 5, "pound", None, None)),
        ("add a couple of sleeves of lids", ("lids", 2, "sleeve", None, None)),
        ("add 20 cups", ("takeaway cups", 20, None, None, None)),
        ("add 3 sleeves of to go cups", ("takeaway cups", 3, "sleeve", None, None)),
        ("add 3 oat milk cartons", ("oat milk", 3, "carton", None, None)),
    ],
    Action.USE: [
        ("used 2 pounds of bacon", ("bacon", 2, "pound", None, None)),
        ("we used three eggs", ("eggs", 3, None, None, None)),
        ("took 3 bagels from the freezer", ("bagels", 3, None, "freezer", None)),
        ("opened a bag of coffee beans", ("coffee beans", 1, "bag", None, None)),
        ("went through a sleeve of cups", ("takeaway cups", 1, "sleeve", None, None)),
        ("pulled two quarts of cream", ("heavy cream", 2, "quart", None, None)),
        ("um so we used like two quarts of heavy cream", ("heavy cream", 2, "quart", None, None)),
    ],
    Action.WASTE: [
        ("waste 2 pints of blueberries", ("blueberries", 2, "pint", None, None)),
        ("tossed 2 avocados", ("avocados", 2, None, None, None)),
        ("threw out half a tray of eggs", ("eggs", 0.5, "tray", None, None)),
        ("binned the spinach", ("spinach", None, None, None, None)),
        ("dropped a case of eggs", ("eggs", 1, "case", None, None)),
        ("2 bottles of whole milk expired", ("whole milk", 2, "bottle", None, None)),
        ("the strawberries went bad, toss 3 pints", ("strawberries", 3, "pint", None, None)),
    ],
    Action.SET: [
        ("we have 12 eggs", ("eggs", 12, None, None, None)),
        ("set eggs to 20", ("eggs", 20, None, None, None)),
        ("count: 14 bagels", ("bagels", 14, None, None, None)),
        ("there are 5 bottles of honey left", ("honey", 5, "bottle", None, None)),
        ("set oat milk to zero", ("oat milk", 0, None, None, None)),
        ("the basil count is zero", ("basil", 0, None, None, None)),
        ("we've got 3 cases of cream in the walk in", ("heavy cream", 3, "case", "walk-in", None)),
    ],
    Action.MOVE: [
        (
            "move 2 cases of oat milk from the walk-in to the bar",
            ("oat milk", 2, "case", "walk-in", "bar"),
        ),
        ("move oat milk to the freezer", ("oat milk", None, None, None, "freezer")),
        ("take 3 bagels from the freezer to the walk in", ("bagels", 3, None, "freezer", "walk-in")),
        ("bring a case of lemons up to the bar", ("lemons", 1, "case", None, "bar")),
        (
            "transfer 2 bottles of vanilla syrup from dry store to the bar",
            ("vanilla syrup", 2, "bottle", "dry store", "bar"),
        ),
    ],
    Action.OUT: [
        ("86 the salmon", ("salmon", None, None, None, None)),
        ("eighty six the salmon", ("salmon", None, None, None, None)),
        ("we're out of basil", ("basil", None, None, None, None)),
        ("no more croissants", ("croissants", None, None, None, None)),
        ("ran out of lids", ("lids", None, None, None, None)),
        ("the bagels are all gone", ("bagels", None, None, None, None)),
        ("the avocados are 86'd", ("avocados", None, None, None, None)),
    ],
    Action.QUERY: [
        ("how many eggs do we have", ("eggs", None, None, None, None)),
        ("how much flour is left", ("flour", None, None, None, None)),
        ("do we have any basil", ("basil", None, None, None, None)),
        ("what's the count on oat milk", ("oat milk", None, None, None, None)),
        ("where is the salmon", ("salmon", None, None, None, None)),
        ("how many bagels are in the freezer", ("bagels", None, None, "freezer", None)),
        ("how many cases of oat milk do we have", ("oat milk", None, "case", None, None)),
        ("are we running low on oat milk", ("oat milk", None, None, None, None)),
        ("what's in the freezer", (None, None, None, "freezer", None)),
    ],
    Action.EXPIRING: [
        ("what's expiring this week", (None, None, None, None, None)),
        ("what expires tomorrow", (None, None, None, None, None)),
        ("anything going off soon", (None, None, None, None, None)),
    ],
    Action.LOW: [
        ("what are we low on", (None, None, None, None, None)),
        ("what do we need to order", (None, None, None, None, None)),
        ("what's running low", (None, None, None, None, None)),
        ("shopping list", (None, None, None, None, None)),
    ],
    Action.UNDO: [
        (t, (None,) * 5) for t in ("undo", "undo that", "scratch that", "take that back", "reverse that")
    ],
    Action.CANCEL: [
        (t, (None,) * 5) for t in ("never mind", "cancel", "stop", "forget it", "no", "no no no")
    ],
    Action.CONFIRM: [
        (t, (None,) * 5)
        for t in ("yes", "yeah", "yep", "confirm", "correct", "do it", "that's right", "yes chef")
    ],
}
CASES = [(action, text, fields) for action, rows in ROWS.items() for text, fields in rows]


def _fields(command: Command) -> tuple[Any, ...]:
    return (
        command.action,
        command.item,
        command.quantity,
        command.unit,
        command.location,
        command.to_location,
    )


@pytest.mark.parametrize(("action", "text", "fields"), CASES, ids=[c[1] for c in CASES])
def test_actions(grammar: Grammar, action: Action, text: str, fields: tuple[Any, ...]) -> None:
    command = grammar.parse(text, today=TODAY)
    assert _fields(command) == (action, *fields)
    assert command.text == text
    assert 0.0 <= command.confidence <= 1.0


def test_every_action_has_rows() -> None:
    assert set(ROWS) == set(Action) - {Action.UNKNOWN}  # unknowns: test_unknowns.py


@pytest.mark.parametrize(
    ("text", "expires"),
    [
        ("received 2 cases of oat milk expiring Friday", date(2025, 11, 28)),
        ("add 2 trays of eggs use by the 30th", date(2025, 11, 30)),
        ("add a case of lemons best before December 3", date(2025, 12, 3)),
        ("add 3 bags of bagels", None),
    ],
)
def test_expiry_of_an_add(grammar: Grammar, text: str, expires: date | None) -> None:
    command = grammar.parse(text, today=TODAY)
    assert command.action is Action.ADD
    assert command.expires == expires
    assert "expir" not in (command.unmatched or "")


def test_expiry_follows_today(grammar: Grammar) -> None:
    later = grammar.parse("add 2 cases of oat milk expiring friday", today=date(2026, 1, 3))
    assert later.expires == date(2026, 1, 9)


@pytest.mark.parametrize(
    ("text", "days"),
    [("what's expiring this week", 7), ("what expires tomorrow", 1), ("anything going off soon", 3)],
)
def test_expiring_horizon(grammar: Grammar, text: str, days: int) -> None:
    assert grammar.parse(text, today=TODAY).within_days == days


def test_ambiguous_item_lists_candidates(grammar: Grammar) -> None:
    command = grammar.parse("add 3 bottles of syrup", today=TODAY)
    assert command.action is Action.ADD
    assert set(command.candidates) == {"maple syrup", "vanilla syrup", "caramel syrup"}
    assert command.item in command.candidates
    assert command.ambiguous
    assert command.confidence <= 0.5


def test_unit_settles_a_tie(eval_grammar: Grammar) -> None:
    # "red" is both the house red (bottles) and red onions (kg): bottles decide it
    command = eval_grammar.parse("add 3 bottles of red", today=TODAY)
    assert command.item == "house red"
    assert not command.ambiguous


def test_unknown_item_keeps_the_action_and_the_words(grammar: Grammar) -> None:
    command = grammar.parse("add 3 cases of kombucha", today=TODAY)
    assert command.action is Action.ADD
    assert command.item is None
    assert command.unmatched == "kombucha"
    assert (command.quantity, command.unit) == (3, "case")
    assert command.confidence < 0.5


def test_confidence_orders_clean_fuzzy_and_ambiguous(grammar: Grammar) -> None:
    clean = grammar.parse("add 2 cases of oat milk", today=TODAY).confidence
    fuzzy = grammar.parse("add 2 cases of oat lee", today=TODAY).confidence
    bare = grammar.parse("add oat milk", today=TODAY).confidence
    ambiguous = grammar.parse("add 2 bottles of syrup", today=TODAY).confidence
    unknown = grammar.parse("did you see the game", today=TODAY).confidence
    assert clean >= 0.95
    assert clean > fuzzy > ambiguous > unknown
    assert clean > bare


@pytest.mark.parametrize(
    ("text", "quantity", "unit"),
    [
        ("add to cases of oat milk", 2, "case"),  # ASR "two" -> "to" before a unit
        ("add for bottles of honey", 4, "bottle"),
        ("add oat milk to the walk in", 1, None),  # a real "to"
        ("add 2lb of ham", 2, "pound"),
        ("add 1.5 kilos of flour", 1.5, "kilogram"),
    ],
)
def test_asr_number_quirks(grammar: Grammar, text: str, quantity: float, unit: str | None) -> None:
    command = grammar.parse(text, today=TODAY)
    assert (command.quantity, command.unit) == (quantity, unit)


def test_two_things_at_once_is_not_half_done(grammar: Grammar) -> None:
    command = grammar.parse("add 3 cases of oat milk and 2 cases of almond milk", today=TODAY)
    assert command.action is Action.UNKNOWN


def test_parse_is_pure(grammar: Grammar) -> None:
    first = grammar.parse("add 2 cases of oat milk expiring friday", today=TODAY)
    second = grammar.parse("add 2 cases of oat milk expiring friday", today=TODAY)
    assert first == second


def test_json_has_the_seven_keys(grammar: Grammar) -> None:
    out = grammar.parse("add half a case of oat milk to the walk-in", today=TODAY).to_json()
    assert out == {
        "action": "add",
        "item": "oat milk",
        "quantity": 0.5,
        "unit": "case",
        "location": "walk-in",
        "to_location": None,
        "confidence": out["confidence"],
    }


@pytest.mark.parametrize(
    ("text", "action", "item"),
    [
        ("the milk steamer is broken", Action.UNKNOWN, None),  # milk only describes the steamer
        ("add 3 salmon fillets", Action.ADD, "salmon"),  # a cut of the item is still the item
        ("add 2 lemon wedges", Action.ADD, "lemons"),
        ("the basil went black, toss 2 bunches", Action.WASTE, "basil"),  # a verb, not a noun, follows
    ],
)
def test_an_item_that_only_describes_another_noun(
    grammar: Grammar, text: str, action: Action, item: str
) -> None:
    command = grammar.parse(text, today=TODAY)
    assert (command.action, command.item) == (action, item)


def test_two_items_side_by_side_are_not_guessed(grammar: Grammar) -> None:
    command = grammar.parse("we wasted a salmon bagel", today=TODAY)
    assert set(command.candidates) == {"salmon", "bagels"}
    assert command.confidence <= 0.5


@pytest.mark.parametrize(
    ("text", "action", "item", "quantity"),
    [
        ("use a few eggs", Action.USE, "eggs", None),  # "a few" is no number
        ("add some bagels", Action.ADD, "bagels", None),
        ("I dropped the salmon", Action.WASTE, "salmon", None),  # that stock, amount not said
        ("add an avocado", Action.ADD, "avocados", 1),
        ("three cases of oat milk just came in to the walk in", Action.ADD, "oat milk", 3),
        ("increase eggs by 6", Action.ADD, "eggs", 6),
        ("reduce eggs by 6", Action.USE, "eggs", 6),
        ("24 eggs left", Action.SET, "eggs", 24),
        ("eggs count 24", Action.SET, "eggs", 24),
        ("we sold out of croissants", Action.OUT, "croissants", None),
        ("what needs to be ordered", Action.LOW, None, None),
        ("when does the salmon expire", Action.EXPIRING, "salmon", None),
        ("no, add 3 eggs", Action.ADD, "eggs", 3),
        ("eggs 24", Action.UNKNOWN, None, None),  # no verb: could as well be an order
    ],
)
def test_more_phrasings(
    grammar: Grammar, text: str, action: Action, item: str | None, quantity: float | None
) -> None:
    command = grammar.parse(text, today=TODAY)
    assert (command.action, command.item, command.quantity) == (action, item, quantity)


def test_item_names_with_numbers_in_them() -> None:
    catalogue = Catalogue(
        items=(Item("7up", "can", aliases=("seven up",)), Item("00 flour", "kg", aliases=("tipo 00",))),
        locations=("bar",),
    )
    grammar = Grammar(catalogue)
    for text, quantity, unit, item in [
        ("add 2 cans of 7up", 2, "can", "7up"),
        ("add 7up", 1, None, "7up"),
        ("add seven up", 1, None, "7up"),
        ("add 5 kg of 00 flour", 5, "kg", "00 flour"),
        ("add 3 tipo 00", 3, None, "00 flour"),
    ]:
        command = grammar.parse(text, today=TODAY)
        assert (command.quantity, command.unit, command.item) == (quantity, unit, item), text


@pytest.mark.parametrize(("text", "quantity"), [("add 1,5 kg of flour", 1.5), ("add 12,5 kg of flour", 12.5)])
def test_decimal_comma(grammar: Grammar, text: str, quantity: float) -> None:
    assert grammar.parse(text, today=TODAY).quantity == quantity
