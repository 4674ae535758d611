"""The wording of every outcome: short sentences fit to be spoken. Pure functions of data, no I/O.

Numbers are said naturally ("3", not "3.0"; "1.5"), units are pluralised ("1 carton", "2 loaves") and item
names come from the catalogue. Quantities passed in are already in the unit being named.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from device.inventory.catalog import Item
from device.inventory.units import canonical

_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_AT = ("bar", "counter", "front", "pass", "line", "till", "register", "station")
_IRREGULAR = {"loaf": "loaves", "dozen": "dozen", "each": "each", "shelf": "shelves", "knife": "knives"}
_GERUND = {"add": "adding", "use": "using", "waste": "wasting", "set": "setting", "move": "moving"}
_LIST_MAX = 5


# --- words ---
def number(value: float) -> str:
    """``3``, ``1.5``, ``0.25``, ``-2``, ``12,000``."""
    rounded = round(value, 2)
    if rounded == int(rounded):
        return f"{int(rounded):,}"
    return f"{rounded:,.2f}".rstrip("0").rstrip(".")


def count(value: int) -> str:
    """Small counts as words ("Two things"), larger ones as digits."""
    return _WORDS[value] if 0 <= value < len(_WORDS) else str(value)


def capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def pluralise(word: str) -> str:
    head, _, last = word.rpartition(" ")
    if last in _IRREGULAR:
        plural = _IRREGULAR[last]
    elif last.endswith(("s", "x", "z", "ch", "sh")):
        plural = last + "es"
    elif last.endswith("y") and last[-2:-1] not in ("a", "e", "i", "o", "u", ""):
        plural = last[:-1] + "ies"
    else:
        plural = last + "s"
    return f"{head} {plural}" if head else plural


def unit_word(unit: str, quantity: float) -> str:
    """``kg`` said for 1.5 -> ``kilograms``; ``box`` for 1 -> ``box``."""
    name = canonical(unit)
    return name if quantity == 1 else pluralise(name)


def _is_plural(name: str) -> bool:
    return name.endswith("s") and not name.endswith("ss")


def noun(item: Item, quantity: float) -> str:
    """The item named as a countable noun: ``1 egg``, ``12 eggs``."""
    if quantity != 1:
        return item.name if _is_plural(item.name) else pluralise(item.name)
    for alias in item.aliases:
        if pluralise(alias) == item.name:
            return alias
    if item.name.endswith("ies"):
        return item.name[:-3] + "y"
    if item.name.endswith("oes"):
        return item.name[:-2]
    return item.name[:-1] if _is_plural(item.name) else item.name


def amount(quantity: float, unit: str | None, item: Item) -> str:
    """``3 cases of oat milk``, ``12 eggs``, ``2 dozen eggs``, ``1.5 kilograms of flour``."""
    said = canonical(unit or item.unit)
    if said == "each":
        return f"{number(quantity)} {noun(item, quantity)}"
    if said == "dozen":
        return f"{number(quantity)} dozen {noun(item, 2)}"
    return f"{number(quantity)} {unit_word(said, quantity)} of {item.name}"


def measure(quantity: float, unit: str | None, item: Item) -> str:
    """A quantity with its unit but not the item: ``4 cartons``, ``2 dozen``, ``12`` (counted), ``zero``."""
    said = canonical(unit or item.unit)
    if quantity == 0:
        return "zero"
    if said == "each":
        return number(quantity)
    if said == "dozen":
        return f"{number(quantity)} dozen"
    return f"{number(quantity)} {unit_word(said, quantity)}"


def in_base(quantity: float, item: Item) -> str:
    """A quantity in the item's own unit without the name: ``60 cartons``; counted items just ``60``."""
    if canonical(item.unit) == "each":
        return number(quantity)
    return f"{number(quantity)} {unit_word(item.unit, quantity)}"


def place(location: str) -> str:
    return location if location.lower().startswith("the ") else f"the {location}"


