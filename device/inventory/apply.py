"""Applying commands to the store: plan the stock deltas, record them with a journal event, word the reply.

``Inventory.execute`` turns one ``Command`` into a ``Result`` with one short spoken sentence. Stock changes
(add/use/waste/set/move/out) are journalled with their deltas; refusals of stock changes are journalled too
(outcome ``refused``); questions (query/expiring/low) are answered from the store without an event.
Quantities become the item's base unit; use/waste take from lots soonest-expiry first; going below zero is
applied and said.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from rapidfuzz import fuzz, process, utils

from device.errors import StoreError
from device.intent.command import Action, Command, Resolver
from device.inventory import replies
from device.inventory.catalog import Catalogue, Item
from device.inventory.store import Delta, JournalEvent, Store
from device.inventory.units import UnitMismatch, to_base

_EPSILON = 1e-9


@dataclass(frozen=True)
class Result:
    """What happened: ``applied``, ``answered``, ``refused``, ``unknown``, ``undone`` or ``nothing``."""

    status: str
    reply: str
    event: JournalEvent | None = None
    warning: str | None = None


@dataclass
class _Plan:
    """A stock change worked out: the item, the command as it will be journalled, its deltas."""

    item: Item
    command: Command
    deltas: list[Delta] = field(default_factory=list)
    base: float = 0.0
    #: the cook named the place (so the reply says it)
    named_place: bool = False


def _merge(deltas: Sequence[Delta]) -> list[Delta]:
    """One delta per lot, zero ones dropped, in first-seen order."""
    sums: dict[tuple[str, str, date | None], float] = {}
    for d in deltas:
        key = (d.item, d.location, d.expires)
        sums[key] = sums.get(key, 0.0) + d.quantity
    return [Delta(i, loc, round(q, 6), exp) for (i, loc, exp), q in sums.items() if abs(q) > _EPSILON]


def _squash(text: str) -> str:
    return "".join(ch for ch in text.casefold().removeprefix("the ") if ch.isalnum())


class Inventory:
    """Applies commands to a ``Store`` and words every outcome."""

    def __init__(
        self, store: Store, *, max_quantity: float = 10000, today: Callable[[], date] = date.today
    ) -> None:
        self.store = store
        self.max_quantity = max_quantity
        self.today = today

    # --- planning ---
    def plan(self, command: Command) -> list[Delta] | Result:
        """The deltas ``command`` would make (nothing is written), or the refusal."""
        if command.action is Action.UNDO:
            last = self.store.last_change()
            if last is None:
                return Result("nothing", replies.nothing_to_undo())
            return [replace(d, quantity=-d.quantity) for d in last.deltas]
        if command.action is Action.UNKNOWN:
            return Result("unknown", replies.didnt_catch())
        if not command.changes_stock:
            return []
        planned = self._plan(command, self.store.catalogue())
        return planned if isinstance(planned, Result) else planned.deltas

    def _plan(self, command: Command, catalogue: Catalogue) -> _Plan | Result:
        item = self._item(command, catalogue)
        if isinstance(item, Result):
            return item
        act = command.action
        if act is Action.OUT:
            return self._out(command, item)
        if act is Action.MOVE:
            return self._move(command, item)
        if command.quantity is None:
            return _refused(replies.how_much(item))
        base = self._quantity(command, item, allow_zero=act is Action.SET)
        if isinstance(base, Result):
            return base
        location = self._place(command.location, item)
        if isinstance(location, Result):
            return location
        said = command.with_(item=item.name, location=location, unit=command.unit or item.unit)
        if act is Action.ADD:
            return _Plan(item, said, self._put(item, location, [(base, command.expires)]), base)
        if act is Action.SET:
            lots = self.store.lots(item.name, location=location, signed=True)
            deltas = [replace(lot, quantity=-lot.quantity) for lot in lots]
            deltas.append(Delta(item.name, location, base, command.expires))
            return _Plan(item, said, _merge(deltas), base)
        named = bool(command.location)
        return _Plan(item, said, self._take(item, location, base, only_there=named), base, named)

    def _item(self, command: Command, catalogue: Catalogue) -> Item | Result:
        if command.ambiguous:
            return _refused(replies.ambiguous(command.candidates))
        if command.item:
            item = catalogue.get(command.item)
            if item is not None:
                return item
            return _refused(replies.unknown_item(command.item, _suggest(command.item, catalogue)))
        if command.unmatched:
            return _refused(replies.unknown_item(command.unmatched, _suggest(command.unmatched, catalogue)))
        return _refused(replies.which_item())

    def _quantity(self, command: Command, item: Item, *, allow_zero: bool = False) -> float | Result:
        said = float(command.quantity if command.quantity is not None else 0)
        if not math.isfinite(said) or said < 0 or (said == 0 and not allow_zero):
            return _refused(replies.not_positive())
        if said > self.max_quantity:
            return _refused(replies.too_much(self.max_quantity))
        try:
            base = to_base(item, said, command.unit)
        except UnitMismatch as exc:
            return _refused(replies.wrong_unit(item, exc.unit))
        if base > self.max_quantity:
            return _refused(replies.too_much(self.max_quantity, replies.in_base(base, item)))
        return base

    def _place(self, name: str | None, item: Item) -> str | Result:
        """A named place resolved to its catalogue spelling, else the item's default place."""
        known = self.store.locations()
        if name:
            for candidate in known:
                if _squash(candidate) == _squash(name):
                    return candidate
            found = process.extractOne(
                name, known, scorer=fuzz.WRatio, processor=utils.default_process, score_cutoff=80
            )
            return _refused(replies.unknown_place(name, [found[0]] if found else []))
        if item.location:
            return item.location
        stocked = {row.location for row in self.store.stock(item.name)}
        if len(stocked) == 1:
            return stocked.pop()
        if len(known) == 1:
            return known[0]
        return _refused(replies.which_place(item))

    def _put(self, item: Item, location: str, pieces: Sequence[tuple[float, date | None]]) -> list[Delta]:
        """Deltas adding ``pieces`` (quantity, expiry) at ``location``, first making good lots below zero."""
        owed = [lot for lot in self.store.lots(item.name, location=location, signed=True) if lot.quantity < 0]
        debts = {lot.expires: -lot.quantity for lot in owed}
        deltas = []
        for quantity, expires in pieces:
            remaining = quantity
            for key, debt in debts.items():
                give = min(remaining, debt)
                if give > _EPSILON:
                    deltas.append(Delta(item.name, location, give, key))
                    debts[key] = debt - give
                    remaining -= give
            if remaining > _EPSILON:
                deltas.append(Delta(item.name, location, remaining, expires))
        return _merge(deltas)

    def _take(self, item: Item, location: str, quantity: float, *, only_there: bool) -> list[Delta]:
        """Deltas removing ``quantity``: lots at ``location`` soonest expiry first, then (unless the cook
        named the place) lots elsewhere; what is still missing goes below zero at ``location``."""
        lots = self.store.lots(item.name)
        here = [lot for lot in lots if lot.location == location]
        others = [] if only_there else [lot for lot in lots if lot.location != location]
        deltas = []
        remaining = quantity
        for lot in here + others:
            if remaining <= _EPSILON:
                break
            take = min(remaining, lot.quantity)
            deltas.append(replace(lot, quantity=-take))
            remaining -= take
        if remaining > _EPSILON:
            deltas.append(Delta(item.name, location, -remaining))
        return _merge(deltas)

    def _out(self, command: Command, item: Item) -> _Plan | Result:
        location = None
        if command.location:
            found = self._place(command.location, item)
            if isinstance(found, Result):
                return found
            location = found
        lots = self.store.lots(item.name, location=location, signed=True)
        deltas = [replace(lot, quantity=-lot.quantity) for lot in lots]
        return _Plan(item, command.with_(item=item.name, location=location, quantity=None, unit=None), deltas)

    def _move(self, command: Command, item: Item) -> _Plan | Result:
        if not command.to_location:
            return _refused(replies.where_to(item))
        source = self._place(command.location, item)
        if isinstance(source, Result):
            return source
        target = self._place(command.to_location, item)
        if isinstance(target, Result):
            return target
        if source == target:
            return _refused(replies.same_place(item, source))
        if command.quantity is None:
            base = round(sum(lot.quantity for lot in self.store.lots(item.name, location=source)), 6)
            if base <= _EPSILON:
                return _refused(replies.nothing_to_move(item, source))
            said = command.with_(quantity=base, unit=item.unit)
        else:
            found = self._quantity(command, item)
            if isinstance(found, Result):
                return found
            base, said = found, command.with_(unit=command.unit or item.unit)
        taken = self._take(item, source, base, only_there=True)
        deltas = taken + self._put(item, target, [(-lot.quantity, lot.expires) for lot in taken])
        said = said.with_(item=item.name, location=source, to_location=target)
        return _Plan(item, said, _merge(deltas), base)

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
            return self._answer(command)
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
        return [(p, q) for p, q in found if q < -_EPSILON]

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

    def _reply(self, plan: _Plan) -> tuple[str, str | None]:
        command, item = plan.command, plan.item
        act = command.action
        what = replies.amount(command.quantity or 0, command.unit, item)
        location = command.location or ""
        if act is Action.ADD:
            tail, warning = self._tail(item, plan.deltas, added=True, unit=command.unit)
            return replies.added(what, location, tail), warning
        if act in (Action.USE, Action.WASTE):
            tail, warning = self._tail(item, plan.deltas, added=False, unit=command.unit)
            return replies.used(str(act), what, tail, location if plan.named_place else None), warning
        if act is Action.SET:
            return replies.now(item, plan.base, location), None
        if act is Action.OUT:
            return replies.marked_out(item, command.location), None
        below = self._negatives(item, plan.deltas)
        tail = replies.negative(below[0][1], below[0][0]) if below else ""
        warning = f"{item.name} is below zero {replies.at(below[0][0])}" if below else None
        return replies.moved(what, location, command.to_location or "", tail), warning

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
        defaulted = command.action in (Action.ADD, Action.MOVE)
        source = command.location or (item.location if defaulted else None)
        act = str(command.action)
        return replies.question(act, item, command.quantity, command.unit, source, command.to_location)

    # --- answering ---
    def _answer(self, command: Command) -> Result:
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
                return _refused(replies.which_item())
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


def _refused(reply: str) -> Result:
    return Result("refused", reply)


def _known(catalogue: Catalogue, event: JournalEvent) -> Item:
    """The event's item from the catalogue, or a stand-in when it was dropped since."""
    found = catalogue.get(event.item or "")
    return found or Item(name=event.item or "that", unit=event.unit or "each")


def _suggest(words: str, catalogue: Catalogue, limit: int = 2) -> list[str]:
    """Catalogue names that look or sound like ``words`` (names and aliases), best first."""
    import jellyfish  # only needed when a word was not understood

    sound = jellyfish.metaphone(words)
    scores: dict[str, float] = {}
    for item in catalogue.items:
        for choice in (item.name, *item.aliases):
            score = fuzz.WRatio(words, choice, processor=utils.default_process)
            if sound and jellyfish.metaphone(choice) == sound:
                score = max(score, 90.0)
            scores[item.name] = max(scores.get(item.name, 0.0), score)
    ranked = sorted((name for name in scores if scores[name] >= 75), key=lambda name: -scores[name])
    return [name for name in ranked if scores[name] >= scores[ranked[0]] - 10][:limit]
