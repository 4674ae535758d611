"""The fast local path: a transcript -> ``Command`` with no network, in well under a millisecond or two.

``Grammar(catalogue)`` builds its indexes once (item names and aliases with their plurals, sounds and spellings;
locations; units). ``parse(text)`` is pure: it normalises the words, rejects prompt injections, customer orders
and chatter as ``unknown``, recognises short replies (undo / cancel / confirm), answers questions (query,
expiring, low), and reads a stock change as verb + amount + unit + item + places + expiry. What was not said stays
``None``; near-equal item matches become ``candidates`` with a lower confidence instead of a guess.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from device.intent.command import Action, Command
from device.intent.dates import find_expiry, horizon_days
from device.intent.matching import NO_MATCH, ItemMatch, ItemMatcher, LocationMatcher, content
from device.intent.phrases import (
    CONTEXT_VERBS,
    MAX_VERB_WORDS,
    PRIORITY,
    QUERY_NOISE,
    QUESTION_OPENERS,
    VERBS,
    WEAK,
    Verb,
    asks_expiring,
    asks_low,
    is_injection,
    is_order_or_chatter,
    short_reply,
    targets_a_list,
)
from device.intent.slots import Amount, Place, article_before_item, find_amount, find_places, vague_amount
from device.intent.text import find_phrases, strip_fillers, tokenize
from device.intent.units import UnitLexicon
from device.inventory.catalog import Catalogue

_LEADING_REPLY = frozenset({"yes", "yeah", "yep", "no", "nope", "nah", "okay", "ok"})
_BEFORE_86 = frozenset(
    {"is", "are", "be", "been", "was", "were", "we", "just", "all", "now", "officially", "go", "get"}
)
_CARRY_ACTION = {Verb.CARRY: Action.USE, Verb.BRING: Action.MOVE, Verb.PUT: Action.ADD}
_METHOD_TRUST = {"exact": 1.0, "span": 0.9, "fuzzy": 0.88, "phonetic": 0.82, "partial": 0.75}
_AMOUNT_TRUST = {"number": 1.0, "article": 0.98, "unit": 0.92, "asr": 0.85}
_DEFAULT_HORIZON = 7
#: no kitchen command is longer; longer text is chatter (and would cost time)
MAX_WORDS = 40
MAX_CHARS = 1000


class Grammar:
    """Parses kitchen commands against one catalogue."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self._items = ItemMatcher(catalogue.items)
        self._places = LocationMatcher(catalogue.locations)
        self._units = UnitLexicon(catalogue.units())
        self._item_units = {item.name: (item.unit, *item.packs) for item in catalogue.items}
        self._verbs: dict[tuple[str, ...], object] = {**VERBS, **CONTEXT_VERBS}

    def parse(self, text: str, *, today: date | None = None) -> Command:
        """The command ``text`` asks for; ``unknown`` (never a stock change) when it is not one."""
        today = today or date.today()
        raw = text if isinstance(text, str) else ""
        tokens = strip_fillers(tokenize(raw[:MAX_CHARS]))
        if not tokens or len(tokens) > MAX_WORDS or is_injection(raw, " ".join(tokens)):
            return _unknown(raw, 0.0)
        reply = short_reply(tokens)
        if reply is not None:
            return Command(reply, confidence=0.97, text=raw)
        if tokens[0] in _LEADING_REPLY and len(tokens) > 1 and tuple(tokens[:2]) not in VERBS:
            tokens = tokens[1:]  # "no, add three ..." / "yeah so the salmon ..."
        if is_order_or_chatter(" ".join(tokens)):
            return _unknown(raw, 0.05)
        if _is_question(tokens):
            return self._question(tokens, raw, today)
        return self._statement(tokens, raw, today)

    # questions ---------------------------------------------------------------------------------------------

    def _question(self, tokens: list[str], raw: str, today: date) -> Command:
        joined = " ".join(tokens)
        places = find_places(tokens, self._places)
        rest = _without(tokens, places)
        unit = None
        for i in range(1, len(rest)):
            if rest[i - 1] in ("many", "much"):
                found = self._units.match(rest, i)
                if found is not None:
                    unit = found[0]
                    rest = rest[:i] + rest[found[1] :]
                break
        words = self._drop_noise(rest)
        match = self._items.match(words) if content(words) else NO_MATCH
        location = places[0].name if places else None
        if asks_expiring(joined):
            days = horizon_days(tokens, today)
            return Command(
                Action.EXPIRING,
                item=match.item,
                location=location,
                within_days=_DEFAULT_HORIZON if days is None else days,
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
                confidence=_item_confidence(0.95, match),
                text=raw,
            )
        if places and not content(words):
            return Command(Action.QUERY, location=location, confidence=0.85, text=raw)
        return _unknown(raw, 0.2)

    def _drop_noise(self, tokens: Sequence[str]) -> list[str]:
        """Question words around the item, keeping any that are part of an item's name ("chicken stock")."""
        keep = {i for start, end, _ in self._items.spans(tokens) for i in range(start, end)}
        return [t for i, t in enumerate(tokens) if i in keep or t not in QUERY_NOISE]

    # statements --------------------------------------------------------------------------------------------

    def _statement(self, tokens: list[str], raw: str, today: date) -> Command:
        expires = None
        found = find_expiry(tokens, today)
        if found is not None:
            expires, start, end = found
            tokens = tokens[:start] + tokens[end:]
        joined = " ".join(tokens)
        if targets_a_list(joined):
            return _unknown(raw, 0.1)
        places = find_places(tokens, self._places)
        taken = {i for p in places for i in range(p.start, p.end)}
        verb = self._verb(tokens, taken)
        if verb is None:
            if asks_expiring(joined) or asks_low(joined) or raw.rstrip().endswith("?"):
                return self._question(tokens, raw, today)
            return _unknown(raw, 0.15)
        action, kind, verb_words, weak = verb
        rest = [t for i, t in enumerate(tokens) if i not in taken and i not in verb_words]
        split = _split_by_verb(tokens, taken, verb_words)
        amount, numbers = find_amount(rest, self._units)
        if numbers > 1 and "and" in rest:
            return _unknown(raw, 0.2)  # two things at once: "3 cases of X and 2 of Y"
        words = rest if amount is None else rest[: amount.start] + rest[amount.end :]
        action = _resolve(action, kind, places)
        return self._build(action, words, amount, places, expires, raw, weak, split)

    def _verb(self, tokens: Sequence[str], taken: set[int]) -> tuple[Action, Verb, set[int], bool] | None:
        """The strongest stock verb said, its kind, every verb word (to drop), and whether it is weak."""
        masked = ["\0" if i in taken else t for i, t in enumerate(tokens)]
        for start, end, _ in self._items.spans(masked):
            if end - start >= 2:  # a verb-looking word inside an item's name ("burnt ends") is not a verb
                masked[start:end] = ["\0"] * (end - start)
        found: list[tuple[bool, int, int, int, Action, Verb]] = []
        for start, end in find_phrases(masked, self._verbs, MAX_VERB_WORDS):
            key = tuple(masked[start:end])
            kind = CONTEXT_VERBS.get(key, Verb.PLAIN)
            action = _CARRY_ACTION[kind] if kind is not Verb.PLAIN else VERBS[key]
            if kind is Verb.BRING:
                action = Action.MOVE
            found.append((key in WEAK, PRIORITY[action], start, end, action, kind))
        eighty_six = self._eighty_six(masked)
        if eighty_six is not None:
            found.append((False, len(PRIORITY), *eighty_six, Action.OUT, Verb.PLAIN))
        if not found:
            return None
        weak, _, start, end, action, kind = min(found)
        if weak and action is Action.ADD and any(f[0] and f[4] is Action.SET for f in found):
            # "we have only got 2 left": got with have/left is a count, not a delivery
            weak, _, start, end, action, kind = min(f for f in found if f[4] is Action.SET)
        words = {i for f in found if f[1] < len(PRIORITY) or f[2] == start for i in range(f[2], f[3])}
        return action, kind, words, weak

    def _eighty_six(self, tokens: Sequence[str]) -> tuple[int, int] | None:
        """ "86 the salmon", "the fries are 86": the kitchen's word for out (else it is just a number)."""
        for i, token in enumerate(tokens):
            end = i + 1 if token == "86" else i + 2 if tokens[i : i + 2] == ["eighty", "six"] else 0
            if not end:
                continue
            prev = tokens[i - 1] if i else ""
            nxt = tokens[end] if end < len(tokens) else ""
            if self._units.is_unit(nxt):
                continue
            if (
                i == 0
                or not nxt
                or prev in _BEFORE_86
                or (prev in ("have", "has") and nxt in ("the", "on", "our"))
            ):
                return i, end
        return None

    def _build(
        self,
        action: Action,
        words: list[str],
        amount: Amount | None,
        places: list[Place],
        expires: date | None,
        raw: str,
        weak: bool,
        split: bool = False,
    ) -> Command:
        unit = amount.unit if amount else None
        match = self._items.match(words)
        if amount is not None and unit is None and match.method != "exact":
            trailing = self._trailing_unit(words)  # "3 oat milk cartons"
            if trailing is not None:
                unit, words = trailing
                match = self._items.match(words)
        if match.item is None and amount is not None and amount.unit and not content(words):
            named = self._items.match([amount.unit])  # "add 20 cups": the unit word was the item
            if named.method == "exact":
                match, unit = named, None
        match = self._prefer_unit(match, unit)
        location, to_location = _place_names(action, places)
        extra = list(match.extra)
        if extra and location is None:
            bare = self._places.match(extra)
            if bare is not None and bare[1] >= 0.95:
                location, extra = bare[0], []
        unmatched = None
        confidence = 0.97 * (0.95 if weak else 1.0)
        if match.item is None:
            said = content(words)
            if len(said) > 3 or split or any(w[:1].isdigit() for w in said):
                return _unknown(raw, 0.2)  # not an item's name: "the printer is out of paper"
            unmatched = " ".join(said) or None
            confidence = 0.3 if unmatched else 0.35
        elif len(extra) >= 3 or match.modifier:
            return _unknown(raw, 0.2)  # about something else: "the milk steamer is broken"
        else:
            confidence = _item_confidence(confidence, match) * (0.93 ** len(extra))
        quantity, trust = self._quantity(action, amount, words)
        confidence *= trust
        if unit and match.item and not self._units.compatible(unit, self._item_units[match.item]):
            confidence *= 0.9
        if action is Action.OUT:
            quantity, unit = None, None
        return Command(
            action,
            item=match.item,
            quantity=quantity,
            unit=unit,
            location=location,
            to_location=to_location,
            confidence=confidence,
            expires=expires if action is Action.ADD else None,
            candidates=match.candidates,
            unmatched=unmatched,
            text=raw,
        )

    def _quantity(
        self, action: Action, amount: Amount | None, words: Sequence[str]
    ) -> tuple[float | None, float]:
        if action in (Action.OUT, Action.QUERY):
            return None, 1.0
        if amount is not None and amount.value is not None:
            return amount.value, _AMOUNT_TRUST.get(amount.how, 0.9)
        if action is Action.SET:
            return None, 0.5
        if article_before_item(words):
            return 1.0, 0.95
        if action is Action.MOVE or (vague_amount(words) and action is not Action.ADD):
            return None, 0.85
        return 1.0, 0.9

    def _trailing_unit(self, words: list[str]) -> tuple[str, list[str]] | None:
        said = [i for i, w in enumerate(words) if w not in ("the", "of", "a")]
        if len(said) < 2:
            return None
        last = said[-1]
        found = self._units.match(words, last)
        if found is None or found[1] != len(words):
            return None
        return found[0], words[:last]

    def _prefer_unit(self, match: ItemMatch, unit: str | None) -> ItemMatch:
        """Near-equal items, but only one is stocked in the unit said ("3 bottles of red"): that one."""
        if not match.ambiguous or unit is None:
            return match
        fits = [c for c in match.candidates if self._units.compatible(unit, self._item_units[c])]
        if len(fits) != 1:
            return match
        return ItemMatch(fits[0], match.score * 0.95, match.method, (), match.extra)


