"""``Dialogue.preview``: the first sentence the unit would say to a command applied at once, worked out without
writing anything (the runner renders it while the final transcript is on its way). Real Store and Inventory."""

from __future__ import annotations

import pytest

from device.dialogue import Dialogue, PolicyConfig
from device.intent.command import Action, Command, Resolver
from device.inventory.apply import Inventory
from device.inventory.store import Store
from device.tts import split_clauses

T0 = 1_800_000_000.0
OAT = "oat milk"


@pytest.fixture
def dialogue(store: Store) -> Dialogue:
    return Dialogue(Inventory(store), store, PolicyConfig(), window_s=8.0)


def written(store: Store) -> tuple[int, float, float]:
    return len(store.journal()), store.quantity(OAT, "walk-in"), store.quantity(OAT, "bar")


APPLIED_AT_ONCE = [
    Command(Action.ADD, OAT, 3, "carton", "walk-in", text="add three cartons of oat milk to the walk-in"),
    Command(Action.ADD, OAT, 1, "case", "walk-in", text="add a case of oat milk"),
    Command(Action.USE, OAT, 2, "carton", text="used two cartons of oat milk"),
    Command(Action.WASTE, OAT, 1, "carton", "walk-in", text="wasted a carton of oat milk from the walk-in"),
    Command(Action.MOVE, OAT, 2, "carton", "walk-in", to_location="bar", text="move two oat milk to the bar"),
]


@pytest.mark.parametrize("command", APPLIED_AT_ONCE, ids=lambda c: c.text)
def test_the_preview_is_the_first_clause_of_the_reply_and_writes_nothing(
    dialogue: Dialogue, store: Store, command: Command
) -> None:
    dialogue.handle(Command(Action.ADD, OAT, 20, "carton", "walk-in", text="stock"), T0)  # something to use
    before = written(store)
    preview = dialogue.preview(command)
    assert preview is not None
    assert written(store) == before and dialogue.pending is None
    turn = dialogue.handle(command, T0 + 100)
    assert turn.status == "applied"
    assert split_clauses(preview)[0] == split_clauses(turn.reply)[0]
    assert turn.reply.startswith(preview)


def test_no_preview_when_the_unit_would_ask_or_refuse(dialogue: Dialogue, store: Store) -> None:
    big = Command(Action.ADD, OAT, 5000, "carton", text="add 5000 cartons of oat milk")
    zero = Command(Action.SET, OAT, 0, "carton", "walk-in", text="set oat milk to zero")
    unknown = Command(Action.ADD, "saffron", 2, "jar", text="add two jars of saffron")
    missing = Command(Action.ADD, OAT, None, None, "walk-in", missing="quantity", text="add oat milk")
    guessed = Command(Action.ADD, OAT, 3, "carton", resolver=Resolver.GRAMMAR_RUNNER_UP, text="add three oat")
    before = written(store)
    for command in (big, zero, unknown, missing, guessed):
        assert dialogue.preview(command) is None, command.text
    assert dialogue.handle(big, T0).expects_answer
    assert dialogue.handle(zero, T0 + 100).expects_answer
    assert written(store)[1:] == before[1:]


def test_no_preview_while_a_question_waits_for_its_answer(dialogue: Dialogue) -> None:
    big = Command(Action.ADD, OAT, 5000, "carton", text="add 5000 cartons of oat milk")
    add3 = Command(Action.ADD, OAT, 3, "carton", "walk-in", text="add three cartons of oat milk")
    assert dialogue.preview(add3) is not None
    assert dialogue.handle(big, T0).expects_answer
    assert dialogue.preview(add3) is None  # it may be the answer to the question


def test_a_question_is_previewed_with_its_whole_answer(dialogue: Dialogue, store: Store) -> None:
    dialogue.handle(Command(Action.ADD, OAT, 4, "carton", "walk-in", text="add four cartons of oat milk"), T0)
    query = Command(Action.QUERY, OAT, text="how much oat milk do we have")
    unknown = Command(Action.QUERY, "saffron", text="how much saffron do we have")
    before = written(store)
    preview = dialogue.preview(query)
    assert preview is not None and "4" in preview
    assert dialogue.preview(unknown) is None  # refused: "I don't know saffron" is not guessed ahead
    assert written(store) == before
    assert dialogue.handle(query, T0 + 100).reply == preview
