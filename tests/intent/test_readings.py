"""Readings near a hearing, and the choice between scored readings (pure: scores are given, no model)."""

from __future__ import annotations

import pytest

from device.intent.readings import MARGIN, GrammarReadings
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
        ("We put away four chicken breasts.", "We threw away four chicken breasts."),
        ("We took out two cases of oat milk.", "We threw out two cases of oat milk."),
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
    assert readings.propose(["One out of that white clean."]) == []  # chatter is not made into a command


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
        # a verb of another action that sounds alike: a waste heard as a delivery is asked about
        (
            [
                reading("We put away four chicken breasts.", -34.2),
                reading("We threw away four chicken breasts.", -33.3, 6),
            ],
            Choice("We put away four chicken breasts.", 0, ("We threw away four chicken breasts.",)),
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
