"""The parts of a command around its verb: places ("from the walk-in", "to the bar") and amounts ("half a case",
"2 dozen", "a couple of kegs", ASR's "to cases"). Pure functions over normalised tokens.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from device.intent.locations import LocationMatcher
from device.intent.numbers import ARTICLES, parse_number
from device.intent.units import UnitLexicon, singular

#: prepositions before a place, and the role they give it
PREPOSITIONS: dict[tuple[str, ...], str] = {
    ("from",): "from",
    ("out", "of"): "from",
    ("off", "of"): "from",
    ("to",): "to",
    ("into",): "to",
    ("in", "to"): "to",
    ("onto",): "to",
    ("over", "to"): "to",
    ("up", "to"): "to",
    ("down", "to"): "to",
    ("back", "to"): "to",
    ("back", "into"): "to",
    ("back", "in"): "to",
    ("over", "into"): "to",
    ("in",): "in",
    ("inside",): "in",
    ("at",): "in",
    ("on",): "in",
}
#: words that end a place name: the next phrase has begun ("walk-in cooler | to the bar")
_PREPOSITION_WORDS = frozenset({"to", "from", "into", "onto", "and", "then"})
PLACE_SCORE = 0.85
#: words between a number and its unit that do not change it ("3 more cases", "2 big bags")
_UNIT_ADJECTIVES = frozenset(
    {"more", "extra", "additional", "whole", "full", "big", "small", "large", "new", "x"}
)
_ONE = frozenset({"a", "an", "another", "single", "one"})
#: a vague amount: the cook did not say how much
VAGUE = frozenset({"some", "few", "several", "bit", "lot", "lots", "rest", "load", "loads"})
#: "the salmon", "all the bagels": a particular lot, amount not said
DEFINITE = frozenset({"the", "all", "those", "these", "that"})
#: words that cannot follow "a" in a kitchen command
_NOT_AFTER_ARTICLE = frozenset({"in", "on", "at", "to", "of", "and", "the", "into", "a", "an"})
#: words before "the <unit> of" that make it no amount ("half the case of", "by the case")
_AFTER_THE_UNIT = frozenset({"half", "quarter", "by", "all", "of", "in"})
#: what ASR writes for a number right before a unit ("add to cases", "free cartons", "ford gallons")
_ASR_NUMBERS = {
    "won": 1.0,
    "to": 2.0,
    "too": 2.0,
    "free": 3.0,
    "tree": 3.0,
    "for": 4.0,
    "fore": 4.0,
    "ford": 4.0,
    "fort": 4.0,
    "ate": 8.0,
}


@dataclass(frozen=True)
class Place:
    role: str  # from, to, in
    name: str
    score: float
    start: int
    end: int


@dataclass(frozen=True)
class Amount:
    """How much was said: ``how`` is number, article ("a case"), unit ("case of"), asr ("to cases"), the ("the
    case of")."""

    value: float | None
    unit: str | None
    how: str
    start: int
    end: int


def find_places(tokens: Sequence[str], places: LocationMatcher) -> list[Place]:
    """Every "preposition + location" in ``tokens``, longest location first."""
    found: list[Place] = []
    i = 0
    while i < len(tokens):
        role = None
        start = i
        for size in (2, 1):
            prep = tuple(tokens[i : i + size])
            if len(prep) == size and prep in PREPOSITIONS:
                role, start = PREPOSITIONS[prep], i + size
                break
        if role is None:
            i += 1
            continue
        best: Place | None = None
        for end in range(start + 1, min(len(tokens), start + places.max_words) + 1):
            if end - 1 > start and tokens[end - 1] in _PREPOSITION_WORDS:
                break  # "from the walk-in cooler | to the bar"
            hit = places.match(tokens[start:end])
            if hit is not None and hit[1] >= PLACE_SCORE and (best is None or hit[1] >= best.score - 0.06):
                best = Place(role, hit[0], hit[1], i, end)  # the longer of near-equal names: "walk-in cooler"
        if best is None:
            i += 1
            continue
        found.append(best)
        i = best.end
    return found


def _at(tokens: Sequence[str], i: int) -> str:
    return tokens[i] if 0 <= i < len(tokens) else ""


def _unit_after(tokens: Sequence[str], j: int, units: UnitLexicon) -> tuple[str, int] | None:
    k = j
    while k < len(tokens) and tokens[k] in _UNIT_ADJECTIVES:
        k += 1
    return units.match(tokens, k)


def _and_a_half(tokens: Sequence[str], j: int) -> tuple[float, int]:
    if tuple(tokens[j : j + 3]) == ("and", "a", "half"):
        return 0.5, j + 3
    if tuple(tokens[j : j + 2]) == ("and", "half"):
        return 0.5, j + 2
    return 0.0, j


def find_amount(tokens: Sequence[str], units: UnitLexicon) -> tuple[Amount | None, int]:
    """The first amount in ``tokens`` and how many separate numbers were said in all."""
    numbers: list[Amount] = []
    i = 0
    while i < len(tokens):
        if i and tokens[i - 1] in ("table", "number"):
            i += 1
            continue
        match = parse_number(tokens, i)
        if match is not None and i and tokens[i - 1] == "and" and match.value < 1:
            i = match.end  # the "a half" of "a case and a half" belongs to what came before
            continue
        if match is not None:
            value, end = match.value, match.end
            unit = None
            found = _unit_after(tokens, end, units)
            if found is None and match.value < 1 and _at(tokens, end) in ("the", "a", "an"):
                found = _unit_after(tokens, end + 1, units)  # "half the case", "1/2 a case"
            if found is not None:
                unit, end = found
                half, end = _and_a_half(tokens, end)
                value += half
            numbers.append(Amount(value, unit, "number", i, end))
            i = end
            continue
        i += 1
    if numbers:
        return numbers[0], len(numbers)
    for i, token in enumerate(tokens):
        if token in _ONE:
            found = _unit_after(tokens, i + 1, units)
            if found is not None:
                half, end = _and_a_half(tokens, found[1])
                # "toss to a bunch": a number heard as its sound-alike just before, so "a" may not be all of it
                how = "asr" if i and tokens[i - 1] in _ASR_NUMBERS else "article"
                return Amount(1.0 + half, found[0], how, i, end), 1
        if token in _ASR_NUMBERS:
            found = units.match(tokens, i + 1)
            if found is not None:
                return Amount(_ASR_NUMBERS[token], found[0], "asr", i, found[1]), 1
    for i in range(len(tokens)):
        found = units.match(tokens, i)
        if found is None or found[1] >= len(tokens) or tokens[found[1]] != "of":
            continue
        said = tokens[found[1] - 1]
        # "cases of lemons" with no number before it: how many was not heard ("few cases", "forward bottles")
        plural = singular(said) != said and units.is_unit(singular(said))
        if i == 0 or tokens[i - 1] not in ("the", "by"):  # "case of prosecco"
            return Amount(None if plural else 1.0, found[0], "unit", i, found[1]), 1
        if tokens[i - 1] == "the" and not plural and (i < 2 or tokens[i - 2] not in _AFTER_THE_UNIT):
            # "used the pound of ham": that one, or "a" heard as "the"; worth a question
            return Amount(1.0, found[0], "the", i - 1, found[1]), 1
    return None, 0


def article_before_item(tokens: Sequence[str]) -> bool:
    """ "add an avocado", "another case": one of something, though no number was said."""
    return any(t in ARTICLES or t == "another" for t in tokens)


def loose_article(tokens: Sequence[str]) -> bool:
    """ "add a in eggs": an article followed by a word that cannot follow it, so it is no "one" but a number
    heard in pieces ("eighteen" as "a in")."""
    return any(t in ARTICLES and nxt in _NOT_AFTER_ARTICLE for t, nxt in itertools.pairwise(tokens))


def vague_amount(tokens: Sequence[str]) -> bool:
    """ "some", "a few", "a bit of": an amount, but not said."""
    return any(t in VAGUE for t in tokens)


def definite(tokens: Sequence[str]) -> bool:
    """ "the salmon", "all the bagels": that stock, however much of it there is."""
    return any(t in DEFINITE for t in tokens)
