"""Normalising transcripts: punctuation, case, contractions, glued digits, fillers and wake-word remnants."""

from __future__ import annotations

import pytest

from device.intent.text import normalise_name, strip_fillers, tokenize, wake_remnant


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("Add three cartons of oat milk to the walk-in.", "add three cartons of oat milk to the walk in"),
        ("add 5kg of flour", "add 5 kg of flour"),
        ("add 1.5l of cream", "add 1.5 l of cream"),
        ("add 1,000 napkins!", "add 1000 napkins"),
        ("What's expiring?", "what is expiring"),
        ("we're out of basil", "we are out of basil"),
        ("we've got 3", "we have got 3"),
        ("I'll have the salmon", "i will have the salmon"),
        ("the fries are 86'd", "the fries are 86"),
        ("jalapeños", "jalapenos"),
        ("twenty-five", "twenty five"),
        ("use by the 30th", "use by the 30th"),
        ("1½ kilos", "1 1/2 kilos"),
        ("count: 14 bagels", "count 14 bagels"),
        ("table four's order", "table four order"),
        ("best before 2025-12-03", "best before 2025_12_03"),
    ],
)
def test_tokenize(text: str, tokens: str) -> None:
    assert tokenize(text) == tokens.split()


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("um okay so add twenty five eggs", "add twenty five eggs"),
        ("okay nabu add 3 eggs", "add 3 eggs"),
        ("hey nabu, could you add 3 eggs please", "add 3 eggs"),
        ("can you add 2 bottles of honey", "add 2 bottles of honey"),
        ("uh add like three cases", "add three cases"),
        ("so um we used like two kilos of butter", "we used two kilos of butter"),
        ("add 3 eggs thanks", "add 3 eggs"),
        ("okay", "okay"),  # never empties: a lone "okay" is a reply
        ("i would like a latte", "i would like a latte"),  # "like" is not a filler here
        ("yes chef", "yes"),
    ],
)
def test_strip_fillers(text: str, kept: str) -> None:
    assert strip_fillers(tokenize(text)) == kept.split()


def test_normalise_name() -> None:
    assert normalise_name("Walk-In") == "walk in"
    assert normalise_name("  Crème  Fraîche ") == "creme fraiche"
    assert normalise_name("to-go cups") == "to go cups"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Okay, now move, add 3 cases.", (["now", "move"], "add 3 cases.")),
        ("OK. Our move, we wasted five.", (["our", "move"], "we wasted five.")),
        ("Hey, Nabu, add two.", (["nabu"], "add two.")),
        ("Okay, a few more, then.", (["a", "few", "more"], "then.")),
        ("Okay, three cases, oat milk.", None),  # a number: the command's own words
        ("Okay, one two three four, go.", None),
        ("Okay, add three cases of oat milk.", None),  # no clause before a comma
        ("Okay, now move,", None),  # nothing after it
        ("Move, how many eggs do we have?", (["move"], "how many eggs do we have?")),  # no "okay" heard
        ("I'll move, add a dozen eggs.", (["i", "will", "move"], "add a dozen eggs.")),
        ("How many pounds, let bacon do we have?", None),  # without "okay", only "move" or "nabu" ends one
        ("Add three cases, okay, now.", None),  # a number
        ("Okay, we had a delivery of oat milk, add it.", None),  # too long to be a wake word
        ("Add three cases of oat milk.", None),
    ],
)
def test_wake_remnant(text: str, expected: tuple[list[str], str] | None) -> None:
    assert wake_remnant(text) == expected
