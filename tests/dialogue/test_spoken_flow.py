"""Spoken sentences through the real grammar and the Dialogue, each in a fresh Store connection (as each
``larder say`` is a new process), on a fresh store file."""

from __future__ import annotations

from pathlib import Path

import pytest

from device.dialogue import Dialogue, PolicyConfig, Turn
from device.intent.grammar import Grammar
from device.inventory.apply import Inventory
from device.inventory.store import Store

T0 = 1_800_000_000.0


class Kitchen:
    def __init__(self, path: Path) -> None:
        self.path = path

    def say(self, text: str, now: float) -> Turn:
        with Store.open(self.path) as store:
            command = Grammar(store.catalogue()).parse(text)
            dialogue = Dialogue(Inventory(store), store, PolicyConfig(), window_s=8.0)
            return dialogue.handle(command, now)

    def quantity(self, item: str) -> float:
        with Store.open(self.path) as store:
            return store.quantity(item)


@pytest.fixture
def kitchen(tmp_path: Path) -> Kitchen:
    return Kitchen(tmp_path / "larder.db")


def test_the_issue_walkthrough(kitchen: Kitchen) -> None:
    assert kitchen.say("add three cartons of oat milk to the walk-in", T0).status == "applied"
    assert kitchen.quantity("oat milk") == 3
    assert kitchen.say("eighty six the oat milk", T0 + 10).status == "pending"
    assert kitchen.quantity("oat milk") == 3
    assert kitchen.say("yes", T0 + 12).status == "confirmed"
    assert kitchen.quantity("oat milk") == 0
    assert kitchen.say("undo that", T0 + 60).status == "undone"
    assert kitchen.quantity("oat milk") == 3
    assert kitchen.say("add 5000 cartons of oat milk", T0 + 70).status == "pending"
    assert kitchen.say("cancel", T0 + 72).status == "cancelled"
    assert kitchen.quantity("oat milk") == 3


def test_which_cheese(kitchen: Kitchen) -> None:
    asked = kitchen.say("add two pounds of cheese", T0)
    assert asked == Turn("Did you mean cheddar or cream cheese?", "pending", True)
    done = kitchen.say("cream cheese", T0 + 3)
    assert done.status == "applied"
    assert kitchen.quantity("cream cheese") == 2 and kitchen.quantity("cheddar") == 0


def test_implicit_change_cancelled_from_a_new_process(kitchen: Kitchen) -> None:
    kitchen.say("add three cartons of oat milk to the walk-in", T0)
    assert kitchen.say("cancel", T0 + 5).status == "undone"
    assert kitchen.quantity("oat milk") == 0