def at(location: str) -> str:
    """``in the walk-in``, ``at the bar``."""
    preposition = "at" if location.lower().rsplit(" ", 1)[-1] in _AT else "in"
    return f"{preposition} {place(location)}"


def joined(parts: Sequence[str], last: str = "and") -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    if len(parts) <= 1:
        return "".join(parts)
    return f"{', '.join(parts[:-1])} {last} {parts[-1]}"


def _capped(parts: Sequence[str]) -> list[str]:
    if len(parts) <= _LIST_MAX:
        return list(parts)
    return [*parts[: _LIST_MAX - 1], f"{len(parts) - _LIST_MAX + 1} more"]


def day(when: date, today: date) -> str:
    """``today``, ``tomorrow``, ``yesterday``, ``on Friday`` (within a week), ``on 3 December``."""
    delta = (when - today).days
    if delta == 0:
        return "today"
    if delta == 1:
        return "tomorrow"
    if delta == -1:
        return "yesterday"
    if -7 < delta < 7:
        return f"on {when.strftime('%A')}"
    return f"on {when.day} {when.strftime('%B')}"


def _be(item: Item) -> str:
    return "are" if _is_plural(item.name) else "is"


# --- changes ---
def left(total: float, item: Item, *, added: bool = False, said_unit: str | None = None) -> str:
    """``15 in stock.`` / ``8 left.``; names the base unit when the cook used another unit."""
    different = said_unit is not None and canonical(said_unit) != canonical(item.unit)
    shown = in_base(total, item) if different else number(total)
    return f"{shown} {'in stock' if added else 'left'}."


def negative(quantity: float, location: str | None = None) -> str:
    where = f" {at(location)}" if location else ""
    return f"That leaves {number(quantity)}{where}, so check the count."


def added(what: str, location: str, tail: str) -> str:
    return f"Added {what} to {place(location)}. {tail}"


def used(action: str, what: str, tail: str, location: str | None = None) -> str:
    verb = "Wasted" if action == "waste" else "Used"
    where = f" from {place(location)}" if location else ""
    return f"{verb} {what}{where}. {tail}"


def now(item: Item, quantity: float, location: str) -> str:
    """``Oat milk is now 12 cartons in the walk-in.``"""
    shown = "zero" if quantity == 0 else in_base(quantity, item)
    return f"{capital(item.name)} {_be(item)} now {shown} {at(location)}."


def marked_out(item: Item, location: str | None) -> str:
    return f"Marked {item.name} as out{' ' + at(location) if location else ''}."


def moved(what: str, source: str, target: str, tail: str = "") -> str:
    return f"Moved {what} from {place(source)} to {place(target)}.{' ' + tail if tail else ''}"


def _undoing(action: str, item: Item, quantity: float | None, unit: str | None, target: str | None) -> str:
    what = amount(quantity or 0, unit, item)
    if action == "out":
        return f"marking {item.name} as out"
    if action == "set":
        return f"setting {item.name} to {measure(quantity or 0, unit, item)}"
    if action == "move" and target:
        return f"moving {what} to {place(target)}"
    return f"{_GERUND.get(action, action)} {what}"


def undone(
    action: str, item: Item, quantity: float | None, unit: str | None, target: str | None, tail: str
) -> str:
    """``Undid adding 3 cartons of oat milk. 12 left.``"""
    return f"Undid {_undoing(action, item, quantity, unit, target)}. {tail}".rstrip()


def nothing_to_undo() -> str:
    return "Nothing to undo."


# --- confirmation questions ---
def undo_question(
    action: str, item: Item, quantity: float | None, unit: str | None, target: str | None
) -> str:
    return f"Undo {_undoing(action, item, quantity, unit, target)}?"


