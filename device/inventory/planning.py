"""Planning a stock change: the deltas one command would make, or why it is refused. Nothing is written here.

``Planning`` is a mixin that ``Inventory`` inherits. It finds the item (suggesting near names when it is not
known), turns the quantity into the item's base unit, resolves the place, and works out the deltas:
use/waste take from lots soonest-expiry first and may go below zero; add first makes good lots below zero.
``Result`` (what a command came to) is defined here because a refusal is one; import it from ``apply``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from rapidfuzz import fuzz, process, utils

from device.intent.command import Action, Command
from device.inventory import replies
from device.inventory.catalog import Catalogue, Item
from device.inventory.records import EPSILON, Delta, JournalEvent
from device.inventory.store import Store
from device.inventory.units import UnitMismatch, to_base


@dataclass(frozen=True)
class Result:
    """What happened: ``applied``, ``answered``, ``refused``, ``unknown``, ``undone`` or ``nothing``."""

    status: str
    reply: str
    event: JournalEvent | None = None
    warning: str | None = None


@dataclass
class Plan:
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
    return [Delta(i, loc, round(q, 6), exp) for (i, loc, exp), q in sums.items() if abs(q) > EPSILON]


def _squash(text: str) -> str:
    return "".join(ch for ch in text.casefold().removeprefix("the ") if ch.isalnum())


class Planning:
    """Working out stock changes, for ``Inventory``. Needs from the host: ``store`` and ``max_quantity``."""

    store: Store
    max_quantity: float

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

    def _plan(self, command: Command, catalogue: Catalogue) -> Plan | Result:
        item = self._item(command, catalogue)
        if isinstance(item, Result):
            return item
        act = command.action
        if act is Action.OUT:
            return self._out(command, item)
        if act is Action.MOVE:
            return self._move(command, item)
        if command.quantity is None:
            if act in (Action.USE, Action.WASTE):
                return self._all_of(command, item)  # "toss the spinach": all of it (the dialogue asks first)
            return refused(replies.how_much(item))
        base = self._quantity(command, item, allow_zero=act is Action.SET)
        if isinstance(base, Result):
            return base
        location = self._place(command.location, item)
        if isinstance(location, Result):
            return location
        said = command.with_(item=item.name, location=location, unit=command.unit or item.unit)
        if act is Action.ADD:
            return Plan(item, said, self._put(item, location, [(base, command.expires)]), base)
        if act is Action.SET:
            lots = self.store.lots(item.name, location=location, signed=True)
            deltas = [replace(lot, quantity=-lot.quantity) for lot in lots]
            deltas.append(Delta(item.name, location, base, command.expires))
            return Plan(item, said, _merge(deltas), base)
        named = bool(command.location)
        return Plan(item, said, self._take(item, location, base, only_there=named), base, named)

    def _item(self, command: Command, catalogue: Catalogue) -> Item | Result:
        if command.ambiguous:
            return refused(replies.ambiguous(command.candidates))
        if command.item:
            item = catalogue.get(command.item)
            if item is not None:
                return item
            return refused(replies.unknown_item(command.item, _suggest(command.item, catalogue)))
        if command.unmatched:
            return refused(replies.unknown_item(command.unmatched, _suggest(command.unmatched, catalogue)))
        return refused(replies.which_item())

    def _quantity(self, command: Command, item: Item, *, allow_zero: bool = False) -> float | Result:
        said = float(command.quantity if command.quantity is not None else 0)
        if not math.isfinite(said) or said < 0 or (said == 0 and not allow_zero):
            return refused(replies.not_positive())
        if said > self.max_quantity:
            return refused(replies.too_much(self.max_quantity))
        try:
            base = to_base(item, said, command.unit)
        except UnitMismatch as exc:
            return refused(replies.wrong_unit(item, exc.unit))
        if base > self.max_quantity:
            return refused(replies.too_much(self.max_quantity, replies.in_base(base, item)))
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
            return refused(replies.unknown_place(name, [found[0]] if found else []))
        if item.location:
            return item.location
        stocked = {row.location for row in self.store.stock(item.name)}
        if len(stocked) == 1:
            return stocked.pop()
        if len(known) == 1:
            return known[0]
        return refused(replies.which_place(item))

    def _put(self, item: Item, location: str, pieces: Sequence[tuple[float, date | None]]) -> list[Delta]:
        """Deltas adding ``pieces`` (quantity, expiry) at ``location``, first making good lots below zero."""
        owed = [lot for lot in self.store.lots(item.name, location=location, signed=True) if lot.quantity < 0]
        debts = {lot.expires: -lot.quantity for lot in owed}
        deltas = []
        for quantity, expires in pieces:
            remaining = quantity
            for key, debt in debts.items():
                give = min(remaining, debt)
                if give > EPSILON:
                    deltas.append(Delta(item.name, location, give, key))
                    debts[key] = debt - give
                    remaining -= give
            if remaining > EPSILON:
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
            if remaining <= EPSILON:
                break
            take = min(remaining, lot.quantity)
            deltas.append(replace(lot, quantity=-take))
            remaining -= take
        if remaining > EPSILON:
            deltas.append(Delta(item.name, location, -remaining))
        return _merge(deltas)

    def _named_place(self, command: Command, item: Item) -> str | Result | None:
        """The place the cook named (its catalogue spelling), ``None`` for everywhere, or the refusal."""
        return self._place(command.location, item) if command.location else None

    def _out(self, command: Command, item: Item) -> Plan | Result:
        location = self._named_place(command, item)
        if isinstance(location, Result):
            return location
        lots = self.store.lots(item.name, location=location, signed=True)
        deltas = [replace(lot, quantity=-lot.quantity) for lot in lots]
        return Plan(item, command.with_(item=item.name, location=location, quantity=None, unit=None), deltas)

    def _all_of(self, command: Command, item: Item) -> Plan | Result:
        """Use or waste every lot of the item (at the place named, else everywhere)."""
        location = self._named_place(command, item)
        if isinstance(location, Result):
            return location
        lots = self.store.lots(item.name, location=location)
        base = round(sum(lot.quantity for lot in lots), 6)
        if base <= EPSILON:
            return refused(replies.none_to_take(item, location))
        said = command.with_(item=item.name, location=location, quantity=base, unit=item.unit)
        return Plan(
            item, said, _merge([replace(lot, quantity=-lot.quantity) for lot in lots]), base, bool(location)
        )

    def total(self, item: Item, location: str | None) -> float:
        """The item's stock (at ``location``, else everywhere), for a question about all of it."""
        return round(sum(lot.quantity for lot in self.store.lots(item.name, location=location)), 6)

    def _move(self, command: Command, item: Item) -> Plan | Result:
        if not command.to_location:
            return refused(replies.where_to(item))
        source = self._place(command.location, item)
        if isinstance(source, Result):
            return source
        target = self._place(command.to_location, item)
        if isinstance(target, Result):
            return target
        if source == target:
            return refused(replies.same_place(item, source))
        if command.quantity is None:
            base = round(sum(lot.quantity for lot in self.store.lots(item.name, location=source)), 6)
            if base <= EPSILON:
                return refused(replies.nothing_to_move(item, source))
            said = command.with_(quantity=base, unit=item.unit)
        else:
            found = self._quantity(command, item)
            if isinstance(found, Result):
                return found
            base, said = found, command.with_(unit=command.unit or item.unit)
        taken = self._take(item, source, base, only_there=True)
        deltas = taken + self._put(item, target, [(-lot.quantity, lot.expires) for lot in taken])
        said = said.with_(item=item.name, location=source, to_location=target)
        return Plan(item, said, _merge(deltas), base)


def refused(reply: str) -> Result:
    """A refusal that says ``reply``."""
    return Result("refused", reply)


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
