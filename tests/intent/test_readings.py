"""Readings near a hearing, and the choice between scored readings (pure: scores are given, no model)."""

from __future__ import annotations

import pytest

from device.intent.readings import FAR, MARGIN, GrammarReadings
from device.inventory.catalog import Catalogue
from device.protocols import Choice, Reading


@pytest.fixture(scope="module")
def readings(demo: Catalogue) -> GrammarReadings:
    return GrammarReadings(demo)


@pytest.mark.parametrize(
    ("heard", "proposed"),
    [
        ("We just got few cases of lemons.", "We just got two cases of lemons."),
        (
            "Move forward bottles of vanilla syrup to the bar.",
            "Move four bottles of vanilla syrup to the bar.",
        ),
        ("Used one tree of eggs.", "Used one tray of eggs."),
        ("Used one tree of eggs.", "Used one three of eggs."),
        ("Add 4 cases of oat milk.", "Add 5 cases of oat milk."),
        ("Add five bottles of vanilla syrup.", "Add four bottles of vanilla syrup."),
        ("Add 18 eggs to the walk-in.", "Add 80 eggs to the walk-in."),
        ("Toss two bunches of basil.", "Toss few bunches of basil."),
    ],
)
def test_sound_alike_numbers_and_units_are_proposed(
    readings: GrammarReadings, heard: str, proposed: str
) -> None:
    assert proposed in readings.propose([heard])


def test_proposals_keep_the_hearing_out_and_are_bounded(readings: GrammarReadings) -> None:
    heard = "Add two four five three eight ten cases of oat milk to the walk-in."
    found = readings.propose([heard])
    assert heard not in found and len(found) == len(set(found)) <= 12
    assert readings.propose(["How's it going?"]) == []


@pytest.mark.parametrize(
    ("heard", "proposed"),
    [
        # no command heard: catalogue names in place of the words that sound like them
        ("We are out of the moment field.", "We are out of the almond milk."),
        ("We're out of moment milk.", "We're out of almond milk."),
        # a command heard with doubt: its names too, a place for an item said where a place goes
        ("Add three cartons of oat milk to the lock-in.", "Add three cartons of oat milk to the walk-in."),
        (
            "Move one case of croissants from the freezer to the lime.",
            "Move one case of croissants from the freezer to the walk-in.",
        ),
        # and the number and unit sound-alikes of a respelt reading
        (
            "Add, free cartons on road milk to the block-in.",
            "Add, three cartons on oat milk to the block-in.",
        ),
    ],
)
def test_names_that_sound_like_the_words_heard_are_proposed(
    readings: GrammarReadings, heard: str, proposed: str
) -> None:
    assert proposed in readings.propose([heard])


def test_a_sure_command_is_doubted_only_in_its_numbers_and_units(readings: GrammarReadings) -> None:
    heard = "Add three cartons of oat milk to the walk-in."
    assert readings.grammar.parse(heard).confidence >= readings.sure_confidence
    items = {readings.grammar.parse(t).item for t in readings.propose([heard])}
    assert items == {"oat milk"}


def reading(text: str, score: float, rank: int = 0) -> Reading:
    return Reading(text, score, rank)


@pytest.mark.parametrize(
    ("scored", "choice"),
    [
        # the best hearing reads as a command and nothing else comes close: taken as it is
        (
            [reading("Add two cases of oat milk.", -2.0), reading("Add few cases of oat milk.", -9.0, 6)],
            Choice("Add two cases of oat milk."),
        ),
        # a rival that means another amount scores close: named, so the dialogue asks
        (
            [
                reading("Add four bottles of vanilla syrup.", -3.0),
                reading("Add five bottles of vanilla syrup.", -4.0, 6),
            ],
            Choice("Add four bottles of vanilla syrup.", 0, ("Add five bottles of vanilla syrup.",)),
        ),
        # a rival scoring better than the hearing is named too
        (
            [reading("Used one tree of eggs.", -6.0), reading("Used one tray of eggs.", -3.0, 6)],
            Choice("Used one tree of eggs.", 0, ("Used one tray of eggs.",)),
        ),
        # the hearing stays taken; a reading scoring better is its rival
        (
            [
                reading("Add four bottles of vanilla syrup.", -6.0),
                reading("Add five bottles of vanilla syrup.", -3.0, 6),
            ],
            Choice("Add four bottles of vanilla syrup.", 0, ("Add five bottles of vanilla syrup.",)),
        ),
        # no command heard: the best-scoring name in its place, close enough to the words heard
        (
            [
                reading("We are out of the moment field.", -39.7),
                reading("We are out of the almond milk.", -41.0, 1),
                reading("We are out of the nonfat milk.", -41.0 - MARGIN - 1, 1),
            ],
            Choice("We are out of the almond milk.", 1),
        ),
        # ... but not when the words heard fit the audio far better: chatter stays chatter
        (
            [
                reading("One out of that white clean.", -20.0),
                reading("One out of that ice cream.", -20.0 - FAR - 1, 1),
            ],
            Choice("One out of that white clean."),
        ),
        # the same command said differently is no rival
        (
            [reading("Add 2 cases of oat milk.", -2.0), reading("Add two cases of oat milk.", -2.5, 6)],
            Choice("Add 2 cases of oat milk."),
        ),
        # the hearing is no command: the best-scoring reading that is one is taken, by its rank
        (
            [
                reading("Roll away six avocados.", -3.0),
                reading("Throw away six avocados.", -4.0, 1),
                reading("Throw away sixteen avocados.", -4.0 - MARGIN - 1, 6),
            ],
            Choice("Throw away six avocados.", 1),
        ),
        # the item's own place said or not: the same change, no rival
        (
            [reading("Add 18 eggs to the walk-in.", -2.0), reading("Add 18 eggs to the walking.", -2.5, 1)],
            Choice("Add 18 eggs to the walk-in."),
        ),
        # a reading that leaves the amount unsaid ("few") names no other amount: no rival
        (
            [
                reading("Add two sleeves of paper cups.", -2.0),
                reading("Add few sleeves of paper cups.", -2.5, 6),
            ],
            Choice("Add two sleeves of paper cups."),
        ),
        # nothing reads as a command: the hearing stands
        ([reading("How's it going?", -1.0), reading("How's it going.", -2.0, 1)], Choice("How's it going?")),
        # a question has no rivals: it changes nothing
        (
            [reading("How many eggs do we have?", -2.0), reading("Add two eggs.", -2.1, 6)],
            Choice("How many eggs do we have?"),
        ),
    ],
)
def test_choose(readings: GrammarReadings, scored: list[Reading], choice: Choice) -> None:
    assert readings.choose(scored) == choice


def test_a_rival_beyond_the_margin_is_not_named(readings: GrammarReadings) -> None:
    scored = [
        reading("Add four bottles of vanilla syrup.", -3.0),
        reading("Add five bottles of vanilla syrup.", -3.0 - MARGIN - 0.1, 6),
    ]
    assert readings.choose(scored).rivals == ()
