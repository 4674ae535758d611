"""Unit names: spoken forms, abbreviations and plurals -> one canonical singular name per unit family.

A family is one unit said many ways ("kilos", "kgs", "kilogram" are all kilograms). The name returned is the
catalogue's own spelling when the catalogue uses any member of the family (as an item unit or a pack), else the
family's default ("kg", "lb", "litre", "case"...). Units that only the catalogue knows ("sack", "hotel pan") are
families of their own, with their plurals. Pure data, built once per catalogue.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

#: default canonical name -> every way it is said or written (normalised tokens, space-separated)
FAMILIES: dict[str, tuple[str, ...]] = {
    "kg": ("kg", "kgs", "kilo", "kilos", "kilogram", "kilograms", "kilogramme", "kilogrammes", "kilo gram"),
    "g": ("g", "gs", "gr", "gram", "grams", "gramme", "grammes", "grm"),
    "lb": ("lb", "lbs", "pound", "pounds", "ib", "ibs"),
    "oz": ("oz", "ounce", "ounces", "ozs"),
    "litre": ("l", "litre", "litres", "liter", "liters", "ltr", "ltrs", "lt", "lts"),
    "ml": ("ml", "mls", "millilitre", "millilitres", "milliliter", "milliliters", "mil", "mils"),
    "gallon": ("gallon", "gallons", "gal", "gals"),
    "quart": ("quart", "quarts", "qt", "qts"),
    "pint": ("pint", "pints", "pt", "pts"),
    "case": ("case", "cases", "cs"),
    "carton": ("carton", "cartons", "ctn", "ctns"),
    "bottle": ("bottle", "bottles", "btl", "btls"),
    "tray": ("tray", "trays"),
    "box": ("box", "boxes", "bx"),
    "bag": ("bag", "bags"),
    "pack": ("pack", "packs", "packet", "packets", "package", "packages", "pk", "pkt", "pkts"),
    "bunch": ("bunch", "bunches", "bundle", "bundles"),
    "loaf": ("loaf", "loaves", "loafs"),
    "sleeve": ("sleeve", "sleeves"),
    "tub": ("tub", "tubs"),
    "jar": ("jar", "jars"),
    "can": ("can", "cans"),
    "tin": ("tin", "tins"),
    "head": ("head", "heads"),
    "each": ("each", "ea", "piece", "pieces", "pc", "pcs", "unit", "units"),
    "sack": ("sack", "sacks"),
    "crate": ("crate", "crates"),
    "keg": ("keg", "kegs"),
    "jug": ("jug", "jugs"),
    "roll": ("roll", "rolls"),
    "bucket": ("bucket", "buckets", "pail", "pails"),
    "punnet": ("punnet", "punnets"),
    "container": ("container", "containers"),
    "block": ("block", "blocks"),
    "wheel": ("wheel", "wheels"),
    "pouch": ("pouch", "pouches"),
    "tube": ("tube", "tubes"),
    "portion": ("portion", "portions"),
    "slice": ("slice", "slices"),
    "cup": ("cup", "cups"),
    "stick": ("stick", "sticks"),
    "fluid ounce": ("fluid ounce", "fluid ounces", "fl oz"),
}

#: families that convert into each other, so a unit from one fits an item counted in another
DIMENSIONS: tuple[frozenset[str], ...] = (
    frozenset({"kg", "g", "lb", "oz"}),
    frozenset({"litre", "ml", "gallon", "quart", "pint", "fluid ounce", "cup"}),
)


def plural(word: str) -> str:
    """A regular English plural of a single word (good enough for units and item names)."""
    if word.endswith("y") and len(word) > 1 and word[-2] not in "aeiou":
        return word[:-1] + "ies"
    if word.endswith(("s", "x", "ch", "sh", "z")):
        return word + "es"
    return word + "s"


def singular(word: str) -> str:
    """A regular English singular of a single word; unchanged when it does not look plural."""
    if len(word) > 3 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("oes"):
        return word[:-2]
    if len(word) > 3 and word.endswith(("ches", "shes", "xes", "sses", "zes")):
        return word[:-2]
    if len(word) > 2 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


class UnitLexicon:
    """Recognises unit words in tokens and names them as the catalogue does."""

    def __init__(self, catalogue_units: Iterable[str]) -> None:
        self._family_of: dict[str, str] = {}  # form -> family key
        for key, forms in FAMILIES.items():
            for form in (key, *forms):
                self._family_of[form] = key
        self._name: dict[str, str] = {key: key for key in FAMILIES}
        for raw in catalogue_units:
            unit = " ".join(raw.lower().replace("-", " ").split())
            if not unit:
                continue
            family = self._family_of.get(unit) or self._family_of.get(singular(unit))
            if family is None:
                family = unit
                for form in {unit, plural(unit), singular(unit)}:
                    self._family_of.setdefault(form, family)
                self._name[family] = unit
            elif self._name[family] == family and family in FAMILIES:
                self._name[family] = unit  # the catalogue's spelling wins over the default
        self._max_words = max(len(form.split()) for form in self._family_of)

    def match(self, tokens: Sequence[str], start: int) -> tuple[str, int] | None:
        """The unit said at ``tokens[start]`` as (catalogue-or-default name, end index), else ``None``."""
        for size in range(min(self._max_words, len(tokens) - start), 0, -1):
            form = " ".join(tokens[start : start + size])
            family = self._family_of.get(form)
            if family is not None:
                return self._name[family], start + size
        return None

    def is_unit(self, token: str) -> bool:
        return token in self._family_of

    def family(self, name: str) -> str | None:
        """The family key of a unit name or form ("kilogram" -> "kg"), or ``None`` when unknown."""
        form = " ".join(name.lower().replace("-", " ").split())
        return self._family_of.get(form) or self._family_of.get(singular(form))

    def compatible(self, unit: str, accepted: Iterable[str]) -> bool:
        """Whether ``unit`` can be counted as one of ``accepted`` (same family, or convertible)."""
        fam = self.family(unit)
        if fam is None:
            return False
        for other in accepted:
            other_fam = self.family(other)
            if other_fam == fam:
                return True
            if other_fam and any(fam in dim and other_fam in dim for dim in DIMENSIONS):
                return True
        return False
