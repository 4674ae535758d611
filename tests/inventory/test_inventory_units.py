"""Unit conversion into an item's base unit: packs, standard mass/volume/count units, and mismatches."""

from __future__ import annotations

import pytest

from device.inventory.catalog import Catalogue, Item
from device.inventory.units import UnitMismatch, canonical, factor, to_base


@pytest.mark.parametrize(
    ("word", "name"),
    [
        ("kg", "kilogram"),
        ("Kgs", "kilogram"),
        ("kilo", "kilogram"),
        ("kilos", "kilogram"),
        ("kilograms", "kilogram"),
        ("g", "gram"),
        ("grams", "gram"),
        ("lb", "pound"),
        ("lbs", "pound"),
        ("pounds", "pound"),
        ("oz", "ounce"),
        ("ounces", "ounce"),
        ("l", "litre"),
        ("liter", "litre"),
        ("liters", "litre"),
        ("litres", "litre"),
        ("ml", "millilitre"),
        ("gallons", "gallon"),
        ("qt", "quart"),
        ("pints", "pint"),
        ("dozen", "dozen"),
        ("cases", "case"),
        ("boxes", "box"),
        ("loaves", "loaf"),
        ("bunches", "bunch"),
        ("sleeves", "sleeve"),
        ("glass", "glass"),
        (" Carton ", "carton"),
    ],
)
def test_canonical_names(word: str, name: str) -> None:
    assert canonical(word) == name


@pytest.mark.parametrize(
    ("name", "quantity", "unit", "expected"),
    [
        ("oat milk", 3, "case", 36),  # a pack from Item.packs
        ("oat milk", 3, "cases", 36),
        ("oat milk", 5, "carton", 5),  # the base unit itself
        ("oat milk", 5, None, 5),  # unsaid: the base unit
        ("oat milk", 5, "each", 5),
        ("oat milk", 1, "dozen", 12),
        ("flour", 1500, "g", 1.5),
        ("flour", 2, "kg", 2),
        ("flour", 2, "kilo", 2),
        ("flour", 1, "bag", 25),
        ("flour", 2.2046226218, "lb", 1),
        ("butter", 16, "oz", 1),
        ("butter", 1, "kg", 2.204623),
        ("butter", 1, "case", 36),
        ("whole milk", 4, "quart", 1),
        ("whole milk", 8, "pint", 1),
        ("whole milk", 3.785411784, "litre", 1),
        ("whole milk", 1, "case", 4),
        ("eggs", 2, "dozen", 24),
        ("eggs", 1, "tray", 30),
    ],
)
def test_to_base(catalogue: Catalogue, name: str, quantity: float, unit: str | None, expected: float) -> None:
    assert to_base(catalogue[name], quantity, unit) == pytest.approx(expected, abs=1e-6)


def test_volume_in_millilitres() -> None:
    syrup = Item(name="syrup", unit="ml")
    assert to_base(syrup, 1.5, "litres") == 1500
    assert to_base(syrup, 1, "pint") == pytest.approx(473.176473)


@pytest.mark.parametrize(
    ("name", "unit"),
    [
        ("flour", "bottle"),
        ("flour", "litre"),
        ("whole milk", "kg"),
        ("oat milk", "pound"),
        ("flour", "dozen"),
    ],
)
def test_a_unit_that_does_not_fit_is_refused(catalogue: Catalogue, name: str, unit: str) -> None:
    with pytest.raises(UnitMismatch) as caught:
        factor(catalogue[name], unit)
    assert caught.value.item.name == name
    assert caught.value.unit == canonical(unit)
