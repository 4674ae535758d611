"""Finding the stock verb of a statement: the strongest one said wins, and "86" is a verb only where a cook means it.

``find_verb`` scans the words left after places were taken out, ignoring verb-looking words inside an item's name
("burnt ends"). Weak verbs (have, got, left) count only when nothing stronger is said; "we have used 3" is a use.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from device.intent.command import Action
from device.intent.index import CatalogueIndex
from device.intent.numbers import ARTICLES, parse_number
from device.intent.phrases import CONTEXT_VERBS, MAX_VERB_WORDS, PRIORITY, VERBS, WEAK, Verb
from device.intent.text import find_phrases

_ALL_VERBS: dict[tuple[str, ...], object] = {**VERBS, **CONTEXT_VERBS}
_CARRY_ACTION = {Verb.CARRY: Action.USE, Verb.BRING: Action.MOVE, Verb.PUT: Action.ADD}
#: words before "86" that make it the kitchen's "out" ("we're 86", "is 86") rather than a number
_BEFORE_86 = frozenset(
    {"is", "are", "be", "been", "was", "were", "we", "just", "all", "now", "officially", "go", "get"}
)
_LAST = len(PRIORITY)
#: what speech recognition writes for a verb that opens a command (Whisper tiny.en, measured): "at three cases of
#: ...", "had 2 kilos ...", "and a case of ..." (add), "cost the spinach" (toss)
_HEARD_VERB = {"at": "add", "had": "add", "ad": "add", "adds": "add", "and": "add", "cost": "toss"}
#: ... of which these may also come before "the <item>"
_HEARD_BEFORE_THE = frozenset({"cost"})


@dataclass(frozen=True)
class FoundVerb:
    action: Action
    kind: Verb
    words: frozenset[int]  # every verb word's position, to leave out of the item
    weak: bool


def find_verb(index: CatalogueIndex, tokens: Sequence[str], taken: set[int]) -> FoundVerb | None:
    """The strongest stock verb in ``tokens`` (positions in ``taken`` are places), or ``None``."""
    masked = ["\0" if i in taken else t for i, t in enumerate(tokens)]
    for start, end, _ in index.items.spans(masked):
        if end - start >= 2:  # a verb-looking word inside an item's name is not a verb
            masked[start:end] = ["\0"] * (end - start)
    found: list[tuple[bool, int, int, int, Action, Verb]] = []
    for start, end in find_phrases(masked, _ALL_VERBS, MAX_VERB_WORDS):
        key = tuple(masked[start:end])
        kind = CONTEXT_VERBS.get(key, Verb.PLAIN)
        action = VERBS[key] if kind is Verb.PLAIN else _CARRY_ACTION[kind]
        found.append((key in WEAK, PRIORITY[action], start, end, action, kind))
    eighty_six = _eighty_six(index, masked)
    if eighty_six is not None:
        found.append((False, _LAST, *eighty_six, Action.OUT, Verb.PLAIN))
    if not found:
        return None
    weak, _, start, _, action, kind = min(found)
    if weak and action is Action.ADD and any(f[0] and f[4] is Action.SET for f in found):
        # "we have only got 2 left": got beside have/left is a count, not a delivery
        weak, _, start, _, action, kind = min(f for f in found if f[4] is Action.SET)
    words = frozenset(i for f in found if f[1] < _LAST or f[2] == start for i in range(f[2], f[3]))
    return FoundVerb(action, kind, words, weak)


def _eighty_six(index: CatalogueIndex, tokens: Sequence[str]) -> tuple[int, int] | None:
    """ "86 the salmon", "the fries are 86": the kitchen's word for out (elsewhere it is just a number)."""
    for i, token in enumerate(tokens):
        end = i + 1 if token == "86" else i + 2 if tokens[i : i + 2] == ["eighty", "six"] else 0
        if not end:
            continue
        prev = tokens[i - 1] if i else ""
        nxt = tokens[end] if end < len(tokens) else ""
        if index.units.is_unit(nxt):
            continue
        if (
            i == 0
            or not nxt
            or prev in _BEFORE_86
            or (prev in ("have", "has") and nxt in ("the", "on", "our"))
        ):
            return i, end
    return None


def resolve(action: Action, kind: Verb, roles: set[str]) -> Action:
    """take/pull -> a move when a destination is said; an add or use from one place to another is a move."""
    if kind is Verb.CARRY:
        return Action.MOVE if "to" in roles else Action.USE
    if kind is Verb.PUT:
        return Action.MOVE if "from" in roles and roles & {"to", "in"} else Action.ADD
    if kind is Verb.BRING:
        return Action.MOVE if roles else Action.ADD  # "the tortilla guy brought 3 cases": a delivery
    if action in (Action.ADD, Action.USE) and "from" in roles and "to" in roles:
        return Action.MOVE
    return action


def misheard_verb(index: CatalogueIndex, tokens: list[str]) -> list[str]:
    """A verb speech recognition misspelled where it opens the command: "throughout a tub of ..." (threw out);
    "at three cases of oat milk" (add), "cost the spinach" (toss), when an amount and then a unit or an item's
    name follow ("at 3 o'clock", "at three we need flour", "cost of the spinach" are left alone)."""
    if len(tokens) > 1 and tokens[0] == "throughout":
        return ["threw", "out", *tokens[1:]]
    if len(tokens) < 3 or tokens[0] not in _HEARD_VERB:
        return tokens
    number = parse_number(tokens, 1)
    end = number.end if number is not None else 2 if tokens[1] in ARTICLES else 0
    if not end and tokens[0] in _HEARD_BEFORE_THE and tokens[1] == "the":
        end = 2
    if not end:
        return tokens
    rest = tokens[end:]
    if rest and (index.units.is_unit(rest[0]) or any(start == 0 for start, _, _ in index.items.spans(rest))):
        return [_HEARD_VERB[tokens[0]], *tokens[1:]]
    return tokens


#: number words speech recognition writes as look-alikes, between the verb and an item ("threw away for eggs")
_HEARD_COUNT = {"for": "4", "to": "2", "too": "2"}


def misheard_count(index: CatalogueIndex, tokens: list[str], verb: FoundVerb, taken: set[int]) -> int | None:
    """Where "for"/"to" stands for a number, right after the verb and right before an item's name ("we threw
    away for chicken breasts"), rewritten in ``tokens`` as the digit; else ``None``."""
    at = max(verb.words, default=-1) + 1
    if not verb.words or at >= len(tokens) - 1 or at in taken or tokens[at] not in _HEARD_COUNT:
        return None
    if not any(start == 0 for start, _, _ in index.items.spans(tokens[at + 1 :])):
        return None
    tokens[at] = _HEARD_COUNT[tokens[at]]
    return at
