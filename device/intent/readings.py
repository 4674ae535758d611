"""Readings of a command's audio near what the recogniser heard, and the choice between them. Pure.

Whisper tiny.en in kitchen noise confuses words that sound alike, and the worst of those confusions are numbers and
units: "two cases" heard as "few cases", "move four bottles" as "move forward bottles", "one tray of eggs" as
"one tree of eggs"; and a few verbs of different actions ("threw away" as "put away"). ``GrammarReadings.propose``
lists the readings one such swap away from each hearing (number words and their sound-alikes, the catalogue's
units by sound, those verbs); the speech engine scores every reading on the audio it already encoded; ``choose``
takes the first reading when it reads as a command (else the best-scoring reading that does), and names as
*rivals* the readings that mean another stock change and score within ``MARGIN`` of it. A command with a rival
is never applied without a question.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from device.intent.command import Command, slots
from device.intent.grammar import Grammar
from device.intent.matching import STOPWORDS
from device.intent.numbers import ONES, TEENS, TENS
from device.intent.resolver import reads_as_command
from device.intent.sounds import sound_key
from device.intent.units import plural, singular
from device.inventory.catalog import Catalogue
from device.protocols import Choice, Reading

#: a rival scoring within this many nats (summed log-probability) of the reading taken puts it in doubt
MARGIN = 5.0
#: readings proposed per hearing, at most (each costs a little of the scoring pass)
MAX_PROPOSALS = 12
#: rivals named in a question, at most
MAX_RIVALS = 1

_TEEN_TENS = (
    ("thirteen", "thirty"),
    ("fourteen", "forty"),
    ("fifteen", "fifty"),
    ("sixteen", "sixty"),
    ("seventeen", "seventy"),
    ("eighteen", "eighty"),
    ("nineteen", "ninety"),
)
#: words heard -> the number words they may have been (sound-alikes both ways, and neighbours in noise)
NEAR: dict[str, tuple[str, ...]] = {
    "two": ("few", "ten"),
    "few": ("two",),
    "to": ("two",),
    "too": ("two",),
    "three": ("tree", "free"),
    "tree": ("three",),
    "free": ("three",),
    "four": ("for", "five"),
    "for": ("four",),
    "fore": ("four",),
    "forward": ("four",),
    "five": ("four", "nine"),
    "fine": ("five",),
    "nine": ("five",),
    "six": ("sixteen",),
    "sex": ("six",),
    "seven": ("eleven",),
    "eleven": ("seven",),
    "eight": ("eighteen",),
    "ate": ("eight",),
    "ten": ("two",),
    "won": ("one",),
    **{teen: (tens,) for teen, tens in _TEEN_TENS},
    **{tens: (teen,) for teen, tens in _TEEN_TENS},
}
#: verbs heard -> the verbs of another stock action they may have been ("threw away" heard as "put away": a
#: waste applied as a delivery)
VERB_NEAR: dict[str, tuple[str, ...]] = {
    "put": ("threw",),
    "threw": ("put",),
    "through": ("threw",),
    "throw": ("put",),
    "took": ("threw",),
}
_VALUES = {**ONES, **TEENS, **TENS}
_WORD = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)*|\d+")


class GrammarReadings:
    """``protocols.Readings`` over the grammar of a catalogue (``set_catalogue`` follows a new one)."""

    def __init__(self, catalogue: Catalogue, min_confidence: float = 0.6) -> None:
        self.min_confidence = min_confidence
        self.set_catalogue(catalogue)

    def set_catalogue(self, catalogue: Catalogue) -> None:
        self.grammar = Grammar(catalogue)
        units = {u for item in catalogue.items for u in (item.unit, *item.packs)} - {"each"}
        self._units = {unit: _consonants(unit) for unit in sorted(units) if " " not in unit}

    def accept(self, text: str) -> bool:
        return reads_as_command(self.grammar.parse(text), self.min_confidence)

    def propose(self, heard: Sequence[str]) -> list[str]:
        """Readings one word away from each hearing that reads as a command: numbers and their sound-alikes,
        units by sound, verbs of another action by sound."""
        found: dict[str, None] = {}
        for text in filter(self.accept, heard):  # a doubt about a command; chatter stays chatter
            for match in _WORD.finditer(text):
                for word in self._near(match.group()):
                    found.setdefault(_swap(text, match, word))
        return [t for t in found if t not in heard][:MAX_PROPOSALS]

    def choose(self, scored: Sequence[Reading]) -> Choice:
        """The reading to take and its close rivals (see the module's docstring). ``scored[0]`` is the best
        hearing."""
        if not scored:
            return Choice("")
        best = scored[0]
        parsed = {r.text: self.grammar.parse(r.text) for r in scored}
        valid = [r for r in scored if reads_as_command(parsed[r.text], self.min_confidence)]
        if not valid:
            return Choice(best.text)
        taken = best if valid[0] is best else max(valid, key=lambda r: r.score)
        command = parsed[taken.text]
        rivals: dict[tuple[object, ...], Reading] = {}
        if command.changes_stock:
            for r in sorted(valid, key=lambda r: -r.score):
                other = parsed[r.text]
                key = self._effect(other)
                if (
                    other.changes_stock
                    and not other.missing  # "few cases": names no other amount
                    and key != self._effect(command)
                    and key not in rivals
                    and r.score >= taken.score - MARGIN
                ):
                    rivals[key] = r
        return Choice(taken.text, taken.rank, tuple(r.text for r in list(rivals.values())[:MAX_RIVALS]))

    def _effect(self, command: Command) -> tuple[object, ...]:
        """A command's slots, with an unnamed place read as the item's own ("to the walk-in" = not said)."""
        item = self.grammar.catalogue.get(command.item or "")
        if command.location is None and item is not None:
            command = command.with_(location=item.location)
        return slots(command)

    def _near(self, word: str) -> list[str]:
        lower = word.lower()
        if lower.isdigit():
            value = int(lower)
            names = [name for name, v in _VALUES.items() if v == value]
            near = [n for name in names for n in NEAR.get(name, ()) if n in _VALUES]
            return [str(_VALUES[n]) for n in near]
        words = [*NEAR.get(lower, ()), *VERB_NEAR.get(lower, ())]
        said = singular(lower)
        skeleton = _consonants(said)
        if len(skeleton) >= 2 and lower not in _VALUES and lower not in STOPWORDS:
            for unit, unit_skeleton in self._units.items():
                if unit != said and unit_skeleton == skeleton:
                    words.append(plural(unit) if said != lower else unit)
        return words


def _consonants(word: str) -> str:
    """The consonants of how a word sounds ("tree", "tray" -> "tr"; "bags", "packs" -> "pks")."""
    return "".join(c for c in sound_key(word) if c not in "aeo")


def _swap(text: str, match: re.Match[str], word: str) -> str:
    said = match.group()
    if said[:1].isupper():
        word = word[:1].upper() + word[1:]
    return text[: match.start()] + word + text[match.end() :]
