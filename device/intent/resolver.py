"""The resolver chain: the local grammar first, the language model only when the grammar could not read a
request.

``ChainResolver.resolve`` parses with the grammar. A confident parse is the answer (no network). When the
parse is ``unknown`` or below ``min_confidence``, the LLM is asked, but for ``unknown`` only if the words look
like an inventory request (``looks_like_inventory_request``): chatter, customer orders and speech that tries
to instruct the model stay ``unknown`` without leaving the unit. A usable LLM answer replaces the parse (it
carries ``resolver=LLM``, so the dialogue confirms any stock change); when the LLM has nothing (offline,
timeout, refused answer), the grammar's own result stands: ``unknown`` -> "Sorry, I didn't catch that",
nothing changes.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Protocol

import jellyfish

from device.intent.command import Action, Command
from device.intent.llm import LlmResolver
from device.intent.numbers import FRACTIONS, ONES, SCALES, TEENS, TENS
from device.intent.text import normalise_name, tokenize
from device.intent.units import FAMILIES
from device.inventory.catalog import Catalogue

log = logging.getLogger(__name__)


class Grammar(Protocol):
    """What the chain needs of ``device.intent.grammar.Grammar``."""

    def parse(self, text: str, today: date | None = None) -> Command: ...


class ChainResolver:
    """``protocols.IntentResolver``: grammar, then (maybe) the LLM."""

    def __init__(self, grammar: Grammar, llm: LlmResolver | None, *, min_confidence: float) -> None:
        self._grammar = grammar
        self._llm = llm
        self.min_confidence = min_confidence
        catalogue = getattr(grammar, "catalogue", None)
        if catalogue is None and llm is not None:
            catalogue = llm.catalogue
        self._catalogue: Catalogue | None = catalogue

    def set_catalogue(self, catalogue: Catalogue) -> None:
        self._catalogue = catalogue
        setter = getattr(self._grammar, "set_catalogue", None)
        if setter is not None:
            setter(catalogue)
        else:
            self._grammar = type(self._grammar)(catalogue)  # type: ignore[call-arg]
        if self._llm is not None:
            self._llm.set_catalogue(catalogue)

    def wants_llm(self, command: Command, text: str) -> bool:
        """Whether this grammar result should go to the LLM (pure)."""
        if (
            self._llm is None
            or command.action in {Action.UNDO, Action.CANCEL, Action.CONFIRM}
            or command.ambiguous
        ):
            return False
        if command.action is Action.UNKNOWN:
            return self._catalogue is not None and looks_like_inventory_request(text, self._catalogue)
        return command.confidence < self.min_confidence

    async def resolve(self, text: str) -> Command:
        command = self._grammar.parse(text)
        if self._llm is None or not self.wants_llm(command, text):
            return command
        answer = await self._llm.resolve(text)
        if answer.action is Action.UNKNOWN:
            return command
        log.info("grammar gave %s (%.2f); the LLM resolved %r", command.action, command.confidence, text)
        return answer


# --- the gate: does this look like something for the inventory? ---


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_VERBS = _words(
    "add added adding received receive receiving delivered delivery bought restock restocked stocked got "
    "use used using took take taking waste wasted threw throw throwing tossed toss binned bin dumped dropped "
    "spilled spilt spoiled spoilt expired burnt set count counted recount move moved moving transfer "
    "transferred shift shifted out ran run empty finished 86 left remaining low expiring expire expires short"
)
_PHRASES = frozenset(
    {("how", "much"), ("how", "many"), ("do", "we", "have"), ("is", "there"), ("are", "there")}
)
_NUMBERS = frozenset([*ONES, *TEENS, *TENS, *SCALES, *FRACTIONS, "dozen", "couple", "pair", "zero", "none"])
_UNITS = frozenset(form for key, forms in FAMILIES.items() for form in (key, *forms) if " " not in form)
#: orders and service talk: "two eggs benedict for table five"
_ORDERS = _words("table tables order orders ordered ticket tickets customer customers guest guests")
_ORDER_PHRASES = frozenset(
    {("to", "go"), ("for", "here"), ("can", "i", "get"), ("could", "i", "get"), ("i", "would", "like")}
)
#: talk to the model rather than about stock: never sent to it
_STEERING = _words(
    "ignore instruction instructions prompt system assistant pretend roleplay jailbreak override disregard "
    "forget everything delete reset wipe erase admin developer rules"
)
_STOPWORDS = _words(
    "the a an and of to in on at for with we our i you it is are was be that this there some any more "
    "just have has had need get put from into"
)
MAX_WORDS = 30


_Words = tuple[frozenset[tuple[str, ...]], frozenset[str], frozenset[str]]  # item phrases, units, codes
_last: tuple[Catalogue, _Words] | None = None


def _catalogue_words(catalogue: Catalogue) -> _Words:
    """Item phrases as token tuples, the catalogue's unit words, and metaphone codes of the item words."""
    global _last
    if _last is not None and _last[0] is catalogue:
        return _last[1]
    phrases: set[tuple[str, ...]] = set()
    codes: set[str] = set()
    units: set[str] = set()
    for item in catalogue.items:
        for name in (item.name, *item.aliases):
            phrase = tuple(normalise_name(name).split())
            if phrase:
                phrases.add(phrase)
                codes.update(jellyfish.metaphone(w) for w in phrase if len(w) >= 4 and w not in _STOPWORDS)
        for unit in (item.unit, *item.packs):
            units.update(normalise_name(unit).split())
    found = (frozenset(phrases), frozenset(units), frozenset(codes))
    _last = (catalogue, found)
    return found


def _has_phrase(tokens: list[str], phrases: frozenset[tuple[str, ...]]) -> bool:
    longest = max((len(p) for p in phrases), default=0)
    return any(tuple(tokens[i : i + n]) in phrases for n in range(1, longest + 1) for i in range(len(tokens)))


def looks_like_inventory_request(text: str, catalogue: Catalogue) -> bool:
    """Whether the words sound like a stock request the grammar failed to read (pure).

    Yes when a stock verb comes with an item, unit or number, or an item comes with a unit or number. No for
    orders and service talk, for long chatter, and for anything that addresses the model itself ("ignore your
    instructions", "delete everything"). Item words also match by sound (metaphone): a mis-heard item counts.
    """
    tokens = tokenize(text)
    if not tokens or len(tokens) > MAX_WORDS:
        return False
    if any(t in _STEERING for t in tokens) or _has_phrase(tokens, _ORDER_PHRASES):
        return False
    if any(t in _ORDERS for t in tokens):
        return False
    phrases, unit_words, codes = _catalogue_words(catalogue)
    verb = any(t in _VERBS for t in tokens) or _has_phrase(tokens, _PHRASES)
    number = any(t in _NUMBERS or t[:1].isdigit() for t in tokens)
    unit = any(t in _UNITS or t in unit_words for t in tokens)
    item = _has_phrase(tokens, phrases) or any(
        len(t) >= 4 and t not in _STOPWORDS and jellyfish.metaphone(t) in codes for t in tokens
    )
    return (verb and (item or unit or number)) or (item and (unit or number))