def question(
    action: str, item: Item, quantity: float | None, unit: str | None, source: str | None, target: str | None
) -> str:
    """The question asked before a risky change: ``Set oat milk to zero?``."""
    what = amount(quantity or 0, unit, item)
    if action == "add":
        return f"Add {what}{' to ' + place(source) if source else ''}?"
    if action in ("use", "waste"):
        return f"{'Waste' if action == 'waste' else 'Use'} {what}?"
    if action == "set":
        where = f" {at(source)}" if source else ""
        return f"Set {item.name} to {measure(quantity or 0, unit, item)}{where}?"
    if action == "out":
        return f"Mark {item.name} as out{' ' + at(source) if source else ''}?"
    if action == "move":
        origin = f" from {place(source)}" if source else ""
        return f"Move {what}{origin} to {place(target or '')}?"
    return f"{capital(action)} {item.name}?"


# --- answers ---
def have(item: Item, per_place: Sequence[tuple[str, float]], location: str | None) -> str:
    """``We have 15 cartons of oat milk: 12 in the walk-in and 3 at the bar.``"""
    total = sum(q for _, q in per_place)
    if not per_place or total == 0:
        return f"There's no {item.name} {at(location)}." if location else f"We're out of {item.name}."
    if total < 0:
        return f"The count for {item.name} is {number(total)}, so check it."
    what = amount(total, item.unit, item)
    if len(per_place) == 1:
        return f"We have {what} {at(per_place[0][0])}."
    parts = [f"{number(q)} {at(where)}" for where, q in per_place]
    return f"We have {what}: {joined(_capped(parts))}."


def contents(location: str, entries: Sequence[tuple[Item, float]]) -> str:
    """``In the freezer: 48 croissants and 4 tubs of ice cream.``"""
    if not entries:
        return f"There's nothing {at(location)}."
    parts = [amount(q, item.unit, item) for item, q in entries]
    return f"{capital(at(location))}: {joined(_capped(parts))}."


def expiring(entries: Sequence[tuple[Item, float, date]], today: date, days: int) -> str:
    """``Two things expire this week: 12 eggs on Friday and 2 gallons of whole milk tomorrow.``"""
    gone = [e for e in entries if e[2] < today]
    soon = [e for e in entries if e[2] >= today]
    period = {0: "today", 1: "by tomorrow", 7: "this week"}.get(days, f"in the next {days} days")

    def phrase(entry: tuple[Item, float, date]) -> str:
        item, quantity, when = entry
        return f"{amount(quantity, item.unit, item)} {day(when, today)}"

    parts = []
    if len(gone) == 1:
        item, quantity, when = gone[0]
        parts.append(f"{amount(quantity, item.unit, item)} expired {day(when, today)}")
    elif gone:
        parts.append(f"{count(len(gone))} things have expired: {joined(_capped([phrase(e) for e in gone]))}")
    if soon:
        verb = "expires" if len(soon) == 1 else "expire"
        noun_ = "thing" if len(soon) == 1 else "things"
        headline = f"{count(len(soon))} {noun_} {verb} {period}"
        parts.append(f"{headline}: {joined(_capped([phrase(e) for e in soon]))}")
    if not parts:
        return f"Nothing expires {period}."
    if len(parts) == 2:
        return capital(f"{parts[0]}, and {parts[1]}.")
    return capital(parts[0]) + "."


def low(entries: Sequence[tuple[Item, float]]) -> str:
    """``Low on 3 items: oat milk, basil and lids.`` (entries most urgent first)."""
    if not entries:
        return "Nothing is below par."
    if len(entries) == 1:
        item, quantity = entries[0]
        return f"Low on {item.name}: {number(quantity)} of {in_base(item.par or 0, item)}."
    return f"Low on {len(entries)} items: {joined(_capped([item.name for item, _ in entries]))}."


def level(item: Item, quantity: float) -> str:
    """Answer to "are we low on oat milk"."""
    if item.par is None:
        return f"{capital(item.name)} has no par level. We have {in_base(quantity, item)}."
    state = "low" if quantity < item.par else "fine"
    return f"{capital(item.name)} {_be(item)} {state}: {number(quantity)} of {in_base(item.par, item)}."


