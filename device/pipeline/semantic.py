"""Semantic endpointing: whether the words heard so far close a command, and how long a pause then ends the turn.

Pure, like the endpointer: no audio, clocks or asyncio. While the cook pauses, the runner hands over the latest
hearing (offline Whisper's draft, or Deepgram's interim or early final) and its parse; ``judge`` reads it as

- ``COMPLETE``: a confident command whose last word closes it (the end of an item's, a place's or a unit's
  name, "have" / "left" of a question, or a whole short reply: yes, cancel, undo);
- ``INCOMPLETE``: the words stop mid-phrase: on a word that needs more ("of", "to", "the", "and"...), a stock
  change with no item yet ("add three cartons") or ending on its amount ("set whole milk to four"), a move
  with nowhere to go ("move the oat milk"), or "how many" / "how much" with nothing named yet;
- ``UNSURE``: anything else (unknown words, a low-confidence parse, a name that another name goes on from:
  "two bags of coffee" may be "coffee beans").

``decide`` turns the verdict and the pause so far into a ``Step``. Any words not known to stop mid-phrase ask
for their final transcript after ``pause_s`` (Deepgram's Finalize: its answer is then judged in turn, so a
streaming engine's answer time overlaps the pause whatever its interim results said). A complete command ends
the turn once the pause has lasted ``hold_s`` (speech that resumes before then joins the same command: nothing
was applied); an unsure one ends after the usual ``end_silence_s``; an incomplete one waits up to
``open_silence_s``. While a draft is still being transcribed the turn is not ended before it is read (the
transcript is needed then anyway), up to ``open_silence_s``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from device.intent.command import Action, Command
from device.intent.numbers import FRACTIONS, ONES, SCALES, TEENS, TENS
from device.intent.text import DISFLUENCIES, normalise_name, tokenize
from device.intent.units import FAMILIES
from device.inventory.catalog import Catalogue
from device.settings import Settings


class Verdict(StrEnum):
    COMPLETE = "complete"
    INCOMPLETE = "incomplete"
    UNSURE = "unsure"


#: words after which a command cannot have ended
OPEN_WORDS = frozenset(
    {
        *("of", "to", "the", "a", "an", "and", "in", "into", "inside", "from", "at", "on", "onto", "for"),
        *("some", "with", "by", "my", "our", "your", "than", "or", "but", "then", "is", "are", "was", "were"),
        *("do", "does", "did", "we", "i", "it's", "its", "there's", "theres", "like", "about", "another"),
        *("more", "over", "out", "away", "up", "off", "down", "how", "what", "which", "set", "add", "move"),
        *("used", "use", "using", "toss", "throw", "threw", "waste", "wasted", "put", "got", "get", "many"),
        *("much", "any", "all", "few", "couple", "half", "quarter", "per", "each", "every", "expires"),
        *("expiring", "expire", "until", "till", "before", "after", "this", "that", "these", "those"),
    }
)
_NUMBERS = frozenset([*ONES, *TEENS, *TENS, *SCALES, *FRACTIONS, "dozen", "zero"])
#: words a question may end on besides the names it asks about
QUESTION_CLOSERS = frozenset(
    {"have", "left", "got", "there", "stock", "hand", "remaining", "expiring", "low", "week", "today"}
)
#: words an expiry or a day may end a stock change on ("... expiring Friday")
DAY_CLOSERS = frozenset(
    {
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "today",
        "tomorrow",
        "week",
    }
)
_REPLIES = frozenset({Action.UNDO, Action.CANCEL, Action.CONFIRM})
_QUESTION_OPENERS = frozenset({("how", "many"), ("how", "much")})
_QUESTIONS = frozenset({Action.QUERY, Action.EXPIRING, Action.LOW})


def _stem(word: str) -> str:
    for suffix in ("ies", "es", "s"):
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


@dataclass(frozen=True)
class Closers:
    """Names a command can end on: every item, alias, place and unit name, as words (the last one also stemmed,
    so "avocados" closes "avocado")."""

    names: frozenset[tuple[str, ...]]
    longest: int
    #: the first words of names that go on ("oat" of "oat milk")
    prefixes: frozenset[tuple[str, ...]] = frozenset()

    @classmethod
    def of(cls, catalogue: Catalogue) -> Closers:
        """The closers of ``catalogue`` (the last catalogue's are kept: it changes rarely)."""
        global _last
        if _last is None or _last[0] is not catalogue:
            _last = (catalogue, _closers(catalogue))
        return _last[1]

    def end(self, words: Sequence[str]) -> bool:
        """``words`` end with a whole name."""
        return self._longest(words) is not None

    def goes_on(self, words: Sequence[str]) -> bool:
        """The longest name ``words`` end with is the start of a longer one ("... of oat" / "oat milk")."""
        tail = self._longest(words)
        return tail is not None and tail in self.prefixes

    def _longest(self, words: Sequence[str]) -> tuple[str, ...] | None:
        for size in range(min(self.longest, len(words)), 0, -1):
            tail = tuple(words[-size:])
            if tail in self.names or (*tail[:-1], _stem(tail[-1])) in self.names:
                return tail
        return None


_last: tuple[Catalogue, Closers] | None = None


def _closers(catalogue: Catalogue) -> Closers:
    names: list[str] = [*catalogue.locations]
    for item in catalogue.items:
        names += [item.name, *item.aliases]
    names += [form for forms in FAMILIES.values() for form in forms] + list(FAMILIES)
    words = {tuple(normalise_name(name).split()) for name in names} - {()}
    prefixes = {w[:size] for w in words for size in range(1, len(w))}
    words |= {(*w[:-1], _stem(w[-1])) for w in words}
    return Closers(frozenset(words), max(len(w) for w in words), frozenset(prefixes))


def judge(text: str, command: Command, closers: Closers, *, min_confidence: float) -> Verdict:
    """How the words heard so far stand (see the module docstring). ``command`` is their parse."""
    words: Sequence[str] = [w for w in tokenize(text) if w not in DISFLUENCIES]
    if not words:
        return Verdict.UNSURE
    if command.action in _REPLIES:
        return Verdict.COMPLETE if command.confidence >= min_confidence else Verdict.UNSURE
    last = words[-1]
    closed = (
        closers.end(words)
        or (command.action in _QUESTIONS and last in QUESTION_CLOSERS)
        or (command.expires is not None and last in DAY_CLOSERS)
    )
    if not closed and last in OPEN_WORDS:
        return Verdict.INCOMPLETE
    if command.changes_stock and command.item is None:
        return Verdict.INCOMPLETE
    if tuple(words[:2]) in _QUESTION_OPENERS and command.item is None and command.location is None:
        return Verdict.INCOMPLETE  # "how many pounds ... of bacon do we have": what it asks about is to come
    if command.action is Action.MOVE and command.to_location is None:
        return Verdict.INCOMPLETE
    number = last in _NUMBERS or last.replace(".", "").isdigit()
    if command.changes_stock and number and len(words) > 1:
        return Verdict.INCOMPLETE  # its amount: a unit or more may follow
    if command.action is Action.UNKNOWN or command.confidence < min_confidence:
        return Verdict.UNSURE
    if command.unmatched or command.ambiguous or number or closers.goes_on(words):
        return Verdict.UNSURE
    return Verdict.COMPLETE if closed else Verdict.UNSURE


@dataclass(frozen=True)
class SemanticConfig:
    """Pauses, seconds of silence as the endpointer counts it."""

    pause_s: float = 0.1
    hold_s: float = 0.35
    end_silence_s: float = 0.5
    open_silence_s: float = 1.0
    #: a parse at least this confident can end a turn early
    min_confidence: float = 0.8

    @classmethod
    def from_settings(cls, settings: Settings) -> SemanticConfig | None:
        """The settings' semantic endpointing, or None when it is off."""
        if not settings.semantic_endpointing:
            return None
        return cls(
            pause_s=settings.semantic_pause_s,
            hold_s=max(settings.semantic_pause_s, settings.semantic_hold_s),
            end_silence_s=settings.end_silence_s,
            open_silence_s=max(settings.end_silence_s, settings.semantic_open_silence_s),
        )


@dataclass(frozen=True)
class Step:
    """What to do at this point of a pause."""

    finalize: bool = False  # ask for the final transcript now (the turn is about to end)
    end: bool = False  # the turn ends now ...
    early: bool = False  # ... because the words closed a command (not on silence)


def decide(verdict: Verdict | None, silence_s: float, config: SemanticConfig, *, draft_pending: bool) -> Step:
    """The step for a pause of ``silence_s`` given the latest verdict (None: no hearing of this pause yet;
    ``draft_pending``: one is being transcribed)."""
    eps = 1e-9
    if verdict is Verdict.INCOMPLETE or (verdict is None and draft_pending):
        return Step(end=silence_s + eps >= config.open_silence_s)
    finalize = silence_s + eps >= config.pause_s
    if verdict is Verdict.COMPLETE:
        end = silence_s + eps >= config.hold_s
        return Step(finalize=finalize, end=end, early=end)
    return Step(finalize=finalize, end=silence_s + eps >= config.end_silence_s)
