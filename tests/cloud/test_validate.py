"""Strict validation of a language model's tool-call arguments against the schema and the catalogue (pure)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from device.intent.command import Action, Command, Resolver
from device.intent.validate import LLM_CONFIDENCE, Refused, validate_arguments
from device.inventory.catalog import Catalogue
from tests.standins.openai import command


def check(arguments: Any, catalogue: Catalogue) -> Command:
    return validate_arguments(arguments, catalogue, max_quantity=10000, text="what was said")


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (
            command("add", item="oat milk", quantity=3, unit="case", location="walk-in"),
            Command(Action.ADD, "oat milk", 3, "case", "walk-in"),
        ),
        (  # aliases, plurals and case are mapped onto the catalogue's own names
            command("add", item="Oatly", quantity=2, unit="cases", location="Walk-In"),
            Command(Action.ADD, "oat milk", 2, "case", "walk-in"),
        ),
        (command("use", item="flour", quantity=500, unit="grams"), Command(Action.USE, "flour", 500, "gram")),
        (command("waste", item="avocados", quantity=4), Command(Action.WASTE, "avocados", 4)),
        (command("set", item="eggs", quantity=0), Command(Action.SET, "eggs", 0)),
        (
            command("move", item="bagels", quantity=1, unit="bag", location="freezer", to_location="walk-in"),
            Command(Action.MOVE, "bagels", 1, "bag", "freezer", "walk-in"),
        ),
        (command("out", item="salmon"), Command(Action.OUT, "salmon")),
        (
            command("query", item="basil", location="walk-in"),
            Command(Action.QUERY, "basil", location="walk-in"),
        ),
        (command("expiring", within_days=3), Command(Action.EXPIRING, within_days=3)),
        (command("low"), Command(Action.LOW)),
        (
            {"action": "add", "item": "butter", "quantity": 2.5},
            Command(Action.ADD, "butter", 2.5),
        ),  # nulls omitted
    ],
)
def test_valid_answers_become_llm_commands(arguments: Any, expected: Command, catalogue: Catalogue) -> None:
    result = check(json.dumps(arguments), catalogue)
    assert result == expected.with_(confidence=LLM_CONFIDENCE, resolver=Resolver.LLM)
    assert result.text == "what was said"


def test_unknown_is_an_answer_too(catalogue: Catalogue) -> None:
    result = check(command("unknown"), catalogue)
    assert result.action is Action.UNKNOWN and result.confidence == 0 and not result.changes_stock


REFUSED: list[tuple[str, Any]] = [
    ("not json", "{'action': 'add'"),
    ("not an object", "[1, 2]"),
    ("field outside the schema", {**command("add", item="eggs", quantity=1), "confirmed": True}),
    ("item not in the catalogue", command("add", item="quinoa", quantity=3)),
    ("invented item", command("out", item="everything")),
    ("unit that does not fit", command("add", item="eggs", quantity=2, unit="gallon")),
    ("pack the item has not", command("add", item="honey", quantity=2, unit="case")),
    ("unknown unit", command("add", item="oat milk", quantity=2, unit="pallet")),
    ("absurd quantity", command("add", item="oat milk", quantity=1_000_000)),
    ("absurd in base units", command("add", item="eggs", quantity=200, unit="case")),  # 36,000 eggs
    ("negative quantity", command("use", item="butter", quantity=-2)),
    ("zero added", command("add", item="butter", quantity=0)),
    ("quantity as text", command("add", item="butter", quantity="3")),
    ("quantity as bool", command("add", item="butter", quantity=True)),
    ("not a number", '{"action": "add", "item": "butter", "quantity": NaN}'),
    ("infinite", '{"action": "add", "item": "butter", "quantity": Infinity}'),
    ("unknown location", command("add", item="butter", quantity=1, location="basement")),
    ("move to the same place", command("move", item="butter", location="walk-in", to_location="walk-in")),
    ("quantity on a query", command("query", item="butter", quantity=3)),
    ("item on a low question", command("low", item="butter")),
    ("missing item", command("add", quantity=3)),
    ("missing quantity", command("set", item="butter")),
    ("undo is not the model's", command("undo")),
    ("confirm is not the model's", command("confirm")),
    ("invented action", command("delete_all")),
    ("no action", {"item": "butter"}),
    ("within_days out of range", command("expiring", within_days=0)),
    ("within_days not whole", command("expiring", within_days=2.5)),
    ("long text", command("out", item="butter " * 40)),
    ("item of the wrong type", command("out", item=["butter"])),
]


@pytest.mark.parametrize("arguments", [r[1] for r in REFUSED], ids=[r[0] for r in REFUSED])
def test_anything_outside_the_rules_is_refused(arguments: Any, catalogue: Catalogue) -> None:
    with pytest.raises(Refused) as refused:
        check(arguments, catalogue)
    assert refused.value.reason
