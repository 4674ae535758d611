"""Strict validation of what a language model answered, before it may become a ``Command``.

The model's tool-call arguments are untrusted input. They are accepted only when they name exactly the
schema's fields, with the right types, a catalogue item (its name or an exact alias), a unit that converts
into that item's unit, a known location and a sane quantity; fields that mean nothing for the action must be
empty. Anything else raises ``Refused`` with the reason (for the log): the cook then hears that the unit
didn't catch it, and nothing changes. Pure: no I/O.
"""

from __future__ import annotations

import json
import math
from typing import Any

from device.errors import IntentError
from device.intent.command import Action, Command, Resolver
from device.inventory.catalog import Catalogue, Item
from device.inventory.units import COUNT, MASS, VOLUME, UnitMismatch, canonical, factor

#: actions a model may propose; undo, cancel and confirm stay with the grammar and the buttons
LLM_ACTIONS = (
    Action.ADD,
    Action.USE,
    Action.WASTE,
    Action.SET,
    Action.MOVE,
    Action.OUT,
    Action.QUERY,
    Action.EXPIRING,
    Action.LOW,
    Action.UNKNOWN,
)
FIELDS = ("action", "item", "quantity", "unit", "location", "to_location", "within_days")
#: fields each action may fill (the rest must be null)
ALLOWED: dict[Action, frozenset[str]] = {
    Action.ADD: frozenset({"item", "quantity", "unit", "location"}),
    Action.USE: frozenset({"item", "quantity", "unit", "location"}),
    Action.WASTE: frozenset({"item", "quantity", "unit", "location"}),
    Action.SET: frozenset({"item", "quantity", "unit", "location"}),
    Action.MOVE: frozenset({"item", "quantity", "unit", "location", "to_location"}),
    Action.OUT: frozenset({"item", "location"}),
    Action.QUERY: frozenset({"item", "location"}),
    Action.EXPIRING: frozenset({"within_days", "location"}),
    Action.LOW: frozenset({"location"}),
    Action.UNKNOWN: frozenset(),
}
#: fields each action must fill
REQUIRED: dict[Action, frozenset[str]] = {
    Action.ADD: frozenset({"item", "quantity"}),
    Action.USE: frozenset({"item", "quantity"}),
    Action.WASTE: frozenset({"item", "quantity"}),
    Action.SET: frozenset({"item", "quantity"}),
    Action.MOVE: frozenset({"item", "to_location"}),
    Action.OUT: frozenset({"item"}),
    Action.QUERY: frozenset({"item"}),
}
#: what an LLM-resolved command's confidence is set to (the dialogue confirms every LLM stock change anyway)
LLM_CONFIDENCE = 0.9
MAX_WITHIN_DAYS = 365
#: units any item may be counted in when it converts (besides its own unit and pack sizes)
STANDARD_UNITS = tuple(dict.fromkeys([*MASS, *VOLUME, *COUNT]))


class Refused(IntentError):
    """The model's answer broke the rules; ``reason`` says which (for the log, never spoken)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"the language model's answer was refused: {reason}")
        self.reason = reason


def catalogue_units(catalogue: Catalogue) -> tuple[str, ...]:
    """Every unit word the model may use: the catalogue's units and pack sizes, then standard measures."""
    return tuple(dict.fromkeys([*catalogue.units(), *STANDARD_UNITS]))


def validate_arguments(
    arguments: Any, catalogue: Catalogue, *, max_quantity: float = 10000, text: str = ""
) -> Command:
    """Tool-call ``arguments`` (a JSON string or an already decoded dict) as a ``Command``, or refuse."""
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments)
        except ValueError:
            raise Refused("the arguments are not JSON") from None
    if not isinstance(arguments, dict):
        raise Refused("the arguments are not an object")
    extra = sorted(set(arguments) - set(FIELDS))
    if extra:
        raise Refused(f"fields outside the schema: {', '.join(map(str, extra))}")
    values = {name: arguments.get(name) for name in FIELDS}
    action = _action(values["action"])
    filled = {name for name, value in values.items() if name != "action" and value is not None}
    stray = sorted(filled - ALLOWED[action])
    if stray:
        raise Refused(f"{', '.join(stray)} make no sense for {action.value}")
    missing = sorted(REQUIRED.get(action, frozenset()) - filled)
    if missing:
        raise Refused(f"{action.value} needs {', '.join(missing)}")
    if action is Action.UNKNOWN:
        return Command(Action.UNKNOWN, confidence=0.0, resolver=Resolver.LLM, text=text)
    item = _item(values["item"], catalogue)
    unit = _unit(values["unit"], item)
    quantity = _quantity(values["quantity"], action, item, unit, max_quantity)
    location = _location(values["location"], catalogue)
    to_location = _location(values["to_location"], catalogue)
    if action is Action.MOVE and to_location is not None and to_location == location:
        raise Refused("a move to the same place")
    return Command(
        action=action,
        item=item.name if item else None,
        quantity=quantity,
        unit=unit,
        location=location,
        to_location=to_location,
        within_days=_days(values["within_days"]),
        confidence=LLM_CONFIDENCE,
        resolver=Resolver.LLM,
        text=text,
    )


def _action(value: Any) -> Action:
    if not isinstance(value, str):
        raise Refused("no action")
    try:
        action = Action(value.strip().lower())
    except ValueError:
        raise Refused(f"unknown action {value[:40]!r}") from None
    if action not in LLM_ACTIONS:
        raise Refused(f"{action.value} is not for the language model to decide")
    return action


def _text(value: Any, field: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > 80:
        raise Refused(f"{field} is not a short text")
    return " ".join(value.split())


def _item(value: Any, catalogue: Catalogue) -> Item | None:
    name = _text(value, "item")
    if name is None:
        return None
    item = catalogue.get(name)
    if item is not None:
        return item
    folded = name.casefold()
    matches = {i.name: i for i in catalogue.items if any(a.casefold() == folded for a in i.aliases)}
    if len(matches) == 1:
        return next(iter(matches.values()))
    raise Refused(f"{name[:40]!r} is not in the catalogue")


def _unit(value: Any, item: Item | None) -> str | None:
    word = _text(value, "unit")
    if word is None:
        return None
    if item is None:
        raise Refused("a unit without an item")
    said = canonical(word)
    for own in (item.unit, *item.packs):
        if canonical(own) == said:
            return own
    try:
        factor(item, said)
    except UnitMismatch as exc:
        raise Refused(str(exc)) from None
    return said


def _quantity(
    value: Any, action: Action, item: Item | None, unit: str | None, max_quantity: float
) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise Refused("the quantity is not a number")
    quantity = float(value)
    if quantity < 0 or (quantity == 0 and action is not Action.SET):
        raise Refused(f"a quantity of {quantity:g} for {action.value}")
    base = quantity * (factor(item, unit) if item is not None else 1.0)
    if base > max_quantity:
        raise Refused(
            f"{quantity:g} {unit or ''} is more than the {max_quantity:g} allowed".replace("  ", " ")
        )
    return quantity


def _location(value: Any, catalogue: Catalogue) -> str | None:
    name = _text(value, "location")
    if name is None:
        return None
    for known in catalogue.locations:
        if known.casefold() == name.casefold():
            return known
    raise Refused(f"{name[:40]!r} is not a known location")


def _days(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise Refused("within_days is not a whole number")
    if value != int(value):
        raise Refused("within_days is not a whole number")
    if not 1 <= value <= MAX_WITHIN_DAYS:
        raise Refused(f"within_days {value} is out of range")
    return int(value)
