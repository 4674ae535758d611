"""Questions: "how many eggs do we have" (query), "what's expiring this week" (expiring), "what are we low on" (low).

A question about an item the catalogue does not have, or about anything else ("what time is it"), is ``unknown``:
the unit can't answer it. Pure: the caller passes ``today`` for horizons.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from device.intent.command import Action, Command
from device.intent.dates import horizon_days
from device.intent.index import CatalogueIndex, by_sound, item_confidence
from device.intent.matching import NO_MATCH, content
from device.intent.phrases import QUERY_NOISE, QUESTION_OPENERS, asks_expiring, asks_low
from device.intent.slots import find_places

#: how many days "what's expiring" looks ahead when no time is said
DEFAULT_HORIZON = 7


def is_question(tokens: Sequence[str]) -> bool:
    """Whether the words open like a question ("how many", "do we have", "is there", "check the ...")."""
    first = tokens[0]
    second = tokens[1] if len(tokens) > 1 else ""
    if first in ("have", "has"):
        return second in ("we", "you", "i", "they")
    if first in ("is", "are"):
        return second in ("there", "we", "any", "anything", "the", "our", "it", "they")
    if first == "got":
        return second in ("any", "some", "enough")
    return first in QUESTION_OPENERS


def parse_question(index: CatalogueIndex, tokens: list[str], raw: str, today: date) -> Command:
    """The query, expiring or low question ``tokens`` ask, else ``unknown``."""
    joined = " ".join(tokens)
    places = find_places(tokens, index.places)
    taken = {i for p in places for i in range(p.start, p.end)}
    rest = [t for i, t in enumerate(tokens) if i not in taken]
    unit = None
    for i in range(1, len(rest)):
        if rest[i - 1] in ("many", "much"):  # "how many cases of ..." names the unit to answer in
            found = index.units.match(rest, i)
            if found is not None:
                unit = found[0]
                rest = rest[:i] + rest[found[1] :]
            break
    words = _drop_noise(index, rest)
    match = by_sound(index, index.items.match(words), words, unit) if content(words) else NO_MATCH
    location = places[0].name if places else None
    if asks_expiring(joined):
        days = horizon_days(tokens, today)
        return Command(
            Action.EXPIRING,
            item=match.item,
            location=location,
            within_days=DEFAULT_HORIZON if days is None else days,
            confidence=0.9,
            text=raw,
        )
    if asks_low(joined) and match.item is None:
        return Command(Action.LOW, location=location, confidence=0.9, text=raw)
    if match.item is not None and len(match.extra) < 2 and not match.modifier:
        return Command(
            Action.QUERY,
            item=match.item,
            unit=unit,
            location=location,
            candidates=match.candidates,
            confidence=item_confidence(0.95, match),
            text=raw,
        )
    if places and not content(words):
        return Command(Action.QUERY, location=location, confidence=0.85, text=raw)
    return Command(Action.UNKNOWN, confidence=0.2, text=raw)


def _drop_noise(index: CatalogueIndex, tokens: Sequence[str]) -> list[str]:
    """Question words around the item, keeping any that are part of an item's name ("chicken stock")."""
    keep = {i for start, end, _ in index.items.spans(tokens) for i in range(start, end)}
    return [t for i, t in enumerate(tokens) if i in keep or t not in QUERY_NOISE]
