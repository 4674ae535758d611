"""The fast local path: a transcript -> ``Command`` with no network, well under a millisecond a line.

``Grammar(catalogue)`` builds its indexes once (item names and aliases with their plurals, sounds and spellings;
locations; units). ``parse(text)`` is pure: it normalises the words, turns prompt injections, customer orders and
chatter into ``unknown``, recognises short replies (undo / cancel / confirm), answers questions (``questions``),
and reads a stock change as verb (``verbs``) + amount + unit + item + places + expiry (``slots``, ``dates``).
What was not said stays ``None``; items that match about equally become ``candidates`` with a lower confidence
instead of a guess; words that name no item are kept in ``unmatched``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date

from device.intent.command import Action, Command
from device.intent.dates import find_expiry
from device.intent.index import CatalogueIndex, by_sound, item_confidence, unit_by_sound
from device.intent.matching import STOPWORDS, ItemMatch, content
from device.intent.numbers import parse_number
from device.intent.phrases import (
    VERBS,
    asks_expiring,
    asks_low,
    is_injection,
    is_order_or_chatter,
    targets_a_list,
)
from device.intent.questions import is_question, parse_question
from device.intent.replies import misheard_undo, short_reply
from device.intent.slots import (
    Amount,
    Place,
    article_before_item,
    definite,
    find_amount,
    find_places,
    loose_article,
    vague_amount,
)
from device.intent.text import strip_fillers, tokenize, wake_remnant
from device.intent.verbs import find_verb, misheard_count, misheard_verb, resolve
from device.inventory.catalog import Catalogue

_LEADING_REPLY = frozenset({"yes", "yeah", "yep", "no", "nope", "nah", "okay", "ok"})
_AMOUNT_TRUST = {"number": 1.0, "article": 0.98, "unit": 0.92, "asr": 0.85, "the": 0.8}
#: an add read from a leading "and": below the confirmation threshold, so the unit asks before it changes stock
HEARD_AND_CONFIDENCE = 0.55
#: no kitchen command is longer; longer text is chatter (and would cost time)
MAX_WORDS = 40
MAX_CHARS = 1000


class Grammar:
    """Parses kitchen commands against one catalogue."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self._index = CatalogueIndex.build(catalogue)

    def parse(self, text: str, *, today: date | None = None) -> Command:
        """The command ``text`` asks for; ``unknown`` (never a stock change) when it is not one."""
        today = today or date.today()
        raw = text if isinstance(text, str) else ""
        remnant = wake_remnant(raw[:MAX_CHARS])
        if remnant is not None:
            # "Okay, now move, add three cases...", "Move, how many eggs...": "nabu" heard as words, one of them
            # a verb; dropped when it names no item or place and the rest is a command by itself
            clause, rest = remnant
            named = self._index.items.match(strip_fillers(clause)).item or find_places(
                clause, self._index.places
            )
            if not named:
                command = self.parse(rest, today=today)
                if command.action is not Action.UNKNOWN:
                    return replace(command, text=raw)
        said = tokenize(raw[:MAX_CHARS])
        tokens = strip_fillers(said)
        if not tokens or len(tokens) > MAX_WORDS or is_injection(raw, " ".join(tokens)):
            return _unknown(raw, 0.0)
        reply = short_reply(tokens)
        if reply is not None:
            return Command(reply, confidence=0.97, text=raw)
        if misheard_undo(said):
            return Command(Action.UNDO, confidence=0.85, text=raw)
        if tokens[0] in _LEADING_REPLY and len(tokens) > 1 and tuple(tokens[:2]) not in VERBS:
            tokens = tokens[1:]  # "no, add three ..." / "yeah so the salmon ..."
        tokens = misheard_verb(self._index, tokens)
        if is_order_or_chatter(" ".join(tokens)):
            return _unknown(raw, 0.05)
        if is_question(tokens):
            return parse_question(self._index, tokens, raw, today)
        command = self._statement(tokens, raw, today)
        if command.action is Action.UNKNOWN and _add_heard_as_and(said, tokens):
            # "and a case of double cream": "add" heard as "and" (a leading filler elsewhere)
            heard = misheard_verb(self._index, ["and", *tokens])
            if heard[0] != "and":
                guess = self._statement(heard, raw, today)
                if guess.action is not Action.UNKNOWN:
                    return replace(guess, confidence=min(guess.confidence, HEARD_AND_CONFIDENCE))
        return command

    def _statement(self, tokens: list[str], raw: str, today: date) -> Command:
        expires = None
        found = find_expiry(tokens, today)
        if found is not None:
            expires, start, end = found
            tokens = tokens[:start] + tokens[end:]
        joined = " ".join(tokens)
        if targets_a_list(joined):
            return _unknown(raw, 0.1)  # "add oat milk to the shopping list" is a note, not stock
        places = find_places(tokens, self._index.places)
        taken = {i for p in places for i in range(p.start, p.end)}
        verb = find_verb(self._index, tokens, taken)
        if verb is None:
            if asks_expiring(joined) or asks_low(joined) or raw.rstrip().endswith("?"):
                return parse_question(self._index, tokens, raw, today)
            return _unknown(raw, 0.15)
        tokens = list(tokens)
        guessed = misheard_count(self._index, tokens, verb, taken)
        kept = [i for i in range(len(tokens)) if i not in taken and i not in verb.words]
        rest = [tokens[i] for i in kept]
        amount, numbers = find_amount(self._hide_numbered_names(rest), self._index.units)
        if amount is not None and guessed is not None and kept[amount.start] == guessed:
            amount = replace(amount, how="asr")  # a number guessed from "for": trusted less
        if numbers > 1 and "and" in rest:
            return _unknown(raw, 0.2)  # two things at once: "3 cases of X and 2 of Y"
        words = rest if amount is None else rest[: amount.start] + rest[amount.end :]
        action = resolve(verb.action, verb.kind, {p.role for p in places})
        split = _split_by_verb(tokens, taken, verb.words)
        command = self._build(action, words, amount, places, raw, verb.weak, split)
        return command.with_(expires=expires) if command.action is Action.ADD else command

    def _build(
        self,
        action: Action,
        words: list[str],
        amount: Amount | None,
        places: list[Place],
        raw: str,
        weak: bool,
        split: bool,
    ) -> Command:
        index = self._index
        unit = amount.unit if amount else None
        trust = 1.0
        match = index.items.match(words)
        if amount is not None and unit is None and match.method != "exact":
            trailing = self._trailing_unit(words)  # "3 oat milk cartons"
            if trailing is not None:
                unit, words = trailing
                match = index.items.match(words)
        if amount is not None and unit is None and match.item is not None and match.extra:
            heard = self._misheard_unit(words, amount, match.item)  # "eight loads of sourdough"
            if heard is not None:
                (unit, words), trust = heard, 0.85
                match = index.items.match(words)
        if match.item is None and amount is not None and amount.unit and not content(words):
            named = index.items.match([amount.unit])  # "add 20 cups": the unit word was the item
            if named.method == "exact":
                match, unit = named, None
        match = self._prefer_unit(match, unit)
        match = by_sound(self._index, match, words, unit)
        location, to_location = _place_names(action, places)
        extra = list(match.extra)
        if any(w[:1].isdigit() for w in extra):
            return _unknown(raw, 0.2)  # a number that is not an amount ("1/0", 400 digits): not understood
        if extra and location is None:
            bare = index.places.match(extra)  # a place said without a preposition
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
            confidence = item_confidence(confidence, match) * (0.93 ** len(extra))
        quantity, how_sure = _quantity(action, amount, words)
        confidence *= how_sure * trust
        if unit and match.item and not index.fits(unit, match.item):
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
            candidates=match.candidates,
            unmatched=unmatched,
            text=raw,
            missing=_missing(action, quantity, amount, words),
        )

    def _hide_numbered_names(self, words: list[str]) -> list[str]:
        """The words with item names that hold a number ("7 up", "00 flour") masked, so they aren't amounts."""
        masked = list(words)
        for start, end, _ in self._index.items.spans(words):
            if any(parse_number(words, i) for i in range(start, end)):
                masked[start:end] = ["\0"] * (end - start)
        return masked

    def _misheard_unit(self, words: list[str], amount: Amount, item: str) -> tuple[str, list[str]] | None:
        """The word between the amount and "of <item>", when it sounds like a unit the item is counted in."""
        at = amount.start
        if at + 1 >= len(words) or words[at + 1] != "of" or words[at] in STOPWORDS:
            return None
        unit = unit_by_sound(self._index, words[at], item)
        return None if unit is None else (unit, words[:at] + words[at + 1 :])

    def _trailing_unit(self, words: list[str]) -> tuple[str, list[str]] | None:
        said = [i for i, w in enumerate(words) if w not in ("the", "of", "a")]
        if len(said) < 2:
            return None
        last = said[-1]
        found = self._index.units.match(words, last)
        if found is None or found[1] != len(words):
            return None
        return found[0], words[:last]

    def _prefer_unit(self, match: ItemMatch, unit: str | None) -> ItemMatch:
        """Near-equal items, but only one is stocked in the unit said ("3 bottles of red"): that one."""
        if not match.ambiguous or unit is None:
            return match
        fits = [c for c in match.candidates if self._index.fits(unit, c)]
        if len(fits) != 1:
            return match
        return ItemMatch(fits[0], match.score * 0.95, match.method, (), match.extra)


