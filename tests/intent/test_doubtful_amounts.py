"""Amounts the grammar reads but does not trust enough to apply at once (below the policy's 0.85), and amounts it
leaves unsaid for the dialogue to ask for: the shapes Whisper's mishearings of numbers take."""

from __future__ import annotations

import pytest

from device.dialogue.policy import PolicyConfig
from device.intent.grammar import Grammar

APPLY = PolicyConfig().apply_confidence


@pytest.mark.parametrize(
    ("text", "quantity", "missing", "trusted"),
    [
        ("We just got few cases of lemons.", None, "quantity", False),  # "two" heard as "few"
        ("Move forward bottles of vanilla syrup to the bar.", None, "quantity", False),  # "four" as "forward"
        ("add cases of oat milk", None, "quantity", False),  # a plural unit with no number before it
        ("toss a few tomatoes", None, "quantity", False),
        ("set the cheddar", None, "quantity", False),
        ("toss to a bunch of basil.", 1, None, False),  # "two" heard as "to" before "a bunch"
        ("Add a in-eggs to the walk-in.", 1, None, False),  # "eighteen" heard as "a in"
        ("We threw away for chicken breasts.", 4, None, False),  # "four" heard as "for"
        ("add a case of oat milk", 1, None, True),
        ("add an avocado", 1, None, True),
        ("we used a pound of ham", 1, None, True),
        ("add two cases of oat milk", 2, None, True),
        ("move the salmon to the bar", None, None, False),  # all of it, amount not said: asked as before
    ],
)
def test_doubtful_amounts(
    grammar: Grammar, text: str, quantity: float | None, missing: str | None, trusted: bool
) -> None:
    command = grammar.parse(text)
    assert (command.quantity, command.missing) == (quantity, missing)
    assert (command.confidence >= APPLY) is trusted
