"""Item and location matching: names, aliases, plurals, speech-recognition near-misses, ties, and non-matches."""

from __future__ import annotations

import pytest

from device.intent.locations import LocationMatcher
from device.intent.matching import ItemMatcher
from device.inventory.catalog import Catalogue, Item


@pytest.fixture(scope="module")
def demo_items(demo: Catalogue) -> ItemMatcher:
    return ItemMatcher(demo.items)


@pytest.fixture(scope="module")
def eval_items(eval_catalogue: Catalogue) -> ItemMatcher:
    return ItemMatcher(eval_catalogue.items)


@pytest.mark.parametrize(
    ("said", "item"),
    [
        ("oat milk", "oat milk"),
        ("oatly", "oat milk"),
        ("romas", "roma tomatoes"),
        ("roma", "roma tomatoes"),
        ("avos", "avocados"),
        ("avocado", "avocados"),
        ("lox", "salmon"),
        ("double cream", "heavy cream"),
        ("milk", "whole milk"),  # an alias decides it over oat/almond/soy milk
        ("serviettes", "napkins"),
        ("to go cups", "takeaway cups"),
        ("croissant", "croissants"),
        ("bagel", "bagels"),
        ("oatmilk", "oat milk"),  # spacing ignored
        ("sour dough", "sourdough"),
        ("napkin", "napkins"),  # singular and plural forms are names too
    ],
)
def test_exact_names_and_aliases(demo_items: ItemMatcher, said: str, item: str | None) -> None:
    match = demo_items.match(said.split())
    assert match.item == item
    if item is not None:
        assert match.method == "exact" and match.score == 1.0 and not match.ambiguous


@pytest.mark.parametrize(
    ("said", "item"),
    [
        ("crossants", "croissants"),
        ("oat lee", "oat milk"),
        ("oddly", "oat milk"),
        ("crossonts", "croissants"),
        ("lettice", "lettuce"),
        ("spinich", "spinach"),
        ("hunny", "honey"),
        ("marple syrup", "maple syrup"),
        ("cream chees", "cream cheese"),
        ("almond mylk", "almond milk"),
        ("blu berries", "blueberries"),
        ("sour doe", "sourdough"),
        ("bagles", "bagels"),
        ("chedder", "cheddar"),
        ("expresso beans", "coffee beans"),
        ("straberries", "strawberries"),
    ],
)
def test_demo_near_misses(demo_items: ItemMatcher, said: str, item: str) -> None:
    match = demo_items.match(said.split())
    assert match.item == item
    assert match.method != "exact" and match.score < 1.0


@pytest.mark.parametrize(
    ("said", "item"),
    [
        ("mots arella", "mozzarella"),
        ("sill antro", "cilantro"),
        ("onyons", "onions"),
        ("chicken thys", "chicken thighs"),
        ("tonic watter", "tonic water"),
        ("aragula", "arugula"),
        ("tiramisoo", "tiramisu"),
        ("prosseco", "prosecco"),
        ("avacados", "avocados"),
        ("egs", "eggs"),
        ("parmasan", "parmesan"),
        ("balsamic vinager", "balsamic vinegar"),
    ],
)
def test_eval_near_misses(eval_items: ItemMatcher, said: str, item: str) -> None:
    assert eval_items.match(said.split()).item == item


@pytest.mark.parametrize(
    ("said", "candidates"),
    [
        ("oil", {"olive oil", "canola oil"}),
        ("tomatoes", {"cherry tomatoes", "canned tomatoes"}),
        ("wine", {"house red", "house white"}),
        ("water", {"tonic water", "sparkling water"}),
        ("chicken", {"chicken thighs", "chicken stock"}),
    ],
)
def test_ties_are_reported_not_guessed(eval_items: ItemMatcher, said: str, candidates: set[str]) -> None:
    match = eval_items.match(said.split())
    assert match.ambiguous
    assert set(match.candidates) == candidates
    assert match.item in candidates


def test_alias_shared_by_two_items_is_ambiguous() -> None:
    items = ItemMatcher(
        [Item("green tea", "box", aliases=("tea",)), Item("black tea", "box", aliases=("tea",))]
    )
    match = items.match(["tea"])
    assert set(match.candidates) == {"green tea", "black tea"}


def test_milk_without_an_alias_is_ambiguous() -> None:
    items = ItemMatcher([Item("whole milk", "gallon"), Item("oat milk", "carton"), Item("eggs", "each")])
    match = items.match(["milk"])
    assert set(match.candidates) == {"whole milk", "oat milk"}


def test_exact_alias_beats_a_close_spelling() -> None:
    items = ItemMatcher(
        [Item("lime", "each", aliases=("limes",)), Item("limes pickled", "jar", aliases=("lines",))]
    )
    assert items.match(["limes"]).item == "lime"
    assert not items.match(["limes"]).ambiguous


def test_extra_words_around_an_item_are_reported(eval_items: ItemMatcher) -> None:
    match = eval_items.match(["the", "nice", "salmon", "burger"])
    assert match.item == "salmon fillet"
    assert match.extra == ("nice", "burger")
    assert match.score < 0.9


@pytest.mark.parametrize(
    "said",
    [
        "time",
        "game",
        "weather",
        "table four",
        "music",
        "lights",
        "napkins",
        "tacos",
        "croissants",
        "wait",
        "kitchen",
    ],
)
def test_words_that_are_not_items(eval_items: ItemMatcher, said: str) -> None:
    assert eval_items.match(said.split()).item is None


@pytest.mark.parametrize(
    ("said", "location"),
    [
        ("walk in", "walk-in"),
        ("the walk in", "walk-in"),
        ("walkin", "walk-in"),
        ("the walk in cooler", "walk-in"),
        ("walk in fridge", "walk-in"),
        ("dry storage", "dry storage"),
        ("dry store", "dry storage"),
        ("the line fridge", "line fridge"),
        ("line", "line fridge"),
        ("reach in", "reach-in"),
        ("the bar", "bar"),
        ("freezer", "freezer"),
        ("the frezer", "freezer"),
        ("the fridge", "line fridge"),  # the only fridge
    ],
)
def test_locations(eval_catalogue: Catalogue, said: str, location: str) -> None:
    found = LocationMatcher(eval_catalogue.locations).match(said.split())
    assert found is not None and found[0] == location


@pytest.mark.parametrize("said", ["kitchen", "office", "the walk in freezer", "table", "in"])
def test_not_locations(eval_catalogue: Catalogue, said: str) -> None:
    assert LocationMatcher(eval_catalogue.locations).match(said.split()) is None


def test_part_of_a_name_only_when_one_location_has_it() -> None:
    places = LocationMatcher(["walk-in cooler", "reach-in freezer", "chest freezer", "dry storage"])
    assert places.match(["the", "cooler"]) == ("walk-in cooler", 0.9)
    assert places.match(["walk", "in"]) == ("walk-in cooler", 0.95)
    assert places.match(["the", "freezer"]) is None  # two freezers: not a guess
    assert places.match(["in"]) is None
