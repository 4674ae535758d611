"""The resolver chain: the local grammar first, the language model only when the grammar can't read a request.

``ChainResolver.resolve`` parses with the grammar. A confident parse is the answer (no network). When the parse is
``unknown`` or below ``min_confidence``, the LLM is asked, but only if the words look like an inventory request
(``looks_like_inventory_request``): chatter, customer orders and speech that tries to instruct the model stay as
the grammar read them without leaving the unit. A usable LLM answer replaces the parse (it carries
``resolver=LLM``, so the dialogue confirms any stock change); when the LLM has nothing (offline, timeout, a
refused answer), the grammar's own result stands: ``unknown`` -> "Sorry, I didn't catch that", nothing changes.
"""

from __future__ import annotations

import itertools
import logging
from datetime import date
from typing import Protocol

import jellyfish

from device.intent.command import Action, Command
from device.intent.llm import LlmResolver
from device.intent.numbers import FRACTIONS, ONES, SCALES, TEENS, TENS
from device.intent.phrases import CONTEXT_VERBS, VERBS, is_injection, is_order_or_chatter, targets_a_list
from device.intent.text import find_phrases, normalise_name, strip_fillers, tokenize
from device.intent.units import FAMILIES
from device.inventory.catalog import Catalogue

log = logging.getLogger(__name__)


class Grammar(Protocol):
    """What the chain needs of ``device.intent.grammar.Grammar``."""

    def parse(self, text: str, *, today: date | None = None) -> Command: ...


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
        """Whether this grammar result should go to the LLM (pure): unclear, and it sounds like stock talk."""
        if self._llm is None or self._catalogue is None:
            return False
        if command.action in {Action.UNDO, Action.CANCEL, Action.CONFIRM} or command.ambiguous:
            return False
        if command.action is not Action.UNKNOWN and command.confidence >= self.min_confidence:
            return False
        return looks_like_inventory_request(text, self._catalogue)

    async def resolve(self, text: str) -> Command:
        command = self._grammar.parse(text)
        if self._llm is None or not self.wants_llm(command, text):
            return command
        answer = await self._llm.resolve(text)
        if answer.action is Action.UNKNOWN:
            return command
        log.info("grammar gave %s (%.2f); the LLM resolved %r", command.action, command.confidence, text)
        return answer


def reads_as_command(command: Command, min_confidence: float) -> bool:
    """Whether a parse is something the unit can act on or answer: a known action, confidently read, with no
    words left unmatched (pure). Whisper's second guess keeps the first runner-up hearing that passes."""
    return (
        command.action is not Action.UNKNOWN
        and command.confidence >= min_confidence
        and not command.unmatched
    )


# --- the gate: does this look like something for the inventory? ---

_QUESTIONS: dict[tuple[str, ...], object] = {
    ("how", "much"): None,
    ("how", "many"): None,
    ("do", "we", "have"): None,
    ("is", "there", "any"): None,
    ("are", "there", "any"): None,
    ("86",): None,
    ("eighty", "six"): None,
}
_STOCK_PHRASES: dict[tuple[str, ...], object] = {**VERBS, **CONTEXT_VERBS, **_QUESTIONS}
_STOCK_LONGEST = max(len(p) for p in _STOCK_PHRASES)
_NUMBERS = frozenset([*ONES, *TEENS, *TENS, *SCALES, *FRACTIONS, "dozen", "couple", "pair", "zero", "none"])
_UNITS = frozenset(form for key, forms in FAMILIES.items() for form in (key, *forms) if " " not in form)
_COMMON = frozenset(
    {"the", "and", "with", "that", "this", "there", "some", "have", "need", "from", "into", "what", "when"}
)
MAX_WORDS = 30

_Words = tuple[dict[tuple[str, ...], object], int, frozenset[str], frozenset[str]]
_last: tuple[Catalogue, _Words] | None = None


def _catalogue_words(catalogue: Catalogue) -> _Words:
    """Item phrases (token tuples) and the longest, the catalogue's unit words, metaphone codes of item words."""
    global _last
    if _last is not None and _last[0] is catalogue:
        return _last[1]
    phrases: dict[tuple[str, ...], object] = {}
    codes: set[str] = set()
    units: set[str] = set()
    for item in catalogue.items:
        for name in (item.name, *item.aliases):
            phrase = tuple(normalise_name(name).split())
            if phrase:
                phrases[phrase] = item.name
                codes.update(jellyfish.metaphone(w) for w in phrase if len(w) >= 4 and w not in _COMMON)
        for unit in (item.unit, *item.packs):
            units.update(normalise_name(unit).split())
    found = (phrases, max((len(p) for p in phrases), default=1), frozenset(units), frozenset(codes))
    _last = (catalogue, found)
    return found


def looks_like_inventory_request(text: str, catalogue: Catalogue) -> bool:
    """Whether the words sound like a stock request the grammar failed to read (pure).

    Yes when a stock verb (the grammar's own verb table) or a stock question comes with an item, unit or number,
    or an item comes with a unit or number. No for anything the grammar calls a prompt injection, a customer
    order, chatter or a shopping-list note, and for long talk. Item words also match by sound (metaphone), so a
    mis-heard item ("oddly" for "oatly") still counts.
    """
    tokens = strip_fillers(tokenize(text))
    if not tokens or len(tokens) > MAX_WORDS:
        return False
    joined = " ".join(tokens)
    if is_injection(text, joined) or is_order_or_chatter(joined) or targets_a_list(joined):
        return False
    phrases, longest, unit_words, codes = _catalogue_words(catalogue)
    verb = bool(find_phrases(tokens, _STOCK_PHRASES, _STOCK_LONGEST))
    number = any(t in _NUMBERS or t[:1].isdigit() for t in tokens)
    unit = any(t in _UNITS or t in unit_words for t in tokens)
    joined_pairs = [a + b for a, b in itertools.pairwise(tokens)]  # "sour dough" -> "sourdough"
    item = bool(find_phrases(tokens, phrases, longest)) or any(
        len(t) >= 4 and t not in _COMMON and jellyfish.metaphone(t) in codes for t in [*tokens, *joined_pairs]
    )
    return (verb and (item or unit or number)) or (item and (unit or number))