def _is_question(tokens: Sequence[str]) -> bool:
    first = tokens[0]
    second = tokens[1] if len(tokens) > 1 else ""
    if first in ("have", "has"):
        return second in ("we", "you", "i", "they")
    if first in ("is", "are"):
        return second in ("there", "we", "any", "anything", "the", "our", "it", "they")
    if first == "got":
        return second in ("any", "some", "enough")
    return first in QUESTION_OPENERS


def _split_by_verb(tokens: Sequence[str], taken: set[int], verb_words: set[int]) -> bool:
    """Whether content words sit on both sides of the verb (an item's name is said in one piece)."""
    if not verb_words:
        return False
    first, last = min(verb_words), max(verb_words)
    before = [t for i, t in enumerate(tokens) if i < first and i not in taken]
    after = [t for i, t in enumerate(tokens) if i > last and i not in taken]
    return bool(content(before)) and bool(content(after))


def _without(tokens: Sequence[str], places: Sequence[Place]) -> list[str]:
    taken = {i for p in places for i in range(p.start, p.end)}
    return [t for i, t in enumerate(tokens) if i not in taken]


def _resolve(action: Action, kind: Verb, places: Sequence[Place]) -> Action:
    """take/pull -> move when a destination is said; add/use from one place to another is a move."""
    roles = {p.role for p in places}
    if kind is Verb.CARRY:
        return Action.MOVE if "to" in roles else Action.USE
    if kind is Verb.PUT:
        return Action.MOVE if "from" in roles and roles & {"to", "in"} else Action.ADD
    if kind is Verb.BRING:
        return Action.MOVE if roles else Action.ADD  # "the tortilla guy brought 3 cases": a delivery
    if action in (Action.ADD, Action.USE) and "from" in roles and "to" in roles:
        return Action.MOVE
    return action


def _place_names(action: Action, places: Sequence[Place]) -> tuple[str | None, str | None]:
    if action is not Action.MOVE:
        return (places[0].name if places else None), None
    source = next((p.name for p in places if p.role == "from"), None)
    target = next((p.name for p in places if p.role == "to"), None)
    if target is None:
        target = next((p.name for p in places if p.role == "in" and p.name != source), None)
    return source, target


def _item_confidence(base: float, match: ItemMatch) -> float:
    confidence = base * _METHOD_TRUST.get(match.method, 0.7) * min(1.0, match.score + 0.1)
    return min(confidence, 0.5) if match.ambiguous else confidence


def _unknown(raw: str, confidence: float) -> Command:
    return Command(Action.UNKNOWN, confidence=confidence, text=raw)
