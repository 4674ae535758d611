"""Unit words: spoken forms, abbreviations and plurals -> one name, spelled as the catalogue spells it."""

from __future__ import annotations

import pytest

from device.intent.units import FAMILIES, UnitLexicon, plural, singular


@pytest.mark.parametrize(
    ("said", "name"),
    [
        ("kilos", "kg"),
        ("kgs", "kg"),
        ("kilograms", "kg"),
        ("kg", "kg"),
        ("pounds", "lb"),
        ("lbs", "lb"),
        ("lb", "lb"),
        ("ounces", "oz"),
        ("litres", "litre"),
        ("liters", "litre"),
        ("l", "litre"),
        ("millilitres", "ml"),
        ("gallons", "gallon"),
        ("gal", "gallon"),
        ("quarts", "quart"),
        ("qt", "quart"),
        ("cases", "case"),
        ("cartons", "carton"),
        ("bottles", "bottle"),
        ("trays", "tray"),
        ("boxes", "box"),
        ("bags", "bag"),
        ("packs", "pack"),
        ("packets", "pack"),
        ("bunches", "bunch"),
        ("loaves", "loaf"),
        ("sleeves", "sleeve"),
        ("tubs", "tub"),
        ("heads", "head"),
        ("pieces", "each"),
        ("fl oz", "fluid ounce"),
    ],
)
def test_default_names(said: str, name: str) -> None:
    units = UnitLexicon([])
    assert units.match(said.split(), 0) == (name, len(said.split()))


def test_catalogue_spelling_wins() -> None:
    units = UnitLexicon(["kilogram", "pound", "litres"])
    assert units.match(["kgs"], 0) == ("kilogram", 1)
    assert units.match(["lbs"], 0) == ("pound", 1)
    assert units.match(["liter"], 0) == ("litres", 1)
    assert units.match(["gallons"], 0) == ("gallon", 1)  # not in the catalogue: the default


def test_catalogue_only_units_and_their_plurals() -> None:
    units = UnitLexicon(["hotel pan", "flat"])
    assert units.match(["hotel", "pans"], 0) == ("hotel pan", 2)
    assert units.match(["flats"], 0) == ("flat", 1)
    assert units.match(["pans"], 0) is None


def test_not_units() -> None:
    units = UnitLexicon(["case"])
    for word in ("eggs", "milk", "the", "of", "dozen", "half"):
        assert units.match([word], 0) is None


@pytest.mark.parametrize(
    ("unit", "accepted", "fits"),
    [
        ("kg", ["pound"], True),  # weights convert
        ("ml", ["gallon"], True),
        ("case", ["carton", "case"], True),
        ("kilos", ["kilogram"], True),
        ("bottle", ["carton", "case"], False),
        ("kg", ["litre"], False),
    ],
)
def test_compatible(unit: str, accepted: list[str], fits: bool) -> None:
    assert UnitLexicon(accepted).compatible(unit, accepted) is fits


def test_every_family_form_is_recognised() -> None:
    units = UnitLexicon([])
    for key, forms in FAMILIES.items():
        for form in forms:
            assert units.match(form.split(), 0) == (key, len(form.split())), form


@pytest.mark.parametrize(
    ("one", "many"),
    [("case", "cases"), ("box", "boxes"), ("bunch", "bunches"), ("berry", "berries"), ("tomato", "tomatoes")],
)
def test_plural_and_singular(one: str, many: str) -> None:
    assert singular(many) == one
    if one != "tomato":
        assert plural(one) == many
