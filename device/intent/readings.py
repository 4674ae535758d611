"""Readings of a command's audio near what the recogniser heard, and the choice between them. Pure.

Whisper tiny.en in kitchen noise confuses words that sound alike: numbers and units ("two cases" heard as "few
cases", "move four bottles" as "move forward bottles", "one tray of eggs" as "one tree of eggs") and, in robotic
or noisy speech, the catalogue's names ("we're out of moment milk", "to the lock-in"). ``GrammarReadings.propose``
lists the readings one number or unit swap away from each hearing that reads as a command and, when none reads
as one with ``sure_confidence``, the readings with a catalogue name (item, alias or place) in place of words that
sound like it. The speech engine scores every reading on the audio it already encoded; ``choose`` takes the
first reading when it reads as a command, else the best-scoring reading that reads as one (unless the words heard
fit the audio ``FAR`` better), and names as *rivals* the readings that mean another stock change and score within
``MARGIN`` of it. A command with a rival is never applied without a question, nor is one taken from a reading
other than the best hearing (its ``rank`` says so).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rapidfuzz import fuzz, process

from device.intent.command import Command, slots
from device.intent.grammar import Grammar
from device.intent.matching import STOPWORDS
from device.intent.numbers import ONES, TEENS, TENS
from device.intent.phrases import VERBS
from device.intent.resolver import reads_as_command
from device.intent.sounds import sound_key
from device.intent.text import normalise_name
from device.intent.units import FAMILIES, plural, singular
from device.inventory.catalog import Catalogue
from device.protocols import Choice, Reading

#: a rival scoring within this many nats (summed log-probability) of the reading taken puts it in doubt
MARGIN = 5.0
#: readings proposed per hearing, at most (each costs a little of the scoring pass)
MAX_PROPOSALS = 12
#: rivals named in a question, at most
MAX_RIVALS = 1
#: a catalogue name put in place of words heard must sound at least this alike to them (0-100)
NAME_LIKENESS = 50.0
#: words that say fewer sounds than this are not respelt
MIN_SOUNDS = 3
#: a reading other than the best hearing is taken only within this many nats of the best-scoring reading
FAR = 10.0
#: names tried in place of each run of words (the most alike)
NAME_CHOICES = 3
#: words replaced by one catalogue name, at most
NAME_SPAN = 3
#: readings with a catalogue name in place of the words heard, per hearing, at most
MAX_NAME_SWAPS = 6
#: name swaps parsed per hearing, at most (the best-sounding first)
NAME_TRIES = 10
#: hearings respelt with names, and respelt readings respelt again, at most
MAX_RESPELT = 2

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
_VALUES = {**ONES, **TEENS, **TENS}
#: words a name never replaces: they carry the command's verb, amount and unit, or nothing
_KEPT = frozenset(
    [*STOPWORDS, *_VALUES, *(w for phrase in VERBS for w in phrase)]
    + [f for key, forms in FAMILIES.items() for f in (key, *forms)]
)
_BEFORE_ARTICLE = frozenset({"to", "too"})
_ARTICLE = re.compile(r"\s+(?:the|a|an)\b", re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)*|\d+")


class GrammarReadings:
    """``protocols.Readings`` over the grammar of a catalogue (``set_catalogue`` follows a new one)."""

    def __init__(
        self, catalogue: Catalogue, min_confidence: float = 0.6, sure_confidence: float = 0.85
    ) -> None:
        self.min_confidence = min_confidence
        #: a hearing read with this confidence is doubted only in its numbers and units, not in its names
        self.sure_confidence = sure_confidence
        self.set_catalogue(catalogue)

    def set_catalogue(self, catalogue: Catalogue) -> None:
        self.grammar = Grammar(catalogue)
        units = {u for item in catalogue.items for u in (item.unit, *item.packs)} - {"each"}
        self._units = {unit: _consonants(unit) for unit in sorted(units) if " " not in unit}
        names = [(n, False) for item in catalogue.items for n in (item.name, *item.aliases)]
        names += [(n, True) for n in catalogue.locations]
        #: sound key -> (name, is a place)
        self._names = {"".join(map(sound_key, normalise_name(n).split())): (n, p) for n, p in names}
        self._name_keys = list(self._names)
        self._place_keys = [k for k, (_, place) in self._names.items() if place]
        self._exact = {n.lower(): p for n, p in names}

    def accept(self, text: str) -> bool:
        return reads_as_command(self.grammar.parse(text), self.min_confidence)

    def propose(self, heard: Sequence[str]) -> list[str]:
        """Readings near the hearings: for each that reads as a command, one number or unit word swapped for a
        sound-alike; when none reads as a command with at least ``sure_confidence``, also readings with
        catalogue names (items, aliases, places) in place of words that sound like them (those that read as
        a command), and their number and unit sound-alikes."""
        found: dict[str, None] = {}
        parsed = {t: self.grammar.parse(t) for t in heard}
        commands = [t for t in heard if reads_as_command(parsed[t], self.min_confidence)]
        if not any(parsed[t].confidence >= self.sure_confidence for t in commands):
            for text in heard[:MAX_RESPELT]:
                swapped = self._name_swaps(text)
                for again in swapped[:MAX_RESPELT]:  # two names misheard: "quasas ... to the lime"
                    swapped += self._name_swaps(again)
                found.update(dict.fromkeys(swapped))
            commands += list(found)[:MAX_RESPELT]
        for text in commands:  # a doubt about a command; chatter stays chatter
            for match in _WORD.finditer(text):
                if match.group().lower() in _BEFORE_ARTICLE and _ARTICLE.match(text, match.end()):
                    continue  # "to the walk-in" is no number
                for word in self._near(match.group()):
                    found.setdefault(_swap(text, match, word))
        return [t for t in found if t not in heard][:MAX_PROPOSALS]

    def _name_swaps(self, text: str) -> list[str]:
        """Readings of ``text`` with one to ``NAME_SPAN`` words replaced by a catalogue name that sounds like
        them, best-sounding first, those that read as a command."""
        words = list(_WORD.finditer(text))
        options: list[tuple[float, str]] = []
        for start in range(len(words)):
            for end in range(start + 1, min(start + NAME_SPAN, len(words)) + 1):
                said = [m.group().lower() for m in words[start:end]]
                if said[0] in _KEPT or said[-1] in _KEPT or any(w in _VALUES or w.isdigit() for w in said):
                    continue
                exact = self._exact.get(" ".join(said))
                sounds = "".join(map(sound_key, said))
                if exact or len(sounds) < MIN_SOUNDS:  # a place heard stays; an item may be a place misheard
                    continue
                keys = self._name_keys if exact is None else self._place_keys
                for key, likeness, _ in process.extract(
                    sounds,
                    keys,
                    scorer=fuzz.ratio,
                    score_cutoff=NAME_LIKENESS,
                    limit=NAME_CHOICES,
                ):
                    name = self._names[key][0]
                    swapped = text[: words[start].start()] + name + text[words[end - 1].end() :]
                    options.append((likeness, swapped))
        options.sort(key=lambda o: -o[0])
        heard = slots(self.grammar.parse(text))
        effects: dict[tuple[object, ...], str] = {}  # one reading per command: the best-sounding
        for reading in list(dict.fromkeys(t for _, t in options if t != text))[:NAME_TRIES]:
            command = self.grammar.parse(reading)
            if reads_as_command(command, self.min_confidence):
                effects.setdefault(slots(command), reading)
        effects.pop(heard, None)
        return list(effects.values())[:MAX_NAME_SWAPS]

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
        if taken is not best and taken.score < max(r.score for r in scored) - FAR:
            return Choice(best.text)  # the words heard fit the audio far better: chatter stays chatter
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
        words = list(NEAR.get(lower, ()))
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
