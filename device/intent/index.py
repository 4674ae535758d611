"""Everything the grammar precomputes from one catalogue: item, location and unit indexes (built once, read-only)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from device.intent.locations import LocationMatcher
from device.intent.matching import ItemMatch, ItemMatcher, content
from device.intent.sounds import SoundIndex, sound_key
from device.intent.units import UnitLexicon, plural
from device.inventory.catalog import Catalogue

#: how alike (0-100) a word must sound to a unit the item is counted in to be taken for it
UNIT_SOUND = 75.0
#: "sound" is a guess from how the words sound: low enough that the dialogue asks before changing stock
_METHOD_TRUST = {"exact": 1.0, "span": 0.9, "fuzzy": 0.88, "phonetic": 0.82, "partial": 0.75, "sound": 0.6}


@dataclass(frozen=True)
class CatalogueIndex:
    """The catalogue and its lookups: items by every name and by sound, locations, unit words, the units each
    item fits."""

    catalogue: Catalogue
    items: ItemMatcher
    sounds: SoundIndex
    places: LocationMatcher
    units: UnitLexicon
    item_units: Mapping[str, tuple[str, ...]]
    _fitting: dict[str, frozenset[str]] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def build(cls, catalogue: Catalogue) -> CatalogueIndex:
        return cls(
            catalogue=catalogue,
            items=ItemMatcher(catalogue.items),
            sounds=SoundIndex(catalogue.items),
            places=LocationMatcher(catalogue.locations),
            units=UnitLexicon(catalogue.units()),
            item_units={item.name: (item.unit, *item.packs) for item in catalogue.items},
        )

    def fits(self, unit: str, item: str) -> bool:
        """Whether ``item`` can be counted in ``unit`` (its own unit, a pack of it, or a convertible one)."""
        return self.units.compatible(unit, self.item_units.get(item, ()))

    def fitting(self, unit: str) -> frozenset[str]:
        """Every item that can be counted in ``unit`` (worked out once per unit)."""
        if unit not in self._fitting:
            self._fitting[unit] = frozenset(i for i in self.item_units if self.fits(unit, i))
        return self._fitting[unit]


def item_confidence(base: float, match: ItemMatch) -> float:
    """How sure a command is, given how its item was found; at most 0.5 when items tie."""
    confidence = base * _METHOD_TRUST.get(match.method, 0.7) * min(1.0, match.score + 0.1)
    return min(confidence, 0.5) if match.ambiguous else confidence


def by_sound(index: CatalogueIndex, match: ItemMatch, words: Sequence[str], unit: str | None) -> ItemMatch:
    """A name misheard beyond spelling ("both milk", "double green"): the item the words sound like.

    Asked only when no item matched, when a name matched with a word beside it left over ("both" in "both
    milk": whole milk by its alias "milk"), or when the item matched is never counted in the unit said (then a
    near spelling that fits comes first). Only items that fit the unit said compete.
    """
    said = content(words)
    if not said or len(said) > 3 or match.method == "exact":
        return match
    misfit = unit is not None and match.item is not None and not index.fits(unit, match.item)
    if match.item is not None and not match.extra and not misfit:
        return match
    allowed = index.fitting(unit) if unit is not None else None
    if misfit and allowed:
        spelled = index.items.match(words, fits=allowed)
        if spelled.item in allowed:
            return spelled
    heard = index.sounds.match(said, allowed or None)
    if heard is None or heard.item == match.item:
        return match
    return ItemMatch(heard.item, heard.score / 100.0, "sound")


def unit_by_sound(index: CatalogueIndex, word: str, item: str) -> str | None:
    """ "eight loads of sourdough": the word said where a unit goes, when it sounds like one ``item`` is counted
    in (its own unit or a pack of it), named as the catalogue names it."""
    said = sound_key(word)
    if len(said) < 3:
        return None
    scored = []
    for unit in index.item_units.get(item, ()):
        score = max(fuzz.ratio(said, sound_key(form)) for form in (unit, plural(unit)))
        scored.append((score, unit))
    scored.sort(reverse=True)
    if not scored or scored[0][0] < UNIT_SOUND or (len(scored) > 1 and scored[1][0] >= scored[0][0] - 5):
        return None
    named = index.units.match(scored[0][1].split(), 0)
    return named[0] if named is not None else None
