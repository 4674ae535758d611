"""Converting a quantity in a spoken unit into an item's base unit (the unit its stock is counted in).

Pure data and functions. A unit converts when it is the item's own unit, one of the item's pack sizes
(``case=12``: one case holds 12 base units), a standard mass or volume unit of the same kind as the base
unit (kilogram/gram/pound/ounce, litre/millilitre/gallon/quart/pint), or a count (``each``, ``dozen``).
Anything else raises ``UnitMismatch`` so the caller can refuse with a reason. Spoken unit *words* are
normalised by the grammar (``device/intent/units.py``); aliases are accepted here too so the store never
depends on that spelling.
"""

from __future__ import annotations

from device.inventory.catalog import Item

#: every spelling we accept -> canonical unit name
_ALIASES: dict[str, str] = {
    "kg": "kilogram",
    "kgs": "kilogram",
    "kilo": "kilogram",
    "kilogramme": "kilogram",
    "g": "gram",
    "gm": "gram",
    "gramme": "gram",
    "lb": "pound",
    "lbs": "pound",
    "oz": "ounce",
    "l": "litre",
    "lt": "litre",
    "ltr": "litre",
    "liter": "litre",
    "ml": "millilitre",
    "milliliter": "millilitre",
    "gal": "gallon",
    "qt": "quart",
    "pt": "pint",
    "doz": "dozen",
    "ea": "each",
    "unit": "each",
    "piece": "each",
    "pc": "each",
    "pcs": "each",
    "boxes": "box",
    "loaves": "loaf",
    "bunches": "bunch",
    "pouches": "pouch",
    "dozens": "dozen",
}

#: grams per unit
MASS = {"gram": 1.0, "kilogram": 1000.0, "pound": 453.59237, "ounce": 28.349523125}
#: millilitres per unit (US liquid measures, as a US kitchen uses them)
VOLUME = {"millilitre": 1.0, "litre": 1000.0, "gallon": 3785.411784, "quart": 946.352946, "pint": 473.176473}
#: count units, in "each"
COUNT = {"each": 1.0, "dozen": 12.0}

_KNOWN = {*MASS, *VOLUME, *COUNT}


class UnitMismatch(ValueError):
    """A unit that cannot be converted into an item's base unit."""

    def __init__(self, item: Item, unit: str) -> None:
        super().__init__(f"{item.name} is counted in {item.unit}, not {unit}")
        self.item = item
        self.unit = unit


def canonical(unit: str) -> str:
    """The canonical singular name of a unit word: ``"Kgs"`` -> ``"kilogram"``, ``"cases"`` -> ``"case"``."""
    word = " ".join(unit.strip().lower().replace(".", "").split())
    if word in _ALIASES:
        return _ALIASES[word]
    if word in _KNOWN:
        return word
    for suffix in ("es", "s"):
        stem = word[: -len(suffix)]
        if word.endswith(suffix) and not word.endswith("ss") and len(stem) > 1:
            if stem in _ALIASES:
                return _ALIASES[stem]
            if stem in _KNOWN or suffix == "s":
                return stem
    return word


def _same(a: str, b: str) -> bool:
    return canonical(a) == canonical(b)


def pack_size(item: Item, unit: str) -> float | None:
    """Base units in one ``unit`` pack of this item, if the item has such a pack."""
    for pack, size in item.packs.items():
        if _same(pack, unit):
            return float(size)
    return None


def factor(item: Item, unit: str | None) -> float:
    """Base units of ``item`` in one ``unit``; ``None`` and ``each`` mean the base unit itself."""
    if unit is None or not unit.strip():
        return 1.0
    said = canonical(unit)
    base = canonical(item.unit)
    if said == base:
        return 1.0
    size = pack_size(item, said)
    if size is not None:
        return size
    for table in (MASS, VOLUME):
        if said in table and base in table:
            return table[said] / table[base]
    if said == "each":
        return 1.0
    if said == "dozen" and base not in MASS and base not in VOLUME:
        return 12.0
    raise UnitMismatch(item, said)


def to_base(item: Item, quantity: float, unit: str | None) -> float:
    """``quantity`` of ``unit`` expressed in ``item``'s base unit (rounded to 6 decimals)."""
    return round(quantity * factor(item, unit), 6)
