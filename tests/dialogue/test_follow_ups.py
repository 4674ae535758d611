"""Asking back only what is missing or in doubt, keeping the rest of the command: "How many cases of lemons?"
then "three"; "4 or 5 bottles of vanilla syrup?" then "five" (or the confirm button for the first). Real Store
(SQLite file), real Inventory, commands read by the real grammar."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from device.dialogue import Dialogue, PolicyConfig
from device.dialogue.pending import Kind
from device.intent.command import with_rivals
from device.intent.grammar import Grammar
from device.inventory.apply import Inventory
from device.inventory.store import Store

T0 = 1_800_000_000.0


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "larder.db") as opened:
        yield opened


@pytest.fixture
def grammar(store: Store) -> Grammar:
    return Grammar(store.catalogue())


@pytest.fixture
def dialogue(store: Store) -> Dialogue:
    return Dialogue(Inventory(store), store, PolicyConfig(), window_s=8.0)


def test_an_amount_not_heard_is_asked_for_and_the_answer_completes_the_command(
    dialogue: Dialogue, store: Store, grammar: Grammar
) -> None:
    heard = grammar.parse("We just got few cartons of oat milk.")  # "two" heard as "few"
    asked = dialogue.handle(heard, T0)
    assert (asked.reply, asked.status, asked.expects_answer) == (
        "How many cartons of oat milk?",
        "pending",
        True,
    )
    assert store.journal() == [] and dialogue.pending is not None and dialogue.pending.kind == Kind.SLOT
    done = dialogue.handle(grammar.parse("three"), T0 + 3)
    assert done.status == "applied" and done.reply.startswith("Added 3 cartons of oat milk")
    event = store.journal()[-1]
    assert (event.item, event.quantity, event.unit, event.confirmation) == (
        "oat milk",
        3,
        "carton",
        "explicit",
    )


def test_the_answer_still_passes_the_policy(dialogue: Dialogue, store: Store, grammar: Grammar) -> None:
    dialogue.handle(grammar.parse("We just got few cases of lemons."), T0)
    turn = dialogue.handle(grammar.parse("two cases"), T0 + 2)  # 230 lemons: large, so it is confirmed first
    assert turn.status == "pending" and turn.reply.startswith("Add 2 cases of lemons")
    assert dialogue.handle(grammar.parse("yes"), T0 + 4).status == "confirmed"
    assert store.quantity("lemons") == 230


def test_a_garbled_answer_asks_again_and_a_yes_gives_no_amount(
    dialogue: Dialogue, store: Store, grammar: Grammar
) -> None:
    dialogue.handle(grammar.parse("add some eggs to the walk-in"), T0)
    again = dialogue.handle(grammar.parse("hmm"), T0 + 2)
    assert again.expects_answer and again.reply.endswith("How many eggs?")
    yes = dialogue.handle(grammar.parse("yes"), T0 + 3)
    assert yes.status == "pending" and yes.reply == "How many eggs?"
    done = dialogue.handle(grammar.parse("a dozen"), T0 + 5)
    assert done.status == "applied" and store.quantity("eggs", "walk-in") == 12


def test_an_unanswered_amount_times_out_and_changes_nothing(
    dialogue: Dialogue, store: Store, grammar: Grammar
) -> None:
    dialogue.handle(grammar.parse("move forward bottles of vanilla syrup to the bar"), T0)
    turn = dialogue.tick(T0 + 9)
    assert turn is not None and turn.status == "timed_out"
    assert turn.reply == "I didn't hear how many, so I left vanilla syrup as it was."
    assert store.quantity("vanilla syrup") == 0


def test_the_cancel_button_drops_the_question(dialogue: Dialogue, store: Store, grammar: Grammar) -> None:
    dialogue.handle(grammar.parse("set the cheddar"), T0)
    turn = dialogue.button("cancel", T0 + 1)
    assert turn is not None and turn.status == "cancelled" and dialogue.pending is None


def doubtful(grammar: Grammar, said: str, rival: str):  # type: ignore[no-untyped-def]
    return with_rivals(grammar.parse(said), [grammar.parse(rival)])


def four_or_five(grammar: Grammar):  # type: ignore[no-untyped-def]
    """ "Four bottles of vanilla syrup", with "five" scoring close to it."""
    return doubtful(grammar, "add four bottles of vanilla syrup", "add five bottles of vanilla syrup")


def test_a_close_rival_is_asked_about_naming_only_the_doubtful_part(
    dialogue: Dialogue, store: Store, grammar: Grammar
) -> None:
    asked = dialogue.handle(four_or_five(grammar), T0)
    assert asked.reply == "4 or 5 bottles of vanilla syrup? Say which, or press confirm for the first."
    assert asked.expects_answer and store.journal() == []
    done = dialogue.handle(grammar.parse("five"), T0 + 2)
    assert done.status == "applied" and store.quantity("vanilla syrup") == 5


def test_the_confirm_button_takes_the_first_reading(
    dialogue: Dialogue, store: Store, grammar: Grammar
) -> None:
    dialogue.handle(doubtful(grammar, "used one tray of eggs", "used one egg"), T0)
    assert dialogue.pending is not None and dialogue.pending.kind == Kind.DOUBT
    turn = dialogue.button("confirm", T0 + 1)
    assert turn is not None and turn.status == "confirmed"
    event = store.journal()[-1]
    assert (event.quantity, event.unit) == (1, "tray")


@pytest.mark.parametrize(
    ("said", "rival", "question"),
    [
        ("use one tray of eggs", "use one egg", "1 tray of eggs or 1 egg?"),
        ("add two cases of lemons", "add two cases of limes", "Lemons or limes?"),
        (
            "add two cases of lemons",
            "toss two cases of lemons",
            "Add 2 cases of lemons to the walk-in, or waste 2 cases of lemons?",
        ),
    ],
)
def test_doubt_questions(dialogue: Dialogue, grammar: Grammar, said: str, rival: str, question: str) -> None:
    assert dialogue.handle(doubtful(grammar, said, rival), T0).reply.startswith(question)


@pytest.mark.parametrize(
    ("answer", "action", "cases"),
    [("threw away", "waste", -2), ("we put them away", "add", 2), ("waste", "waste", -2)],
)
def test_a_verb_answers_which_of_two_actions_was_said(
    dialogue: Dialogue, store: Store, grammar: Grammar, answer: str, action: str, cases: int
) -> None:
    Inventory(store).execute(grammar.parse("add four cases of lemons"), confirmation="none")
    before = store.quantity("lemons")
    asked = dialogue.handle(
        doubtful(grammar, "we put away two cases of lemons", "we threw away two cases of lemons"), T0
    )
    assert asked.reply.startswith("Add 2 cases of lemons to the walk-in, or waste 2 cases of lemons?")
    assert asked.expects_answer and store.quantity("lemons") == before
    done = dialogue.handle(grammar.parse(answer), T0 + 2)
    assert done.status == "applied" and store.journal()[-1].action == action
    per_case = store.catalogue().get("lemons").packs["case"]  # type: ignore[union-attr]
    assert store.quantity("lemons") == before + cases * per_case


def test_a_whole_new_command_replaces_a_doubt_question(
    dialogue: Dialogue, store: Store, grammar: Grammar
) -> None:
    dialogue.handle(four_or_five(grammar), T0)
    turn = dialogue.handle(grammar.parse("toss two avocados"), T0 + 2)
    assert turn.status == "applied" and turn.reply.startswith("Wasted 2 avocados")
    assert dialogue.pending is None and store.quantity("vanilla syrup") == 0


def test_an_answer_naming_neither_reading_asks_again(
    dialogue: Dialogue, store: Store, grammar: Grammar
) -> None:
    dialogue.handle(four_or_five(grammar), T0)
    again = dialogue.handle(grammar.parse("seven"), T0 + 2)
    assert again.expects_answer and "4 or 5 bottles" in again.reply and store.journal() == []


def test_a_question_survives_a_restart_with_its_rivals_and_missing_slot(
    tmp_path: Path, grammar: Grammar
) -> None:
    with Store.open(tmp_path / "restart.db") as first:
        Dialogue(Inventory(first), first, PolicyConfig()).handle(four_or_five(grammar), T0)
    with Store.open(tmp_path / "restart.db") as second:
        dialogue = Dialogue(Inventory(second), second, PolicyConfig())
        pending = dialogue.pending
        assert pending is not None and pending.kind == Kind.DOUBT
        assert [r.quantity for r in pending.command.rivals] == [5]
        assert dialogue.handle(grammar.parse("five please"), T0 + 2).status == "applied"
        assert second.quantity("vanilla syrup") == 5
