"""The ``Command``: what a cook asked for, as data. Produced by resolvers, consumed by the dialogue and the store.

A command records what was *said*: ``unit`` and ``location`` are ``None`` when the cook did not name them (the
store fills in the item's defaults when it applies the command). ``item`` is always a canonical catalogue name
or ``None``; ``unit`` a canonical singular unit name or ``None``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from typing import Any


class Action(StrEnum):
    """Every kind of command Larder understands."""

    ADD = "add"
    USE = "use"
    WASTE = "waste"
    SET = "set"
    MOVE = "move"
    OUT = "out"
    QUERY = "query"
    EXPIRING = "expiring"
    LOW = "low"
    UNDO = "undo"
    CANCEL = "cancel"
    CONFIRM = "confirm"
    UNKNOWN = "unknown"


#: Actions that change stock when applied.
STOCK_CHANGES = frozenset({Action.ADD, Action.USE, Action.WASTE, Action.SET, Action.MOVE, Action.OUT})


class Resolver(StrEnum):
    """Who turned the words into the command (kept in the journal)."""

    GRAMMAR = "grammar"
    #: the grammar, on the speech-to-text's runner-up hearing (its best did not read as a command)
    GRAMMAR_RUNNER_UP = "grammar_runner_up"
    LLM = "llm"
    MANUAL = "manual"
    #: typed or pressed on the unit's web page
    SCREEN = "screen"


@dataclass(frozen=True)
class Command:
    """One parsed kitchen command."""

    action: Action
    item: str | None = None
    quantity: float | None = None
    unit: str | None = None
    location: str | None = None
    to_location: str | None = None
    confidence: float = 1.0
    #: expiry date of the lot, when an add names one ("expiring Friday")
    expires: date | None = None
    #: catalogue items that matched about equally well: the command is ambiguous
    candidates: tuple[str, ...] = ()
    #: the words taken for an item that matched nothing in the catalogue
    unmatched: str | None = None
    #: for ``expiring``: how many days ahead to look
    within_days: int | None = None
    resolver: Resolver = Resolver.GRAMMAR
    #: the transcript this came from
    text: str = field(default="", compare=False)
    #: a slot the cook left unsaid that a stock change needs ("quantity": "a few cases of lemons"): asked for
    missing: str | None = None
    #: other readings of the same audio, close to this one, that would change stock differently: asked about
    rivals: tuple[Command, ...] = field(default=(), compare=False)

    @property
    def changes_stock(self) -> bool:
        return self.action in STOCK_CHANGES

    @property
    def ambiguous(self) -> bool:
        return len(self.candidates) > 1

    def with_(self, **changes: Any) -> Command:
        return replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        """The seven keys of ``larder parse --json``."""
        return {
            "action": self.action.value,
            "item": self.item,
            "quantity": _number(self.quantity),
            "unit": self.unit,
            "location": self.location,
            "to_location": self.to_location,
            "confidence": round(self.confidence, 3),
        }


def _number(value: float | None) -> float | int | None:
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


_SLOTS = ("action", "item", "quantity", "unit", "location", "to_location")


def slots(command: Command) -> tuple[object, ...]:
    """What a command changes, slot by slot (confidence, text and the like left out)."""
    return tuple(getattr(command, key) for key in _SLOTS)


def differing(a: Command, b: Command) -> tuple[str, ...]:
    """The slots in which two commands differ."""
    return tuple(key for key in _SLOTS if getattr(a, key) != getattr(b, key))


def with_rivals(command: Command, others: list[Command]) -> Command:
    """``command`` carrying the stock changes among ``others`` that differ from it (a doubt to ask about)."""
    rivals = tuple(o for o in others if o.changes_stock and differing(command, o))
    return command.with_(rivals=rivals) if rivals and command.changes_stock else command
