"""Item names by how they sound: the last resort for a word speech recognition misheard.

Whisper writes "both milk" or "oak milk" for oat milk, "double green" for double cream, "bables" for bagels: words
that sound like the name but are spelled nothing like it. ``sound_key`` reduces a word to its consonant skeleton
with voicing ignored (b=p, d=t, g=k, v=f, m=n) and every vowel run as one ``a``; ``SoundIndex.match`` scores each
catalogue name against the words said, word by word, and also forgives a consonant glued to the front of a name
that starts with a vowel ("of oat" heard as "of boat"). It only runs where an item is expected and nothing else
matched, and it only answers when one item clearly sounds best. Built once per catalogue; matching is pure.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from device.intent.text import normalise_name
from device.inventory.catalog import Item

#: lowest score (0-100) that names an item by sound, and the lead it needs over the next item
ACCEPT = 82.0
MARGIN = 6.0
#: no single word may sound less like its counterpart than this
WORD_FLOOR = 70.0
#: a word this short says too little about its sound to be guessed from
MIN_KEY = 2
_LIAISON_COST = 6.0
#: a name said in a different number of words than it is written is a little less likely
_SPLIT_COST = 4.0
_VOWELS = frozenset("aeo")

_SPELLINGS = (
    (re.compile(r"^kn|^gn|^wr"), lambda m: m.group(0)[1]),
    (re.compile(r"tch"), "ch"),
    (re.compile(r"ph"), "f"),
    (re.compile(r"gh(?=[^aeiouy]|$)"), ""),
    (re.compile(r"ck"), "k"),
    (re.compile(r"qu"), "kw"),
    (re.compile(r"wh"), "w"),
    (re.compile(r"th"), "t"),
    (re.compile(r"sh|ch"), "j"),
    (re.compile(r"c(?=[eiy])"), "s"),
    (re.compile(r"g(?=[eiy])"), "j"),
    (re.compile(r"x"), "ks"),
    (re.compile(r"(?<=[^aeiou])e$"), ""),
)
_CLASSES = str.maketrans(
    {
        "b": "p",
        "d": "t",
        "g": "k",
        "c": "k",
        "q": "k",
        "v": "f",
        "z": "s",
        "m": "n",
        "h": None,
        "i": "e",
        "y": "e",
        "u": "o",
    }
)


def sound_key(word: str) -> str:
    """How ``word`` sounds, roughly: "croissants" -> "krosants", "both" -> "pot", "cream" -> "kren"."""
    text = re.sub(r"[^a-z]", "", word.lower())
    if not text:
        return ""
    y_start = text.startswith("y")
    for pattern, replacement in _SPELLINGS:
        text = pattern.sub(replacement, text)
    text = ("Y" if y_start else "") + text[1 if y_start else 0 :]
    text = text.translate(_CLASSES).replace("Y", "y")
    out: list[str] = []
    for ch in text:
        if not out or (out[-1] != ch and not (ch in _VOWELS and out[-1] in _VOWELS)):
            out.append(ch)
    return "".join(out)


def _glued(said: str) -> bool:
    """Whether ``said`` could be a vowel-initial word with a consonant glued on ("boat" for "oat")."""
    return len(said) > 1 and said[0] not in _VOWELS and said[1] in _VOWELS


def _short(a: str, b: str) -> bool:
    """Too short to be near: only the same sound counts."""
    return min(len(a), len(b)) < 3 and a != b


@dataclass(frozen=True)
class _Name:
    item: str
    words: tuple[str, ...]  # sound keys, one per word
    joined: str


@dataclass(frozen=True)
class SoundMatch:
    item: str
    score: float  # 0-100


class SoundIndex:
    """Every item name and alias as sound keys."""

    def __init__(self, items: Sequence[Item]) -> None:
        names: dict[tuple[str, tuple[str, ...]], None] = {}
        for item in items:
            for raw in (item.name, *item.aliases):
                keys = tuple(k for k in (sound_key(w) for w in normalise_name(raw).split()) if k)
                if keys:
                    names[(item.name, keys)] = None
        self._names = [_Name(item, keys, "".join(keys)) for item, keys in names]
        self._vocab = sorted({w for name in self._names for w in name.words})
        self._by_first: dict[tuple[int, str], list[_Name]] = {}  # (word count, first word) -> names
        for name in self._names:
            self._by_first.setdefault((len(name.words), name.words[0]), []).append(name)
        self._joined = [name.joined for name in self._names]

    def match(self, words: Sequence[str], allowed: Collection[str] | None = None) -> SoundMatch | None:
        """The item ``words`` sound like (only among ``allowed``, when given), if one clearly does.

        A name with as many words as were said scores the mean of its words' likeness (none below
        ``WORD_FLOOR``); a name split differently ("boat leak" for "oatly") is compared as one run of sound.
        """
        said = tuple(k for k in (sound_key(w) for w in words) if k)
        if not said or sum(len(k) for k in said) < MIN_KEY + 1:
            return None
        strict = len(said) == 1
        tables = [self._word_scores(w, strict) for w in said]
        best: dict[str, float] = {}

        def offer(item: str, score: float) -> None:
            if (allowed is None or item in allowed) and score > best.get(item, 0.0):
                best[item] = score

        for first in tables[0]:
            for name in self._by_first.get((len(said), first), ()):
                scores = [table.get(w) for table, w in zip(tables, name.words, strict=True)]
                if all(s is not None for s in scores):
                    offer(name.item, sum(s for s in scores if s is not None) / len(scores))
        joined = "".join(said)
        for key, score, i in process.extract(
            joined, self._joined, scorer=fuzz.ratio, score_cutoff=ACCEPT + _SPLIT_COST, limit=None
        ):
            if len(self._names[i].words) != len(said) and not _short(joined, key):
                offer(self._names[i].item, score - _SPLIT_COST)
        ranked = sorted(best.items(), key=lambda kv: -kv[1])
        if not ranked or ranked[0][1] < ACCEPT:
            return None
        if len(ranked) > 1 and ranked[0][1] - ranked[1][1] < MARGIN:
            return None
        return SoundMatch(ranked[0][0], ranked[0][1])

    def _word_scores(self, said: str, strict: bool) -> dict[str, float]:
        """Name words (sound keys) at least ``WORD_FLOOR`` alike to the word ``said``, with their scores.

        ``strict`` (a one-word name): short words must sound the same, and a glued consonant is forgiven only
        before a name of four sounds or more.
        """
        scores: dict[str, float] = {}
        for key, score, _ in process.extract(
            said, self._vocab, scorer=fuzz.ratio, score_cutoff=WORD_FLOOR, limit=None
        ):
            if not (strict and _short(said, key)):
                scores[key] = score
        if _glued(said):
            rest = said[1:]
            for key, score, _ in process.extract(
                rest, self._vocab, scorer=fuzz.ratio, score_cutoff=WORD_FLOOR + _LIAISON_COST, limit=None
            ):
                if key[0] in _VOWELS and not _short(rest, key) and not (strict and len(key) < 4):
                    scores[key] = max(scores.get(key, 0.0), score - _LIAISON_COST)
        return scores
