"""Pure helpers of the dialogue: reading a follow-up answer, and the words the unit says back.

Kept apart from ``manager`` so they can be tested as tables, without a store.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from device.intent.command import Action, Command, differing
from device.intent.numbers import parse_number
from device.intent.text import strip_fillers, tokenize
from device.intent.units import singular

CONFIRM_PROMPT = "Press confirm or say yes."
WHICH_PROMPT = "Say which, or press confirm for the first."
#: an amount given as the answer to "How many ...?" is a short reply ("three", "three cases", "about a dozen")
_MAX_AMOUNT_WORDS = 6
NOTHING_TO_CONFIRM = "There's nothing to confirm."
NOTHING_TO_CANCEL = "There's nothing to cancel."

_ORDINALS = {"first": 0, "second": 1, "third": 2, "last": -1}
#: an ordinal answer ("the first one", "second") is only trusted in a short reply
_MAX_ORDINAL_WORDS = 4
_QUESTION_WORDS = frozenset(
    {"how", "what", "which", "many", "much", "any", "left", "have", "got", "is", "are", "do"}
)


def _either(names: Sequence[str]) -> str:
    names = list(names)
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " or " + names[-1]


def choose_question(candidates: Sequence[str]) -> str:
    return f"Did you mean {_either(candidates)}?"


def which_question(candidates: Sequence[str]) -> str:
    return f"Which one: {_either(candidates)}?"


def confirm_question(description: str) -> str:
    description = description.strip()
    if description and description[-1] not in ".?!":
        description += "?"
    return f"{description} {CONFIRM_PROMPT}".strip()


def which_reading_question(question: str) -> str:
    """Two readings, the doubtful part named (``4 or 5 bottles of vanilla syrup?``), and how to answer."""
    return f"{question} {WHICH_PROMPT}"


def _subject(command: Command) -> str:
    return command.item or "the stock"


def cancelled_reply(command: Command, *, choosing: bool = False) -> str:
    return "Cancelled. Nothing changed." if choosing else f"Cancelled. I left {_subject(command)} as it was."


def unanswered_reply(command: Command) -> str:
    return f"I didn't hear how many, so I left {_subject(command)} as it was."


def timed_out_reply(command: Command, *, choosing: bool = False) -> str:
    if choosing:
        return "I didn't hear which one, so I left the stock as it was."
    return f"I didn't hear a yes, so I left {_subject(command)} as it was."


def _asks(command: Command) -> bool:
    """A question of the cook's own ("how much oat milk is there?") is no answer, even if it names an item."""
    if command.action not in (Action.QUERY, Action.EXPIRING, Action.LOW):
        return False
    return bool(_QUESTION_WORDS.intersection(re.findall(r"[a-z]+", command.text.casefold())))


def pick_candidate(
    answer: Command, candidates: Sequence[str], forms: Mapping[str, Sequence[str]] | None = None
) -> str | None:
    """Which of ``candidates`` the answer names, or ``None`` when it names none (or several).

    The answer may be a command whose item is a candidate, a narrower ambiguity, or words naming exactly one
    candidate by name or by one of its ``forms`` (aliases: "oatly" for oat milk); a short "the first one"
    picks by position.
    """
    if _asks(answer):
        return None
    by_name = {c.casefold(): c for c in candidates}
    if answer.ambiguous:
        narrowed = [c for c in answer.candidates if c.casefold() in by_name]
        return by_name[narrowed[0].casefold()] if len(narrowed) == 1 else None
    if answer.item and answer.item.casefold() in by_name:
        return by_name[answer.item.casefold()]
    text = " ".join(filter(None, (answer.text, answer.unmatched))).casefold()
    spans = {c: _spans(text, [c, *(forms or {}).get(c, ())]) for c in candidates}
    hits = [c for c in candidates if any(not _inside(span, c, spans) for span in spans[c])]
    if len(hits) == 1:
        return hits[0]
    words = re.findall(r"[a-z]+", answer.text.casefold())
    if not hits and 0 < len(words) <= _MAX_ORDINAL_WORDS:
        picks = {_ORDINALS[w] for w in words if w in _ORDINALS}
        if len(picks) == 1:
            index = picks.pop()
            if -len(candidates) <= index < len(candidates):
                return candidates[index]
    return None


def _inside(span: tuple[int, int], owner: str, spans: Mapping[str, list[tuple[int, int]]]) -> bool:
    """Whether ``span`` lies within a longer match of another candidate ("cream" inside "cream cheese")."""
    start, end = span
    return any(
        other != owner and a <= start and end <= b and b - a > end - start
        for other, found in spans.items()
        for a, b in found
    )


def _spans(text: str, names: Sequence[str]) -> list[tuple[int, int]]:
    """Where any of ``names`` occurs in ``text`` as whole words."""
    found = []
    for name in names:
        for match in re.finditer(rf"\b{re.escape(name.casefold())}\b", text):
            found.append(match.span())
    return found


def amount_in(answer: Command) -> float | None:
    """The amount a short answer gives ("three", "three cases", "a dozen"), or ``None``: no number, a question
    of the cook's own, or too many words to be an answer."""
    if _asks(answer):
        return None
    tokens = strip_fillers(tokenize(answer.text))
    if not tokens or len(tokens) > _MAX_AMOUNT_WORDS:
        return None
    for start in range(len(tokens)):
        found = parse_number(tokens, start)
        if found is not None:
            return found.value
    return None


def pick_reading(answer: Command, options: Sequence[Command]) -> Command | None:
    """Which of the close readings ``options`` the answer names: by the amount, unit, item or verb they
    disagree on; ``None`` when it names none of them, or several."""
    if len(options) < 2 or _asks(answer):
        return None
    apart = set().union(*(differing(options[0], other) for other in options[1:]))
    words = {singular(w) for w in tokenize(answer.text)}
    hits = []
    for option in options:
        named = False
        if "quantity" in apart and option.quantity is not None:
            named = amount_in(answer) == option.quantity
        if not named and "unit" in apart and option.unit:
            named = singular(option.unit) in words
        if not named and "item" in apart and option.item:
            named = answer.item == option.item or option.item.casefold() in answer.text.casefold()
        if not named and "action" in apart:
            named = answer.action is option.action  # "threw away" for a waste heard as "put away"
        if named:
            hits.append(option)
    return hits[0] if len(hits) == 1 else None
