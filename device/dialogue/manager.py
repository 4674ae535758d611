"""The ``Dialogue``: takes a ``Command`` (spoken or from ``larder say``) or a button press, returns what to
say.

It applies routine changes at once (a cancel within the window undoes them), holds risky or unclear ones until
a yes, asks which item was meant, times questions out and undoes on request. The time ``now`` is passed in by
the caller as wall-clock epoch seconds, so a pending question persisted in the store keeps its deadline across
a restart or a new ``larder say`` process. Every outcome reaches the journal through the ``Inventory``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from device.dialogue import answers
from device.dialogue.pending import (
    Kind,
    Pending,
    Recent,
    load_pending,
    load_recent,
    save_pending,
    save_recent,
)
from device.dialogue.policy import Decision, Mode, PolicyConfig, Reason, decide
from device.intent.command import Action, Command, Resolver
from device.inventory import replies

if TYPE_CHECKING:
    from device.inventory.apply import Inventory, Result
    from device.inventory.records import Delta
    from device.inventory.store import Store

log = logging.getLogger(__name__)

BUTTON_TRANSCRIPT = {"confirm": "(confirm button)", "cancel": "(cancel button)"}
#: once the cook has answered a question, these reasons for asking again no longer hold
_SETTLED_BY_ANSWER = frozenset({Reason.AMBIGUOUS, Reason.LOW_CONFIDENCE, Reason.DOUBT, Reason.RUNNER_UP})
#: answered from the store without a change: their reply can be worked out ahead too
_QUESTIONS = frozenset({Action.QUERY, Action.EXPIRING, Action.LOW})


@dataclass(frozen=True)
class Turn:
    """One reply of the unit.

    ``status``: applied, pending, confirmed, cancelled, undone, timed_out, answered, unknown, refused or
    nothing. ``expects_answer``: the unit asked a question and should listen for the answer without the wake
    word.
    """

    reply: str
    status: str
    expects_answer: bool = False
    event_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "reply": self.reply,
            "status": self.status,
            "expects_answer": self.expects_answer,
            "event_id": self.event_id,
        }


class Dialogue:
    """Confirmation, cancel, undo and follow-up logic over the inventory. No clock or I/O of its own."""

    def __init__(
        self, inventory: Inventory, store: Store, config: PolicyConfig, *, window_s: float = 8.0
    ) -> None:
        self._inventory = inventory
        self._store = store
        self._config = config
        self._window_s = window_s

    @property
    def pending(self) -> Pending | None:
        """The question waiting for an answer (read from the store: another process may have set it)."""
        return load_pending(self._store)

    def question(self) -> str | None:
        """The question waiting for an answer, worded as the unit asked it; ``None`` when there is none."""
        pending = self.pending
        return self._question(pending) if pending is not None else None

    def deadline(self) -> float | None:
        pending = self.pending
        return pending.deadline if pending else None

    # --- entry points -------------------------------------------------------------------------------------

    def handle(self, command: Command, now: float) -> Turn:
        """A spoken (or typed) command. Yes/cancel words settle a pending question; anything else is new."""
        # "No, no, no." from the recogniser's fifth guess at a command in loud noise is too weak to change stock
        # with: it may drop a question, not confirm one or undo a change
        guessed = command.resolver is Resolver.GRAMMAR_RUNNER_UP
        if guessed and command.action in (Action.CONFIRM, Action.UNDO):
            command = command.with_(action=Action.UNKNOWN)
        expired = self._expire(now)
        if command.action == Action.CONFIRM:
            return expired or self._confirm(now)
        if command.action == Action.CANCEL:
            return expired or self._cancel(now, command.text, command.resolver.value, undo=not guessed)
        pending = self.pending
        if command.action == Action.UNDO:
            if pending is not None:  # "scratch that" while asked: drop the question
                return self._drop(pending, "cancelled")
            return self._undo(command.text, command.resolver.value)
        if pending is not None:
            if pending.kind == Kind.CHOOSE:
                candidates = pending.command.candidates
                choice = answers.pick_candidate(command, candidates, self._aliases(candidates))
                if choice is not None:
                    chosen = pending.command.with_(item=choice, candidates=())
                    save_pending(self._store, None)
                    return self._propose(chosen, now, answered=True)
            answered = self._answer(pending, command)
            if answered is not None:
                save_pending(self._store, None)
                return self._propose(answered, now, answered=True)
            if not command.changes_stock:
                return self._still_asking(pending, command, now)
            log.info("a new command replaces the pending %s question", pending.command.action.value)
            self._drop(pending, "cancelled")
        return self._new(command, now)

    def button(self, which: str, now: float) -> Turn | None:
        """A button press. ``None`` when there is nothing to settle: the caller then starts push-to-talk."""
        if which not in BUTTON_TRANSCRIPT:
            raise ValueError(f"unknown button {which!r}")
        expired = self._expire(now)
        if expired is not None:
            return expired
        pending = self.pending
        if which == "confirm":
            return self._confirm(now) if pending is not None else None
        if pending is not None:
            return self._drop(pending, "cancelled")
        return self._cancel_recent(now, BUTTON_TRANSCRIPT[which], Resolver.MANUAL.value)

    def tick(self, now: float) -> Turn | None:
        """Call periodically: a question past its deadline is timed out (audited, nothing applied)."""
        return self._expire(now)

    # --- steps --------------------------------------------------------------------------------------------

    def _expire(self, now: float) -> Turn | None:
        pending = self.pending
        if pending is None or not pending.expired(now):
            return None
        turn = self._drop(pending, "timed_out")
        log.info("confirmation timed out: %s", pending.command.action.value)
        return turn

    def _drop(self, pending: Pending, outcome: str) -> Turn:
        """End a pending question without applying it; audit it as cancelled or timed_out."""
        save_pending(self._store, None)
        event = self._inventory.audit(pending.command, confirmation=Mode.EXPLICIT.value, outcome=outcome)
        choosing = pending.kind == Kind.CHOOSE
        if outcome == "timed_out" and pending.kind == Kind.SLOT:
            reply = answers.unanswered_reply(pending.command)
        elif outcome == "timed_out":
            reply = answers.timed_out_reply(pending.command, choosing=choosing)
        else:
            reply = answers.cancelled_reply(pending.command, choosing=choosing)
        return Turn(reply, outcome, event_id=event.id)

    @staticmethod
    def _answer(pending: Pending, command: Command) -> Command | None:
        """The pending command completed by an answer that is not a stock change of its own: the amount asked
        for ("three"), or which of two close readings was said ("five", "threw away"); ``None`` when it is
        neither."""
        if command.changes_stock and (pending.kind != Kind.DOUBT or command.item is not None):
            return None  # a new command of its own
        if pending.kind == Kind.SLOT:
            quantity = answers.amount_in(command)
            if quantity is None:
                return None
            # the question read the rest back ("How many cases of lemons?"): the answer settles all of it
            return pending.command.with_(quantity=quantity, missing=None, confidence=1.0)
        if pending.kind == Kind.DOUBT:
            chosen = answers.pick_reading(command, (pending.command, *pending.command.rivals))
            return None if chosen is None else chosen.with_(rivals=())
        return None

    def _still_asking(self, pending: Pending, command: Command, now: float) -> Turn:
        """Words that are no answer (garbled, or a question of the cook's own): reply, then ask again."""
        if command.action == Action.UNKNOWN:
            said, status = replies.didnt_catch(), "pending"
        else:
            result = self._inventory.execute(command, confirmation=Mode.NONE.value)
            said, status = result.reply, result.status
        self._ask(Pending(pending.command, pending.kind, pending.reason, now + self._window_s))
        return Turn(f"{said} {self._question(pending)}", status, expects_answer=True)

    def _question(self, pending: Pending) -> str:
        if pending.kind == Kind.CHOOSE:
            return answers.which_question(pending.command.candidates)
        if pending.kind == Kind.SLOT:
            return self._inventory.ask_missing(pending.command) or answers.confirm_question("")
        if pending.kind == Kind.DOUBT and pending.command.rivals:
            return answers.which_reading_question(
                self._inventory.ask_which(pending.command, pending.command.rivals[0])
            )
        return answers.confirm_question(self._inventory.describe(pending.command))

    def _new(self, command: Command, now: float) -> Turn:
        if not command.changes_stock:
            result = self._inventory.execute(command, confirmation=Mode.NONE.value)
            return self._turn(result)
        if command.ambiguous:
            self._ask(Pending(command, Kind.CHOOSE, Reason.AMBIGUOUS.value, now + self._window_s))
            return Turn(answers.choose_question(command.candidates), "pending", expects_answer=True)
        question = self._inventory.ask_missing(command) if command.missing else None
        if (
            question is not None
        ):  # "How many cases of lemons?": the rest of the command is kept for the answer
            self._ask(Pending(command, Kind.SLOT, f"missing_{command.missing}", now + self._window_s))
            return Turn(question, "pending", expects_answer=True)
        return self._propose(command, now, answered=False)

    def preview(self, command: Command) -> str | None:
        """What the unit would say first if ``command`` came now: the answer to a question, or the first sentence
        of a stock change applied without a question. Worked out without writing anything, so the reply can be
        rendered while the final transcript is on its way. ``None`` when it would ask, refuse, or settle a
        question instead."""
        if self.pending is not None or command.resolver is Resolver.GRAMMAR_RUNNER_UP:
            return None
        if command.action in _QUESTIONS:
            answered = self._inventory.answer(command)
            return answered.reply if answered.status == "answered" else None
        if not command.changes_stock:
            return None
        if command.ambiguous or command.missing or command.rivals:
            return None
        ahead = self._inventory.headline(command)
        if ahead is None or self._decide(command, ahead[0]).mode == Mode.EXPLICIT:
            return None
        return ahead[1]

    def _decide(self, command: Command, planned: Sequence[Delta]) -> Decision:
        return decide(
            command,
            par=self._par(command.item),
            stock=self._store.quantity(command.item) if command.item else 0.0,
            base_quantity=self._base_quantity(command, planned),
            config=self._config,
        )

    def _propose(self, command: Command, now: float, *, answered: bool) -> Turn:
        """Plan a stock change, then apply it at once or ask first, as the policy says."""
        planned = self._inventory.plan(command)
        if not isinstance(planned, list):
            return self._refused(command, planned)
        decision = self._decide(command, planned)
        if decision.mode == Mode.EXPLICIT and not (answered and decision.reason in _SETTLED_BY_ANSWER):
            kind = Kind.DOUBT if decision.reason == Reason.DOUBT else Kind.CONFIRM
            pending = Pending(command, kind, decision.reason.value, now + self._window_s)
            self._ask(pending)
            log.info("asking before %s (%s)", command.action.value, decision.reason.value)
            return Turn(self._question(pending), "pending", expects_answer=True)
        mode = Mode.EXPLICIT if answered else Mode.IMPLICIT
        return self._apply(command, mode, now, "applied")

    def _apply(self, command: Command, mode: Mode, now: float, status: str) -> Turn:
        result = self._inventory.execute(command, confirmation=mode.value)
        if result.status != "applied":
            return self._turn(result)
        if result.event is not None:
            save_recent(self._store, Recent(result.event.id, command.item, now + self._window_s))
        return self._turn(result, status=status)

    def _confirm(self, now: float) -> Turn:
        pending = self.pending
        if pending is None:
            return Turn(answers.NOTHING_TO_CONFIRM, "nothing")
        if pending.kind in (Kind.CHOOSE, Kind.SLOT):  # a yes names no item and no amount: ask again
            renewed = Pending(pending.command, pending.kind, pending.reason, now + self._window_s)
            self._ask(renewed)
            return Turn(self._question(renewed), "pending", expects_answer=True)
        # cleared before applying: a failure must never leave it to be applied twice
        save_pending(self._store, None)
        return self._apply(pending.command, Mode.EXPLICIT, now, "confirmed")

    def _cancel(self, now: float, transcript: str, resolver: str, *, undo: bool = True) -> Turn:
        """Drop the pending question; else (``undo``) undo the change applied moments ago."""
        pending = self.pending
        if pending is not None:
            return self._drop(pending, "cancelled")
        undone = self._cancel_recent(now, transcript, resolver) if undo else None
        return undone or Turn(answers.NOTHING_TO_CANCEL, "nothing")

    def _cancel_recent(self, now: float, transcript: str, resolver: str) -> Turn | None:
        """Undo the change applied moments ago, if the window is open and it is still the last change."""
        recent = load_recent(self._store)
        if recent is None:
            return None
        if now >= recent.deadline:
            save_recent(self._store, None)
            return None
        last = self._store.last_change()
        if last is None or last.id != recent.event_id:
            save_recent(self._store, None)
            return None
        return self._undo(transcript, resolver)

    def _undo(self, transcript: str, resolver: str) -> Turn:
        save_recent(self._store, None)
        return self._turn(self._inventory.undo(transcript=transcript, resolver=resolver))

    def _refused(self, command: Command, result: Result) -> Turn:
        event = result.event
        if event is None:
            event = self._inventory.audit(command, confirmation=Mode.NONE.value, outcome="refused")
        return Turn(result.reply, result.status, event_id=event.id)

    # --- helpers ------------------------------------------------------------------------------------------

    def _ask(self, pending: Pending) -> None:
        save_pending(self._store, pending)

    @staticmethod
    def _turn(result: Result, *, status: str | None = None) -> Turn:
        if result.warning:  # the reply already says it in words fit to be spoken
            log.info("%s", result.warning)
        event_id = result.event.id if result.event is not None else None
        return Turn(result.reply, status or result.status, event_id=event_id)

    def _aliases(self, names: Sequence[str]) -> dict[str, tuple[str, ...]]:
        catalogue = self._store.catalogue()
        found = {name: catalogue.get(name) for name in names}
        return {name: item.aliases for name, item in found.items() if item is not None}

    def _par(self, item: str | None) -> float | None:
        found = self._store.catalogue().get(item) if item else None
        return found.par if found is not None else None

    def _base_quantity(self, command: Command, deltas: Sequence[Delta]) -> float | None:
        """The size of the change in base units; for ``set``, the level it sets."""
        total = sum(d.quantity for d in deltas)
        if command.action == Action.ADD:
            return total
        if command.action in (Action.USE, Action.WASTE):
            return -total
        if command.action == Action.MOVE:
            return sum(d.quantity for d in deltas if d.quantity > 0)
        if command.action == Action.SET and deltas:
            locations = {d.location for d in deltas}
            return sum(self._store.quantity(deltas[0].item, loc) for loc in locations) + total
        return None
