"""Everything the grammar precomputes from one catalogue: item, location and unit indexes (built once, read-only)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from device.intent.locations import LocationMatcher
from device.intent.matching import ItemMatch, ItemMatcher
from device.intent.units import UnitLexicon
from device.inventory.catalog import Catalogue

_METHOD_TRUST = {"exact": 1.0, "span": 0.9, "fuzzy": 0.88, "phonetic": 0.82, "partial": 0.75}


@dataclass(frozen=True)
class CatalogueIndex:
    """The catalogue and its lookups: items by every name, locations, unit words, the units each item fits."""

    catalogue: Catalogue
    items: ItemMatcher
    places: LocationMatcher
    units: UnitLexicon
    item_units: Mapping[str, tuple[str, ...]]

    @classmethod
    def build(cls, catalogue: Catalogue) -> CatalogueIndex:
        return cls(
            catalogue=catalogue,
            items=ItemMatcher(catalogue.items),
            places=LocationMatcher(catalogue.locations),
            units=UnitLexicon(catalogue.units()),
            item_units={item.name: (item.unit, *item.packs) for item in catalogue.items},
        )

    def fits(self, unit: str, item: str) -> bool:
        """Whether ``item`` can be counted in ``unit`` (its own unit, a pack of it, or a convertible one)."""
        return self.units.compatible(unit, self.item_units.get(item, ()))


def item_confidence(base: float, match: ItemMatch) -> float:
    """How sure a command is, given how its item was found; at most 0.5 when items tie."""
    confidence = base * _METHOD_TRUST.get(match.method, 0.7) * min(1.0, match.score + 0.1)
    return min(confidence, 0.5) if match.ambiguous else confidence
