"""The dialogue's durable state: a question waiting for an answer, and the change a cancel may still undo.

Both live in the store (``store.get_state`` / ``set_state``) with wall-clock deadlines (epoch seconds), so a
restart of the daemon, or a second ``larder say`` process, sees them: a pending command is neither lost nor
applied by a restart, and one found past its deadline is timed out.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any, Protocol

from device.intent.command import Action, Command, Resolver

log = logging.getLogger(__name__)

PENDING_KEY = "pending"
RECENT_KEY = "recent"
_VERSION = 1


class StateStore(Protocol):
    """The part of ``Store`` this module uses."""

    def get_state(self, key: str) -> Any | None: ...

    def set_state(self, key: str, value: Any | None) -> None: ...


class Kind(StrEnum):
    """What the unit asked: a yes/no confirmation, which of several items or readings was meant, or a missing
    slot."""

    CONFIRM = "confirm"
    CHOOSE = "choose"
    #: which of the command's close readings was said ("Four or five bottles of vanilla syrup?")
    DOUBT = "doubt"
    #: a slot the command lacks ("How many cases of lemons?")
    SLOT = "slot"


@dataclass(frozen=True)
class Pending:
    """A command held until the cook answers, and when the question lapses."""

    command: Command
    kind: Kind
    reason: str
    deadline: float

    def expired(self, now: float) -> bool:
        return now >= self.deadline


@dataclass(frozen=True)
class Recent:
    """The change just applied implicitly: a cancel before ``deadline`` undoes it."""

    event_id: str
    item: str | None
    deadline: float


def command_to_state(command: Command) -> dict[str, Any]:
    """Every field of a command as JSON-safe values (``to_json`` keeps only the seven public keys)."""
    return {
        "action": command.action.value,
        "item": command.item,
        "quantity": command.quantity,
        "unit": command.unit,
        "location": command.location,
        "to_location": command.to_location,
        "confidence": command.confidence,
        "expires": command.expires.isoformat() if command.expires else None,
        "candidates": list(command.candidates),
        "unmatched": command.unmatched,
        "within_days": command.within_days,
        "resolver": command.resolver.value,
        "text": command.text,
        "missing": command.missing,
        "rivals": [command_to_state(rival) for rival in command.rivals],
    }


def command_from_state(data: dict[str, Any]) -> Command:
    """The inverse of ``command_to_state``; ``ValueError``/``KeyError``/``TypeError`` on a bad record."""
    quantity = data.get("quantity")
    expires = data.get("expires")
    return Command(
        action=Action(data["action"]),
        item=data.get("item"),
        quantity=None if quantity is None else float(quantity),
        unit=data.get("unit"),
        location=data.get("location"),
        to_location=data.get("to_location"),
        confidence=float(data.get("confidence", 1.0)),
        expires=date.fromisoformat(expires) if expires else None,
        candidates=tuple(str(c) for c in data.get("candidates") or ()),
        unmatched=data.get("unmatched"),
        within_days=data.get("within_days"),
        resolver=Resolver(data.get("resolver", Resolver.GRAMMAR.value)),
        text=str(data.get("text", "")),
        missing=data.get("missing"),
        rivals=tuple(command_from_state(rival) for rival in data.get("rivals") or ()),
    )


def load_pending(store: StateStore) -> Pending | None:
    """The pending question, if any. A record that cannot be read is dropped with a warning (it was never
    applied).
    """
    data = store.get_state(PENDING_KEY)
    if data is None:
        return None
    try:
        return Pending(
            command=command_from_state(data["command"]),
            kind=Kind(data["kind"]),
            reason=str(data.get("reason", "")),
            deadline=float(data["deadline"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        log.warning("dropping an unreadable pending confirmation (%s); nothing was applied", exc)
        store.set_state(PENDING_KEY, None)
        return None


def save_pending(store: StateStore, pending: Pending | None) -> None:
    if pending is None:
        store.set_state(PENDING_KEY, None)
        return
    store.set_state(
        PENDING_KEY,
        {
            "version": _VERSION,
            "command": command_to_state(pending.command),
            "kind": pending.kind.value,
            "mode": "explicit",
            "reason": pending.reason,
            "deadline": pending.deadline,
        },
    )


def load_recent(store: StateStore) -> Recent | None:
    data = store.get_state(RECENT_KEY)
    if data is None:
        return None
    try:
        return Recent(event_id=str(data["event_id"]), item=data.get("item"), deadline=float(data["deadline"]))
    except (KeyError, TypeError, ValueError):
        store.set_state(RECENT_KEY, None)
        return None


def save_recent(store: StateStore, recent: Recent | None) -> None:
    value = None
    if recent is not None:
        value = {"event_id": recent.event_id, "item": recent.item, "deadline": recent.deadline}
    store.set_state(RECENT_KEY, value)
