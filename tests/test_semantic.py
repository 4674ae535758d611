"""Semantic endpointing's pure decision: table tests of the verdict on what was heard (with the real grammar and
the demo catalogue), of the step a pause leads to, and of the settings it is built from."""

from __future__ import annotations

import pytest

from device.intent.command import Action, Command
from device.intent.grammar import Grammar
from device.inventory.catalog import Catalogue, Item, demo_catalogue
from device.pipeline.semantic import Closers, SemanticConfig, Step, Verdict, decide, judge
from device.settings import Settings

CATALOGUE = demo_catalogue()
GRAMMAR = Grammar(CATALOGUE)
COMPLETE, INCOMPLETE, UNSURE = Verdict.COMPLETE, Verdict.INCOMPLETE, Verdict.UNSURE


def verdict(text: str) -> Verdict:
    return judge(text, GRAMMAR.parse(text), Closers.of(CATALOGUE), min_confidence=0.8)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a confident command whose last word closes an item, a place, a unit or a question
        ("Add three cartons of oat, milk.", COMPLETE),
        ("add three cartons of oat milk to the walk-in", COMPLETE),
        ("move the oat milk to the walk-in", COMPLETE),
        ("we used two pounds of butter", COMPLETE),
        ("throw away six avocados", COMPLETE),
        ("set whole milk to four gallons", COMPLETE),
        ("we're out of almond milk", COMPLETE),
        ("How many eggs do we have?", COMPLETE),
        ("how much basil is left", COMPLETE),
        ("what is expiring", COMPLETE),
        ("how many bags of coffee beans are in the dry store", COMPLETE),
        ("add a case of croissants expiring friday", COMPLETE),
        # whole short replies
        ("Yes.", COMPLETE),
        ("cancel", COMPLETE),
        ("scratch that", COMPLETE),
        ("undo", COMPLETE),
        # stopped mid-phrase
        ("add three cartons of", INCOMPLETE),
        ("add three cartons", INCOMPLETE),  # no item yet
        ("Add three cartons up.", INCOMPLETE),  # Whisper's "up" for a trailing "of": still no item
        ("add three cartons of oat milk to the", INCOMPLETE),
        ("move the oat milk to", INCOMPLETE),
        ("move the oat milk", INCOMPLETE),  # a move with nowhere to go
        ("we used two pounds of", INCOMPLETE),
        ("eighty six the", INCOMPLETE),
        ("How many pounds?", INCOMPLETE),  # a question that has not named what it asks about yet
        ("how much", INCOMPLETE),
        ("how many eggs do we", INCOMPLETE),
        ("set whole milk to four", INCOMPLETE),  # its amount: a unit may follow
        # anything else waits the usual silence
        ("three", UNSURE),  # a bare answer, not a stock change
        ("add three cartons of oat", UNSURE),  # "oat" names oat milk, but "oat milk" may be coming
        ("add two bags of coffee", UNSURE),  # ... or "coffee beans"
        ("add a tub of vanilla", UNSURE),
        ("add two bags of coffee beans", COMPLETE),
        ("we used a quart of heavy cream", COMPLETE),  # "cream cheese" starts with "cream", not "heavy cream"
        ("we used four quarts of heavy", UNSURE),  # half of "heavy cream": a guess, not a closed name
        ("hello there", UNSURE),
        ("", UNSURE),
        ("um", UNSURE),
    ],
)
def test_verdict_on_what_was_heard(text: str, expected: Verdict) -> None:
    assert verdict(text) is expected


def test_an_unconfident_parse_is_unsure_even_when_it_ends_on_a_name() -> None:
    closers = Closers.of(CATALOGUE)
    sure = Command(Action.ADD, item="oat milk", quantity=3, confidence=0.97)
    assert judge("add three oat milk", sure, closers, min_confidence=0.8) is COMPLETE
    unsure = Command(Action.ADD, item="oat milk", quantity=3, confidence=0.7)
    assert judge("add three oat milk", unsure, closers, min_confidence=0.8) is UNSURE
    assert judge("yes", Command(Action.CONFIRM, confidence=0.5), closers, min_confidence=0.8) is UNSURE
    ambiguous = Command(Action.ADD, item="oat milk", candidates=("oat milk", "whole milk"), confidence=0.97)
    assert judge("add milk", ambiguous, closers, min_confidence=0.8) is UNSURE


