"""Applying commands to the store: plan the stock deltas, record them with a journal event, word the reply.

``Inventory.execute`` turns one ``Command`` into a ``Result`` with one short spoken sentence. Stock changes
(add/use/waste/set/move/out) are journalled with their deltas; refusals of stock changes are journalled too
(outcome ``refused``); questions (query/expiring/low) are answered from the store without an event.
Quantities become the item's base unit; use/waste take from lots soonest-expiry first; going below zero is
applied and said. Working out the deltas (and the refusals) is in ``planning``; this module does, undoes and
answers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date

from device.errors import StoreError
from device.intent.command import Action, Command, Resolver, differing
from device.inventory import replies
from device.inventory.catalog import Catalogue, Item
from device.inventory.planning import Plan, Planning, Result, refused
from device.inventory.records import EPSILON, Delta, JournalEvent
from device.inventory.store import Store

__all__ = ["Inventory", "Result"]


class Inventory(Planning):
    """Applies commands to a ``Store`` and words every outcome."""

    def __init__(
        self, store: Store, *, max_quantity: float = 10000, today: Callable[[], date] = date.today
    ) -> None:
        self.store = store
        self.max_quantity = max_quantity
        self.today = today

    # --- doing ---
    def execute(self, command: Command, *, confirmation: str = "implicit") -> Result:
        """Apply or answer ``command``; stock changes and their refusals are journalled."""
        act = command.action
        if act is Action.UNKNOWN:
            return Result("unknown", replies.didnt_catch())
        if act is Action.CONFIRM:
            return Result("nothing", replies.nothing_to_confirm())
        if act is Action.CANCEL:
            return Result("nothing", replies.okay())
        if act is Action.UNDO:
            return self.undo(transcript=command.text, resolver=command.resolver, confirmation=confirmation)
        if act in (Action.QUERY, Action.EXPIRING, Action.LOW):
            return self.answer(command)
        planned = self._plan(command, self.store.catalogue())
        if isinstance(planned, Result):
            event = self.audit(command, confirmation=confirmation, outcome="refused")
            return replace(planned, event=event)
        event = self.store.record(
            command=planned.command, deltas=planned.deltas, confirmation=confirmation, outcome="applied"
        )
        reply, warning = self._reply(planned)
        return Result("applied", reply, event, warning)

    def _negatives(self, item: Item, deltas: Sequence[Delta]) -> list[tuple[str, float]]:
        places = dict.fromkeys(d.location for d in deltas)
        found = [(p, self.store.quantity(item.name, p)) for p in places]
        return [(p, q) for p, q in found if q < -EPSILON]

    def _tail(
        self, item: Item, deltas: Sequence[Delta], *, added: bool, unit: str | None
    ) -> tuple[str, str | None]:
        """The second sentence (what is left, or that the count went below zero) and a warning."""
        below = self._negatives(item, deltas)
        if not below:
            return replies.left(self.store.quantity(item.name), item, added=added, said_unit=unit), None
        rows = self.store.stock(item.name)
        where, quantity = below[0]
        tail = replies.negative(quantity, where if len(rows) > 1 else None)
        warning = f"{item.name} is below zero {replies.at(where)}: {replies.in_base(quantity, item)}"
        return tail, warning

    def headline(self, command: Command) -> tuple[list[Delta], str] | None:
        """The deltas this stock change would make and the first sentence ``execute`` would say for it, worked out
        without writing anything (``None``: it would be refused, or it is not a stock change). What is left comes
        after that sentence."""
        if not command.changes_stock:
            return None
        planned = self._plan(command, self.store.catalogue())
        if isinstance(planned, Result):
            return None
        return list(planned.deltas), self._reply(planned, tail=False)[0]

    def _reply(self, plan: Plan, *, tail: bool = True) -> tuple[str, str | None]:
        command, item = plan.command, plan.item
        act = command.action
        what = replies.amount(command.quantity or 0, command.unit, item)
        location = command.location or ""
        if act is Action.ADD:
            left, warning = (
                self._tail(item, plan.deltas, added=True, unit=command.unit) if tail else ("", None)
            )
            return replies.added(what, location, left).strip(), warning
        if act in (Action.USE, Action.WASTE):
            left, warning = (
                self._tail(item, plan.deltas, added=False, unit=command.unit) if tail else ("", None)
            )
            place = location if plan.named_place else None
            return replies.used(str(act), what, left, place).strip(), warning
        if act is Action.SET:
            return replies.now(item, plan.base, location), None
        if act is Action.OUT:
            return replies.marked_out(item, command.location), None
        below = self._negatives(item, plan.deltas) if tail else []
        negative = replies.negative(below[0][1], below[0][0]) if below else ""
        warning = f"{item.name} is below zero {replies.at(below[0][0])}" if below else None
        return replies.moved(what, location, command.to_location or "", negative), warning

    def undo(
        self, *, transcript: str = "", resolver: str = "grammar", confirmation: str = "implicit"
    ) -> Result:
        """Write a compensating event for this device's latest change not yet undone."""
        last = self.store.last_change()
        if last is None:
            return Result("nothing", replies.nothing_to_undo())
        deltas = [replace(d, quantity=-d.quantity) for d in last.deltas]
        command = Command(
            Action.UNDO,
            item=last.item,
            quantity=last.quantity,
            unit=last.unit,
            location=last.location,
            to_location=last.to_location,
            resolver=Resolver(str(resolver)),
            text=transcript,
        )
        event = self.store.record(
            command=command, deltas=deltas, confirmation=confirmation, outcome="applied", reverses=last.id
        )
        item = _known(self.store.catalogue(), last)
        below = self._negatives(item, deltas)
        tail = replies.negative(below[0][1], below[0][0]) if below else ""
        if not tail and last.action != "move":
            tail = replies.left(self.store.quantity(item.name), item)
        reply = replies.undone(last.action, item, last.quantity, last.unit, last.to_location, tail)
        return Result("undone", reply, event, f"{item.name} is below zero" if below else None)

    def audit(self, command: Command, *, confirmation: str, outcome: str) -> JournalEvent:
        """Journal a command that was cancelled, timed out or refused (no stock change)."""
        if outcome == "applied":
            raise StoreError("audit records commands that were not applied; use execute to apply one")
        return self.store.record(command=command, deltas=(), confirmation=confirmation, outcome=outcome)

    def describe(self, command: Command) -> str:
        """The confirmation question for ``command``: ``Set oat milk to zero?``."""
        catalogue = self.store.catalogue()
        if command.action is Action.UNDO:
            last = self.store.last_change()
            if last is None:
                return replies.nothing_to_undo()
            known = _known(catalogue, last)
            return replies.undo_question(last.action, known, last.quantity, last.unit, last.to_location)
        item = catalogue.get(command.item or "")
        if item is None:
            return replies.ambiguous(command.candidates) if command.ambiguous else replies.didnt_catch()
        if command.action in (Action.USE, Action.WASTE) and command.quantity is None:
            return replies.all_of_question(
                str(command.action), item, self.total(item, command.location), command.location
            )
        defaulted = command.action in (Action.ADD, Action.MOVE)
        source = command.location or (item.location if defaulted else None)
        act = str(command.action)
        return replies.question(act, item, command.quantity, command.unit, source, command.to_location)

    def ask_missing(self, command: Command) -> str | None:
        """The question for the slot ``command`` lacks (``How many cases of lemons?``); None when its item is
        not one of the catalogue's (then planning refuses it in words of its own)."""
        item = self.store.catalogue().get(command.item or "")
        if item is None or command.missing != "quantity":
            return None
        return replies.how_many(item, command.unit)

    def ask_which(self, command: Command, rival: Command) -> str:
        """The question naming only what two readings disagree on: ``4 or 5 bottles of vanilla syrup?``."""
        catalogue = self.store.catalogue()
        item, other = catalogue.get(command.item or ""), catalogue.get(rival.item or "")
        apart = set(differing(command, rival))
        if item is not None and apart <= {"quantity", "unit"}:
            return replies.which_amount(
                item, (command.quantity or 0, command.unit), (rival.quantity or 0, rival.unit)
            )
        if item is not None and other is not None and apart == {"item"}:
            return replies.capital(f"{item.name} or {other.name}?")
        first, second = self.describe(command).rstrip("?"), self.describe(rival).rstrip("?")
        return f"{first}, or {second[:1].lower()}{second[1:]}?"

    # --- answering ---
    def answer(self, command: Command) -> Result:
        """A question (query, expiring, low) answered from the store; reads only."""
        catalogue = self.store.catalogue()
        item: Item | None = None
        if command.item or command.unmatched or command.ambiguous:
            found = self._item(command, catalogue)
            if isinstance(found, Result):
                return found
            item = found
        if command.action is Action.EXPIRING:
            return self._expiring(item, catalogue, command.within_days)
        if command.action is Action.LOW:
            return self._low(item, catalogue)
        location = None
        if command.location:
            place = self._place(command.location, item or Item(name="", unit="each"))
            if isinstance(place, Result):
                return place
            location = place
        if item is None:
            if location is None:
                return refused(replies.which_item())
            rows = [r for r in self.store.stock() if r.location == location and r.quantity > 0]
            entries = [(catalogue.get(r.item) or Item(r.item, r.unit), r.quantity) for r in rows]
            return Result("answered", replies.contents(location, entries))
        order = {p: n for n, p in enumerate(catalogue.locations)}
        rows = [r for r in self.store.stock(item.name) if location is None or r.location == location]
        rows.sort(key=lambda r: (order.get(r.location, len(order)), r.location))
        return Result("answered", replies.have(item, [(r.location, r.quantity) for r in rows], location))

    def _expiring(self, item: Item | None, catalogue: Catalogue, within: int | None) -> Result:
        today = self.today()
        days = 7 if within is None else max(within, 0)
        until = date.fromordinal(today.toordinal() + days)
        totals: dict[tuple[str, date], float] = {}
        for lot in self.store.expiring(until):
            if (item is None or lot.item == item.name) and lot.expires is not None:
                key = (lot.item, lot.expires)
                totals[key] = totals.get(key, 0.0) + lot.quantity
        entries = [
            (catalogue.get(name) or Item(name=name, unit="each"), quantity, when)
            for (name, when), quantity in sorted(totals.items(), key=lambda kv: (kv[0][1], kv[0][0]))
        ]
        return Result("answered", replies.expiring(entries, today, days))

    def _low(self, item: Item | None, catalogue: Catalogue) -> Result:
        totals: dict[str, float] = {}
        for row in self.store.stock():
            totals[row.item] = totals.get(row.item, 0.0) + row.quantity
        if item is not None:
            return Result("answered", replies.level(item, totals.get(item.name, 0.0)))
        below = [
            (i, totals.get(i.name, 0.0)) for i in catalogue.items if i.par and totals.get(i.name, 0.0) < i.par
        ]
        below.sort(key=lambda entry: entry[1] / (entry[0].par or 1))
        return Result("answered", replies.low(below))


def _known(catalogue: Catalogue, event: JournalEvent) -> Item:
    """The event's item from the catalogue, or a stand-in when it was dropped since."""
    found = catalogue.get(event.item or "")
    return found or Item(name=event.item or "that", unit=event.unit or "each")
