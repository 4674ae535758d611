"""The confirmation policy: which commands are applied at once and which wait for a yes. Pure and
table-tested.

*Implicit* confirmation is for routine, confident, grammar-resolved changes: they are applied at once and a
cancel within the window undoes them. *Explicit* confirmation is for the risky or unclear: nothing is applied
until the cook says yes or presses confirm. Queries and dialogue words (yes, cancel, undo) need no
confirmation (*none*).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from device.intent.command import Action, Command, Resolver

if TYPE_CHECKING:
    from device.settings import Settings


class Mode(StrEnum):
    """How a command is confirmed; the value is what the journal records."""

    IMPLICIT = "implicit"
    EXPLICIT = "explicit"
    NONE = "none"


class Reason(StrEnum):
    """Why the policy chose its mode (for logs and tests)."""

    ROUTINE = "routine"
    NOT_A_CHANGE = "not_a_change"
    AMBIGUOUS = "ambiguous"
    #: another reading of the same audio, close to this one, would change stock differently
    DOUBT = "doubt"
    LLM = "llm"
    RUNNER_UP = "runner_up"
    LOW_CONFIDENCE = "low_confidence"
    OUT = "out"
    SET_ZERO = "set_zero"
    LARGE = "large"
    ALL_OF_IT = "all_of_it"


@dataclass(frozen=True)
class PolicyConfig:
    """The policy's knobs. ``large_factor``: a change above this many times par (or stock, if larger) asks
    first. ``apply_confidence``: a stock change read with less confidence than this is asked about first (the
    grammar scores below it a number heard as a sound-alike, a unit or item matched by sound, or two words it
    could not place).
    """

    min_confidence: float = 0.6
    apply_confidence: float = 0.85
    large_factor: float = 3.0
    confirm_llm: bool = True
    confirm_out: bool = True
    confirm_set_zero: bool = True

    @classmethod
    def from_settings(cls, settings: Settings) -> PolicyConfig:
        return cls(
            min_confidence=settings.min_confidence,
            apply_confidence=settings.apply_confidence,
            large_factor=settings.large_quantity_factor,
        )


@dataclass(frozen=True)
class Decision:
    mode: Mode
    reason: Reason


def is_large(base_quantity: float | None, *, par: float | None, stock: float, factor: float) -> bool:
    """A quantity is large when it exceeds ``factor`` times the larger of par and current stock.

    With neither a par nor any stock there is nothing to compare against, so nothing counts as large
    (quantities above the unit's hard maximum are refused by the inventory anyway).
    """
    if base_quantity is None:
        return False
    reference = max(par or 0.0, stock, 0.0)
    return reference > 0 and abs(base_quantity) > factor * reference


def decide(
    command: Command, *, par: float | None, stock: float, base_quantity: float | None, config: PolicyConfig
) -> Decision:
    """Choose the confirmation mode for ``command``.

    ``par`` is the item's par level, ``stock`` its current total stock and ``base_quantity`` the size of the
    change in the item's base unit (for ``set``, the new level), all as the inventory planned it.
    """
    if not command.changes_stock:
        return Decision(Mode.NONE, Reason.NOT_A_CHANGE)
    checks = (
        (command.ambiguous, Reason.AMBIGUOUS),
        (bool(command.rivals), Reason.DOUBT),
        (config.confirm_llm and command.resolver == Resolver.LLM, Reason.LLM),
        (command.resolver == Resolver.GRAMMAR_RUNNER_UP, Reason.RUNNER_UP),
        (command.confidence < max(config.min_confidence, config.apply_confidence), Reason.LOW_CONFIDENCE),
        (config.confirm_out and command.action == Action.OUT, Reason.OUT),
        # "toss the spinach": all of it, like marking it out
        (command.action in (Action.USE, Action.WASTE) and command.quantity is None, Reason.ALL_OF_IT),
        (
            config.confirm_set_zero and command.action == Action.SET and command.quantity == 0,
            Reason.SET_ZERO,
        ),
        (
            command.action != Action.OUT
            and is_large(base_quantity, par=par, stock=stock, factor=config.large_factor),
            Reason.LARGE,
        ),
    )
    for hit, reason in checks:
        if hit:
            return Decision(Mode.EXPLICIT, reason)
    return Decision(Mode.IMPLICIT, Reason.ROUTINE)