def test_closers_follow_the_catalogue() -> None:
    catalogue = Catalogue(items=(Item("yuzu kosho", "jar", aliases=("yuzu paste",)),), locations=("cellar",))
    closers = Closers.of(catalogue)
    assert closers.end(["add", "a", "jar", "of", "yuzu", "kosho"])
    assert closers.end(["some", "yuzu", "paste"]) and closers.end(["in", "the", "cellar"])
    assert closers.end(["two", "jars"])  # a unit, plural
    assert not closers.end(["add", "a", "jar", "of", "yuzu"])
    assert not Closers.of(CATALOGUE).end(["the", "cellar"])
    assert closers.goes_on(["some", "yuzu"]) is False  # not a name at all
    assert Closers.of(catalogue).goes_on(["a", "jar", "of", "yuzu"]) is False
    longer = Catalogue(items=(Item("yuzu", "jar"), Item("yuzu kosho", "jar")), locations=())
    assert Closers.of(longer).goes_on(["a", "jar", "of", "yuzu"])
    assert not Closers.of(longer).goes_on(["a", "jar", "of", "yuzu", "kosho"])


CONFIG = SemanticConfig(pause_s=0.2, hold_s=0.35, end_silence_s=0.5, open_silence_s=1.0)


@pytest.mark.parametrize(
    ("verdict_", "silence_s", "pending", "step"),
    [
        (COMPLETE, 0.1, False, Step()),
        (COMPLETE, 0.2, False, Step(finalize=True)),  # ask for the final transcript at the short pause
        (COMPLETE, 0.3, False, Step(finalize=True)),
        (
            COMPLETE,
            0.35,
            False,
            Step(finalize=True, end=True, early=True),
        ),  # the turn ends once the hold has passed
        (UNSURE, 0.1, False, Step()),
        # words that may be whole ask for their final transcript too: it is judged in its turn
        (UNSURE, 0.2, False, Step(finalize=True)),
        (UNSURE, 0.35, False, Step(finalize=True)),
        (UNSURE, 0.5, False, Step(finalize=True, end=True)),  # ends as with silence alone
        (INCOMPLETE, 0.2, False, Step()),  # "add three cartons of": no final asked, keep listening
        (INCOMPLETE, 0.5, False, Step()),
        (INCOMPLETE, 0.99, False, Step()),
        (INCOMPLETE, 1.0, False, Step(end=True)),
        (None, 0.2, False, Step(finalize=True)),  # no words yet (no interim): the final says
        (None, 0.5, False, Step(finalize=True, end=True)),  # nothing heard of this pause: silence alone
        (None, 0.2, True, Step()),  # the draft is on its way: it is needed for the transcript anyway
        (None, 0.5, True, Step()),
        (None, 1.0, True, Step(end=True)),
    ],
)
def test_the_step_a_pause_leads_to(
    verdict_: Verdict | None, silence_s: float, pending: bool, step: Step
) -> None:
    assert decide(verdict_, silence_s, CONFIG, draft_pending=pending) == step


def test_config_from_settings() -> None:
    assert SemanticConfig.from_settings(Settings(semantic_endpointing=False)) is None
    config = SemanticConfig.from_settings(
        Settings(semantic_pause_s=0.25, semantic_hold_s=0.4, end_silence_s=0.6, semantic_open_silence_s=1.2)
    )
    assert config == SemanticConfig(pause_s=0.25, hold_s=0.4, end_silence_s=0.6, open_silence_s=1.2)
    # the hold is never shorter than the pause, nor the open silence than the end silence
    odd = SemanticConfig.from_settings(
        Settings(semantic_pause_s=0.3, semantic_hold_s=0.1, end_silence_s=0.8, semantic_open_silence_s=0.6)
    )
    assert odd is not None and (odd.hold_s, odd.open_silence_s) == (0.3, 0.8)