def _quantity(action: Action, amount: Amount | None, words: Sequence[str]) -> tuple[float | None, float]:
    """The quantity to record and how much to trust it: 1 for "a case" or a bare "add oat milk"."""
    if action in (Action.OUT, Action.QUERY):
        return None, 1.0
    if amount is not None and amount.value is None:
        return None, 0.8  # "few cases of lemons": a unit, but how many was not heard
    if amount is not None and amount.value is not None:
        return amount.value, _AMOUNT_TRUST.get(amount.how, 0.9)
    if action is Action.SET:
        return None, 0.5
    if vague_amount(words):
        return None, 0.8  # "a few eggs", "some bagels": how many was not said
    if article_before_item(words):
        return 1.0, 0.8 if loose_article(words) else 0.95
    if action is Action.MOVE or (definite(words) and action is not Action.ADD):
        return None, 0.85  # "move the salmon", "toss the spinach": that stock, amount not said
    return 1.0, 0.9


def _missing(
    action: Action, quantity: float | None, amount: Amount | None, words: Sequence[str]
) -> str | None:
    """The slot a stock change lacks: "quantity" for an add or set without one, and for a use, waste or move
    whose amount was vague or not heard ("toss a few tomatoes", "move forward bottles of ...")."""
    if quantity is not None or action in (Action.OUT, Action.QUERY):
        return None
    if action in (Action.ADD, Action.SET):
        return "quantity"
    unheard = amount is not None and amount.value is None
    if action in (Action.USE, Action.WASTE, Action.MOVE) and (unheard or vague_amount(words)):
        return "quantity"
    return None


