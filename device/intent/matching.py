"""Words -> catalogue items: exact names and aliases, plurals, fuzzy and phonetic near-misses.

Speech recognition hears "crossants", "oat lee", "sill antro": ``ItemMatcher`` scores every item by the best of
an exact hit (name, alias, plural or singular, spaces ignored), an exact hit on part of the words, a fuzzy
(rapidfuzz) ratio, a phonetic (metaphone) match, and a partial name ("oil" in "olive oil"). Items scoring about
the same are reported as candidates instead of picking one (locations: ``locations.LocationMatcher``). The index
is built once; matching is pure.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, replace

import jellyfish
from rapidfuzz import fuzz, process

from device.intent.text import normalise_name
from device.intent.units import plural, singular
from device.inventory.catalog import Item


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: function words that never name an item by themselves
STOPWORDS = _words(
    """a an the of some our my your their his her its we i you they he she it them that those these this
    have has had been being were was are is am be to more all any please today tonight yesterday morning
    afternoon evening now again also too another back up down in out off on with for from into and then so
    like about around roughly just only still left over total altogether worth lot lots bit few new old
    do did does got get there here what which how many much by"""
)
#: nouns that name a cut or form of an item, so "salmon fillets" is still salmon
FORM_NOUNS = _words(
    """fillet breast thigh wing leg drumstick steak chop patty slice piece wedge half halve portion stick strip chunk
    cube ball sprig clove leaf leave stalk head bunch bulb floret kernel segment rasher link"""
)
_VERB_FORMS = _words(
    """went go goes gone came come comes was were turned turns looks looked smells smelt tastes seems got gets
    needs need broke spoilt burnt left ran runs"""
)
ACCEPT = 78.0  # lowest score (0-100) that names an item
TIE = 4.0  # candidates within this many points of the best are "about equal"


@dataclass(frozen=True)
class ItemMatch:
    """The item some words name, how sure we are (0-1), how it was found, and any near-equal rivals."""

    item: str | None
    score: float
    method: str  # exact, span, fuzzy, phonetic, partial, none
    candidates: tuple[str, ...] = ()
    extra: tuple[str, ...] = ()  # content words that were not part of the item
    #: a noun right after the item, which only describes it ("the milk steamer", "a salmon burger")
    modifier: bool = False

    @property
    def ambiguous(self) -> bool:
        return len(self.candidates) > 1


NO_MATCH = ItemMatch(None, 0.0, "none")
Offer = Callable[[str, float, str], None]


def _compact(text: str) -> str:
    return text.replace(" ", "")


def _phonetic(text: str) -> str:
    return jellyfish.metaphone(_compact(text)) if text else ""


def _variants(key: str) -> set[str]:
    words = key.split()
    if not words:
        return set()
    last = words[-1]
    forms = {last, singular(last)}
    if not last[-1:].isdigit():
        forms.add(plural(singular(last)))
        if last.endswith("o"):
            forms.add(last + "es")
    return {" ".join([*words[:-1], form]) for form in forms}


def content(tokens: Iterable[str]) -> list[str]:
    return [t for t in tokens if t not in STOPWORDS]


class ItemMatcher:
    """Index of every way the catalogue's items are named."""

    def __init__(self, items: Sequence[Item]) -> None:
        exact: dict[str, set[str]] = defaultdict(set)
        compact: dict[str, set[str]] = defaultdict(set)
        words: dict[str, set[str]] = defaultdict(set)  # singular word -> items with it in a name
        pairs: dict[tuple[str, str], None] = {}
        for item in items:
            for raw in (item.name, *item.aliases):
                key = normalise_name(raw)
                if not key:
                    continue
                for form in _variants(key) | {key}:
                    exact[form].add(item.name)
                    compact[_compact(form)].add(item.name)
                    pairs[(form, item.name)] = None
                for word in key.split():
                    if word not in STOPWORDS:
                        words[singular(word)].add(item.name)
        self._exact = dict(exact)
        self._compact_exact = dict(compact)
        self._words = dict(words)
        self._keys = [k for k, _ in pairs]
        self._key_items = [i for _, i in pairs]
        self._compact_keys = [_compact(k) for k in self._keys]
        self._phon_keys = [_phonetic(k) for k in self._keys]
        self._key_words = [k.split() for k in self._keys]
        self.max_words = max((len(k) for k in self._key_words), default=1)

    def exact(self, phrase: str) -> set[str]:
        return self._exact.get(phrase) or self._compact_exact.get(_compact(phrase)) or set()

    def spans(self, tokens: Sequence[str]) -> list[tuple[int, int, frozenset[str]]]:
        """Longest exact name/alias spans in ``tokens``, left to right, not overlapping.

        A name may be split one word more than it is written ("take away cups", "sour dough"): speech
        recognition spaces and hyphenates compounds as it likes.
        """
        found: list[tuple[int, int, frozenset[str]]] = []
        i = 0
        while i < len(tokens):
            for size in range(min(self.max_words + 1, len(tokens) - i), 0, -1):
                words = tokens[i : i + size]
                if all(w in STOPWORDS for w in words):
                    continue
                hit = self._exact.get(" ".join(words)) if size <= self.max_words else None
                if not hit and size > 1 and words[0] not in STOPWORDS and words[-1] not in STOPWORDS:
                    hit = self._compact_exact.get("".join(words))
                if hit:
                    found.append((i, i + size, frozenset(hit)))
                    i += size
                    break
            else:
                i += 1
        return found

    def match(self, tokens: Sequence[str], fits: Collection[str] | None = None) -> ItemMatch:
        """The item ``tokens`` name (stop words allowed around it), or ``NO_MATCH``.

        With ``fits`` (the items counted in the unit said), a near miss that fits beats a closer one that
        doesn't ("3 gallons of boat milk": goat milk, not oat milk); exact names are taken as said.
        """
        words = content(tokens)
        if not words:
            return NO_MATCH
        whole = " ".join(words)
        hit = self.exact(whole) or self.exact(" ".join(_trim(tokens))) or self.exact(" ".join(tokens))
        if hit:
            return _decide({name: 100.0 for name in hit}, "exact", ())
        scores: dict[str, float] = {}
        methods: dict[str, str] = {}

        def offer(name: str, score: float, method: str) -> None:
            if score > scores.get(name, 0.0):
                scores[name] = score
                methods[name] = method

        extra: tuple[str, ...] = ()
        modifier = False
        spans = self.spans(tokens)
        if spans:
            longest = max(end - start for start, end, _ in spans)
            inside = {i for start, end, _ in spans for i in range(start, end) if end - start == longest}
            extra = tuple(t for i, t in enumerate(tokens) if i not in inside and t not in STOPWORDS)
            after = tokens[max(inside) + 1] if max(inside) + 1 < len(tokens) else ""
            modifier = _is_head_noun(after)
            named = {name for start, end, names in spans if end - start == longest for name in names}
            for start, end, names in spans:
                if end - start == longest:
                    for name in names:
                        if len(named) > 1 and len(spans) > 1:
                            offer(name, 80.0, "span")  # two items named side by side: "a salmon bagel"
                        elif extra:
                            offer(name, max(70.0, 92.0 - 6.0 * len(extra)), "span")
                        else:
                            offer(name, 100.0, "exact")  # the whole name among stop words ("of to go cups")
        fuzzy_hits: set[str] = set()

        def offer_fuzzy(name: str, score: float, method: str) -> None:
            fuzzy_hits.add(name)
            offer(name, score, method)

        self._fuzzy(whole, offer_fuzzy)
        self._partial(words, offer)
        if not scores:
            return NO_MATCH
        top = max(scores, key=lambda n: scores[n])
        if fits is not None and top not in fits:
            fitting = {n: v for n, v in scores.items() if n in fits}
            if fitting and max(fitting.values()) >= ACCEPT:
                scores = fitting
                top = max(scores, key=lambda n: scores[n])
        method = methods[top]
        if method == "span" and top in fuzzy_hits:
            extra, modifier = (), False  # the leftover word was the item misheard ("balsamic vinager")
        found = _decide(scores, method, extra if method == "span" else ())
        return replace(found, modifier=modifier) if method == "span" and found.item else found

    def _fuzzy(self, whole: str, offer: Offer) -> None:
        squashed = _compact(whole)
        said = whole.split()
        found: set[int] = set()
        for _, _, idx in process.extract(whole, self._keys, scorer=fuzz.ratio, score_cutoff=70, limit=25):
            found.add(idx)
        for _, _, idx in process.extract(
            squashed, self._compact_keys, scorer=fuzz.ratio, score_cutoff=70, limit=25
        ):
            found.add(idx)
        ratios: dict[int, float] = {}
        for idx in found:
            key_words = self._key_words[idx]
            if len(key_words) == len(said):
                # same words, one misheard: judge by the worst word too ("chicken thys" is not "chicken broths")
                score = fuzz.ratio(whole, self._keys[idx])
                if len(said) > 1:
                    score = (score + min(fuzz.ratio(a, b) for a, b in zip(said, key_words, strict=True))) / 2
            else:
                score = fuzz.ratio(squashed, self._compact_keys[idx])
            ratios[idx] = score
            if len(squashed) <= 5 and score < 90 and _phonetic(whole) != self._phon_keys[idx]:
                continue  # short words: "time" is not "thyme" unless it also sounds the same
            if score >= 80:
                offer(self._key_items[idx], min(score, 99.0), "fuzzy")
        if len(squashed) < 4:
            return
        phon = _phonetic(whole)
        for _, pscore, idx in process.extract(
            phon, self._phon_keys, scorer=fuzz.ratio, score_cutoff=85, limit=25
        ):
            raw = max(ratios.get(idx, 0.0), fuzz.ratio(squashed, self._compact_keys[idx]))
            if pscore >= 100 and raw >= 55:
                offer(self._key_items[idx], 86.0 if raw >= 70 else 82.0, "phonetic")
            elif raw >= 70:
                offer(self._key_items[idx], 80.0, "phonetic")

    def _partial(self, words: list[str], offer: Offer) -> None:
        """Every word said appears in a longer name: "oil" -> olive oil, canola oil."""
        said = [singular(w) for w in words if len(w) >= 3]
        if not said or len(said) != len(words):
            return
        found = [self._words.get(w) for w in said]
        sets = [s for s in found if s is not None]
        if len(sets) != len(found):
            return
        for name in set.intersection(*sets):
            offer(name, 84.0 - 2.0 * (len(said) - 1), "partial")


def _is_head_noun(word: str) -> bool:
    """Whether ``word``, right after an item's name, is the noun the name describes ("steamer", not "went")."""
    if not word or word in STOPWORDS or word in _VERB_FORMS or singular(word) in FORM_NOUNS:
        return False
    return not word[:1].isdigit() and not word.endswith(("ed", "ing"))


def _trim(tokens: Sequence[str]) -> list[str]:
    out = list(tokens)
    while out and out[0] in STOPWORDS:
        out.pop(0)
    while out and out[-1] in STOPWORDS:
        out.pop()
    return out


def _decide(scores: dict[str, float], method: str, extra: tuple[str, ...]) -> ItemMatch:
    ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
    best_name, best = ranked[0]
    if best < ACCEPT:
        return NO_MATCH
    rivals = tuple(name for name, score in ranked if score >= best - TIE)
    return ItemMatch(best_name, best / 100.0, method, rivals if len(rivals) > 1 else (), extra)