# --- refusals and fallbacks ---
def didnt_catch() -> str:
    return "Sorry, I didn't catch that."


def nothing_to_confirm() -> str:
    return "There's nothing to confirm."


def okay() -> str:
    return "Okay."


def unknown_item(words: str, suggestions: Sequence[str]) -> str:
    """``I don't know 'oat mlik'. Did you mean oat milk?``"""
    ask = f" Did you mean {joined(list(suggestions), 'or')}?" if suggestions else ""
    return f"I don't know '{words}'.{ask}"


def unknown_place(words: str, suggestions: Sequence[str]) -> str:
    ask = f" Did you mean {joined([place(s) for s in suggestions], 'or')}?" if suggestions else ""
    return f"I don't know a place called '{words}'.{ask}"


def ambiguous(candidates: Sequence[str]) -> str:
    return f"Did you mean {joined(list(candidates), 'or')}?"


def too_much(limit: float, converted: str | None = None) -> str:
    """``That's more than 10,000, so I didn't change anything.``"""
    that = f"That's {converted}, more than" if converted else "That's more than"
    return f"{that} {number(limit)}, so I didn't change anything."


def wrong_unit(item: Item, unit: str) -> str:
    """``Flour is counted in kilograms, not bottles.``"""
    said = pluralise(canonical(unit))
    if canonical(item.unit) == "each":
        return f"{capital(item.name)} {_be(item)} counted one by one, not in {said}."
    return f"{capital(item.name)} {_be(item)} counted in {pluralise(canonical(item.unit))}, not {said}."


def which_item() -> str:
    return "I didn't catch which item."


def how_much(item: Item) -> str:
    many = canonical(item.unit) == "each"  # counted one by one: "how many eggs"
    return f"I didn't catch how {'many' if many else 'much'} {item.name}."


def how_many(item: Item, unit: str | None) -> str:
    """The question for an amount the cook did not say: ``How many cases of lemons?``."""
    said = canonical(unit or item.unit)
    if said == "each":
        return f"How many {noun(item, 2)}?"
    if said == "dozen":
        return f"How many dozen {noun(item, 2)}?"
    many = said not in ("kilogram", "gram", "litre", "millilitre")
    return f"How {'many' if many else 'much'} {pluralise(said) if many else said} of {item.name}?"


def which_amount(item: Item, first: tuple[float, str | None], second: tuple[float, str | None]) -> str:
    """Two amounts of one item that Whisper could not tell apart: ``4 or 5 bottles of vanilla syrup?``, ``1
    tray of eggs or 1 egg?``."""
    (q1, u1), (q2, u2) = first, second
    if canonical(u1 or item.unit) == canonical(u2 or item.unit):
        return f"{number(q1)} or {amount(q2, u2, item)}?"
    return f"{amount(q1, u1, item)} or {amount(q2, u2, item)}?"


def not_positive() -> str:
    return "The amount has to be more than zero."


def which_place(item: Item) -> str:
    return f"Where is the {item.name}? Say the place too."


def where_to(item: Item) -> str:
    return f"Where should the {item.name} go?"


def same_place(item: Item, location: str) -> str:
    return f"The {item.name} {_be(item)} already {at(location)}."


def none_to_take(item: Item, location: str | None) -> str:
    return f"We have no {item.name}{' ' + at(location) if location else ''}."


def all_of_question(action: str, item: Item, total: float, location: str | None) -> str:
    """``Waste all 3 pounds of spinach?``: a use or waste of all of an item, asked first."""
    where = f" {at(location)}" if location else ""
    return f"{'Waste' if action == 'waste' else 'Use'} all {amount(total, item.unit, item)}{where}?"


def nothing_to_move(item: Item, location: str) -> str:
    return f"There's no {item.name} {at(location)} to move."