def _split_by_verb(tokens: Sequence[str], taken: set[int], verb_words: frozenset[int]) -> bool:
    """Whether content words sit on both sides of the verb (an item's name is said in one piece)."""
    if not verb_words:
        return False
    first, last = min(verb_words), max(verb_words)
    before = [t for i, t in enumerate(tokens) if i < first and i not in taken]
    after = [t for i, t in enumerate(tokens) if i > last and i not in taken]
    return bool(content(before)) and bool(content(after))


def _place_names(action: Action, places: Sequence[Place]) -> tuple[str | None, str | None]:
    if action is not Action.MOVE:
        return (places[0].name if places else None), None
    source = next((p.name for p in places if p.role == "from"), None)
    target = next((p.name for p in places if p.role == "to"), None)
    if target is None:
        target = next((p.name for p in places if p.role == "in" and p.name != source), None)
    return source, target


def _add_heard_as_and(said: Sequence[str], tokens: Sequence[str]) -> bool:
    """Whether the last word dropped in front of the command's first word was "and", in words that are not a
    customer's order ("and two croissants please")."""
    if not tokens or tokens[0] not in said or "please" in said:
        return False
    before = said[: list(said).index(tokens[0])]
    return bool(before) and before[-1] == "and"


def _unknown(raw: str, confidence: float) -> Command:
    return Command(Action.UNKNOWN, confidence=confidence, text=raw)
