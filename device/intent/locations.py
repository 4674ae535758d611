"""Words -> the catalogue's locations: "the walk-in cooler", "walkin", "dry store", "the frezer".

Generic words ("cooler", "fridge", "storage", "room") are ignored when the rest names one location; part of a name
that only one location has ("the cooler") names it; near-misses match fuzzily. The index is built once per
catalogue; matching is pure.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from rapidfuzz import fuzz, process

from device.intent.text import normalise_name


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_GENERIC_PLACE = _words(
    """cooler fridge fridges refrigerator room area storage store stores shelf shelves unit station cupboard
    closet section rack"""
)
_LEADING = frozenset({"the", "our", "my", "a", "main", "big", "little"})


class LocationMatcher:
    """Index of the catalogue's locations and the ways they are said."""

    def __init__(self, locations: Sequence[str]) -> None:
        self._exact: dict[str, str] = {}
        cores: dict[str, set[str]] = defaultdict(set)
        for loc in locations:
            key = normalise_name(loc)
            if not key:
                continue
            self._exact.setdefault(key, loc)
            self._exact.setdefault(_squash(key), loc)
            core = _core(key.split())
            if core:
                cores[core].add(loc)
        self._core = {core: next(iter(locs)) for core, locs in cores.items() if len(locs) == 1}
        self._words = {loc: frozenset(normalise_name(loc).split()) for loc in locations}
        self._keys = list(self._exact)
        self._key_locs = [self._exact[k] for k in self._keys]
        self.max_words = max((len(k.split()) for k in self._exact), default=1) + 2

    def match(self, tokens: Sequence[str]) -> tuple[str, float] | None:
        """The location ``tokens`` name as (canonical name, score 0-1), or ``None``."""
        words = list(tokens)
        while words and words[0] in _LEADING:
            words.pop(0)
        if not words:
            return None
        phrase = " ".join(words)
        if phrase in self._exact:
            return self._exact[phrase], 1.0
        if _squash(phrase) in self._exact:
            return self._exact[_squash(phrase)], 0.98
        core = _core(words)
        if core and core in self._core:
            return self._core[core], 0.95
        holders = [loc for loc, names in self._words.items() if set(words) <= names]
        if len(holders) == 1 and all(len(w) >= 3 for w in words):
            return holders[0], 0.9  # part of one location's name: "the cooler" for the walk-in cooler
        best = process.extractOne(phrase, self._keys, scorer=fuzz.ratio, score_cutoff=85)
        if best is None and core:
            best = process.extractOne(core, self._keys, scorer=fuzz.ratio, score_cutoff=88)
        if best is not None:
            return self._key_locs[best[2]], best[1] / 100.0 * 0.95
        return None


def _core(words: Sequence[str]) -> str:
    return " ".join(w for w in words if w not in _GENERIC_PLACE and w not in _LEADING)


def _squash(text: str) -> str:
    return text.replace(" ", "")
