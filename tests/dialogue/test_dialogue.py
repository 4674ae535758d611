"""The Dialogue over a real Store (SQLite file) and the real Inventory, with Commands built directly.

Times are plain numbers standing for wall-clock epoch seconds; the window is 8 s.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from device.dialogue import Dialogue, PolicyConfig, Turn
from device.dialogue.pending import PENDING_KEY, Kind
from device.intent.command import Action, Command, Resolver
from device.inventory.apply import Inventory
from device.inventory.records import JournalEvent
from device.inventory.store import Store

T0 = 1_800_000_000.0
OAT = "oat milk"
ADD3 = Command(Action.ADD, OAT, 3, "carton", "walk-in", text="add three cartons of oat milk to the walk-in")
OUT = Command(Action.OUT, OAT, text="eighty six the oat milk")
BIG = Command(Action.ADD, OAT, 5000, "carton", text="add 5000 cartons of oat milk")
YES = Command(Action.CONFIRM, text="yes")
CANCEL = Command(Action.CANCEL, text="cancel")
UNDO = Command(Action.UNDO, text="undo that")
MILK = Command(Action.ADD, None, 2, candidates=(OAT, "whole milk"), text="add two milk")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "larder.db"


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    with Store.open(db_path) as opened:
        yield opened


def make_dialogue(store: Store) -> Dialogue:
    return Dialogue(Inventory(store), store, PolicyConfig(), window_s=8.0)


@pytest.fixture
def dialogue(store: Store) -> Dialogue:
    return make_dialogue(store)


def last_event(store: Store) -> JournalEvent:
    return store.journal()[-1]


def audit_of(event: JournalEvent) -> tuple[str, str, str, str, str]:
    return (event.action, event.transcript, event.resolver, event.confirmation, event.outcome)


def test_routine_add_applies_at_once(dialogue: Dialogue, store: Store) -> None:
    turn = dialogue.handle(ADD3, T0)
    assert turn.status == "applied" and not turn.expects_answer
    assert turn.reply.startswith("Added 3 cartons of oat milk")
    assert store.quantity(OAT) == 3
    event = last_event(store)
    assert turn.event_id == event.id
    assert audit_of(event) == ("add", ADD3.text, "grammar", "implicit", "applied")
    assert dialogue.pending is None


def test_voice_cancel_within_the_window_undoes(dialogue: Dialogue, store: Store) -> None:
    dialogue.handle(ADD3, T0)
    turn = dialogue.handle(CANCEL, T0 + 7.5)
    assert turn.status == "undone"
    assert turn.reply.startswith("Undid adding 3 cartons of oat milk")
    assert store.quantity(OAT) == 0
    undo = last_event(store)
    assert undo.reverses == store.journal()[0].id and undo.transcript == "cancel"
    assert dialogue.handle(CANCEL, T0 + 7.6).status == "nothing"  # the window closes with the undo


def test_cancel_after_the_window_changes_nothing(dialogue: Dialogue, store: Store) -> None:
    dialogue.handle(ADD3, T0)
    turn = dialogue.handle(CANCEL, T0 + 8.0)
    assert (turn.status, turn.reply) == ("nothing", "There's nothing to cancel.")
    assert store.quantity(OAT) == 3


def test_cancel_does_not_undo_an_older_change(dialogue: Dialogue, store: Store) -> None:
    dialogue.handle(ADD3, T0)
    dialogue.handle(UNDO, T0 + 1)  # undone already: a cancel must not undo the change before it
    dialogue.handle(Command(Action.ADD, "basil", 1, text="add a bunch of basil"), T0 - 100)
    assert store.quantity("basil") == 1
    store.set_state("recent", {"event_id": store.journal()[0].id, "item": OAT, "deadline": T0 + 8})
    assert dialogue.handle(CANCEL, T0 + 2).status == "nothing"
    assert store.quantity("basil") == 1


@pytest.mark.parametrize("reply", [UNDO, YES])
def test_a_yes_or_undo_from_the_recognisers_runner_up_changes_nothing(
    dialogue: Dialogue, store: Store, reply: Command
) -> None:
    dialogue.handle(ADD3, T0)
    dialogue.handle(BIG, T0 + 1)  # a question waits too
    guessed = reply.with_(text="Yes, yes, yes.", resolver=Resolver.GRAMMAR_RUNNER_UP)
    turn = dialogue.handle(guessed, T0 + 2)
    assert turn.expects_answer and turn.reply.startswith("Sorry")
    assert store.quantity(OAT) == 3 and dialogue.pending is not None
    assert dialogue.handle(reply, T0 + 3).status in (
        "cancelled",
        "confirmed",
    )  # said as the best hearing: acts


def test_a_cancel_from_the_runner_up_drops_a_question_but_undoes_nothing(
    dialogue: Dialogue, store: Store
) -> None:
    dialogue.handle(ADD3, T0)
    guessed = CANCEL.with_(text="No, no, no, no.", resolver=Resolver.GRAMMAR_RUNNER_UP)
    assert dialogue.handle(guessed, T0 + 2).status == "nothing"
    assert store.quantity(OAT) == 3
    dialogue.handle(BIG, T0 + 3)
    assert dialogue.handle(guessed, T0 + 4).status == "cancelled" and store.quantity(OAT) == 3
    assert dialogue.handle(UNDO, T0 + 5).status == "undone"  # a clear "undo" still works


def test_out_waits_for_yes(dialogue: Dialogue, store: Store) -> None:
    dialogue.handle(ADD3, T0)
    turn = dialogue.handle(OUT, T0 + 20)
    assert turn.status == "pending" and turn.expects_answer
    assert turn.reply.endswith("Press confirm or say yes.") and OAT in turn.reply
    assert store.quantity(OAT) == 3
    assert dialogue.deadline() == T0 + 28
    confirmed = dialogue.handle(YES, T0 + 25)
    assert confirmed.status == "confirmed" and confirmed.reply == "Marked oat milk as out."
    assert store.quantity(OAT) == 0
    assert audit_of(last_event(store)) == ("out", OUT.text, "grammar", "explicit", "applied")
    assert dialogue.pending is None


def test_throwing_away_all_of_an_item_waits_for_yes(dialogue: Dialogue, store: Store) -> None:
    dialogue.handle(ADD3, T0)
    dialogue.handle(Command(Action.ADD, OAT, 2, location="bar"), T0 + 1)
    toss = Command(Action.WASTE, OAT, text="toss the oat milk")  # no amount: all of it
    turn = dialogue.handle(toss, T0 + 20)
    assert turn.status == "pending"
    assert turn.reply.startswith("Waste all 5 cartons of oat milk?")
    assert store.quantity(OAT) == 5
    confirmed = dialogue.handle(YES, T0 + 22)
    assert confirmed.reply == "Wasted 5 cartons of oat milk. 0 left."
    assert store.quantity(OAT) == 0
    assert audit_of(last_event(store)) == ("waste", toss.text, "grammar", "explicit", "applied")
    assert dialogue.handle(UNDO, T0 + 30).status == "undone" and store.quantity(OAT) == 5
    only_bar = Command(Action.USE, OAT, location="bar", text="we used the oat milk at the bar")
    assert dialogue.handle(only_bar, T0 + 40).reply.startswith("Use all 2 cartons of oat milk at the bar?")
    dialogue.handle(YES, T0 + 41)
    assert (store.quantity(OAT, "walk-in"), store.quantity(OAT, "bar")) == (3, 0)
    nothing = dialogue.handle(Command(Action.WASTE, OAT, location="bar"), T0 + 50)
    assert (nothing.status, nothing.reply) == ("refused", "We have no oat milk at the bar.")


def test_undo_at_any_time_restores(dialogue: Dialogue, store: Store) -> None:
    dialogue.handle(ADD3, T0)
    dialogue.handle(OUT, T0 + 20)
    dialogue.handle(YES, T0 + 21)
    turn = dialogue.handle(UNDO, T0 + 3600)
    assert turn.status == "undone" and turn.reply.startswith("Undid marking oat milk as out")
    assert store.quantity(OAT) == 3
    assert audit_of(last_event(store)) == ("undo", "undo that", "grammar", "implicit", "applied")
    turn = dialogue.handle(UNDO, T0 + 3601)  # and the change before it
    assert store.quantity(OAT) == 0 and turn.status == "undone"
    assert dialogue.handle(UNDO, T0 + 3602).status == "nothing"


def test_large_add_waits_and_cancel_leaves_stock(dialogue: Dialogue, store: Store) -> None:
    dialogue.handle(ADD3, T0)
    turn = dialogue.handle(BIG, T0 + 30)
    assert turn.status == "pending" and turn.reply.startswith("Add 5,000 cartons of oat milk")
    cancelled = dialogue.handle(CANCEL, T0 + 31)
    assert cancelled.status == "cancelled"
    assert cancelled.reply == "Cancelled. I left oat milk as it was."
    assert store.quantity(OAT) == 3
    event = last_event(store)
    assert cancelled.event_id == event.id and event.deltas == ()
    assert audit_of(event) == ("add", BIG.text, "grammar", "explicit", "cancelled")


def test_no_answer_times_out_and_applies_nothing(dialogue: Dialogue, store: Store) -> None:
    dialogue.handle(ADD3, T0)
    dialogue.handle(OUT, T0 + 10)
    assert dialogue.tick(T0 + 17.9) is None
    turn = dialogue.tick(T0 + 18)
    assert turn is not None
    assert (turn.reply, turn.status, turn.expects_answer) == (
        "I didn't hear a yes, so I left oat milk as it was.",
        "timed_out",
        False,
    )
    assert turn.event_id == last_event(store).id
    assert audit_of(last_event(store)) == ("out", OUT.text, "grammar", "explicit", "timed_out")
    assert dialogue.tick(T0 + 19) is None
    assert dialogue.handle(YES, T0 + 19).status == "nothing"
    assert store.quantity(OAT) == 3


def test_late_yes_is_a_timeout(dialogue: Dialogue, store: Store) -> None:
    dialogue.handle(OUT, T0)
    turn = dialogue.handle(YES, T0 + 60)  # no tick ran (e.g. `larder say yes` much later)
    assert turn.status == "timed_out"
    assert [e.outcome for e in store.journal()] == ["timed_out"]


def test_pending_survives_a_new_process(db_path: Path) -> None:
    with Store.open(db_path) as first:
        make_dialogue(first).handle(ADD3, T0)
        assert make_dialogue(first).handle(OUT, T0 + 1).status == "pending"
    with Store.open(db_path) as second:  # a restart, or the next `larder say`
        dialogue = make_dialogue(second)
        pending = dialogue.pending
        assert pending is not None and pending.kind == Kind.CONFIRM and pending.reason == "out"
        assert pending.command == OUT and pending.command.text == OUT.text
        assert second.quantity(OAT) == 3
        assert dialogue.handle(YES, T0 + 5).status == "confirmed"
        assert second.quantity(OAT) == 0


def test_pending_found_expired_after_a_restart_is_timed_out(db_path: Path) -> None:
    with Store.open(db_path) as first:
        make_dialogue(first).handle(BIG, T0)
    with Store.open(db_path) as second:
        turn = make_dialogue(second).tick(T0 + 3600)
        assert turn is not None and turn.status == "timed_out"
        assert second.quantity(OAT) == 0
        assert audit_of(second.journal()[-1])[-1] == "timed_out"


def test_unreadable_pending_is_dropped(dialogue: Dialogue, store: Store) -> None:
    store.set_state(PENDING_KEY, {"command": {"action": "explode"}, "kind": "confirm", "deadline": "soon"})
    assert dialogue.pending is None and store.get_state(PENDING_KEY) is None
    assert dialogue.handle(YES, T0).status == "nothing"


def test_cancel_with_nothing_to_cancel(dialogue: Dialogue) -> None:
    assert dialogue.handle(CANCEL, T0) == Turn("There's nothing to cancel.", "nothing")
    assert dialogue.handle(YES, T0) == Turn("There's nothing to confirm.", "nothing")


def test_ambiguity_follow_up(dialogue: Dialogue, store: Store) -> None:
    turn = dialogue.handle(MILK, T0)
    assert turn == Turn("Did you mean oat milk or whole milk?", "pending", True)
    assert store.journal() == []
    again = dialogue.handle(YES, T0 + 2)  # "yes" does not say which
    assert again.status == "pending" and again.reply == "Which one: oat milk or whole milk?"
    answer = Command(Action.UNKNOWN, item="whole milk", confidence=0.3, text="whole milk")
    done = dialogue.handle(answer, T0 + 4)
    assert done.status == "applied" and "whole milk" in done.reply
    assert store.quantity("whole milk") == 2 and store.quantity(OAT) == 0
    event = last_event(store)
    assert (event.item, event.confirmation, event.transcript) == ("whole milk", "explicit", MILK.text)


def test_ambiguous_out_asks_again_after_the_choice(dialogue: Dialogue, store: Store) -> None:
    dialogue.handle(ADD3, T0)
    dialogue.handle(Command(Action.OUT, candidates=(OAT, "soy milk"), text="eighty six the milk"), T0 + 10)
    turn = dialogue.handle(Command(Action.UNKNOWN, text="the first one"), T0 + 12)
    assert turn.status == "pending" and turn.expects_answer and OAT in turn.reply
    assert store.quantity(OAT) == 3
    assert dialogue.handle(YES, T0 + 14).status == "confirmed"
    assert store.quantity(OAT) == 0


def test_ambiguity_times_out(dialogue: Dialogue, store: Store) -> None:
    dialogue.handle(MILK, T0)
    turn = dialogue.tick(T0 + 8)
    assert turn is not None and turn.reply == "I didn't hear which one, so I left the stock as it was."
    assert audit_of(last_event(store)) == ("add", MILK.text, "grammar", "explicit", "timed_out")


def test_a_new_command_replaces_the_question(dialogue: Dialogue, store: Store) -> None:
    dialogue.handle(OUT, T0)
    turn = dialogue.handle(ADD3, T0 + 2)
    assert turn.status == "applied" and store.quantity(OAT) == 3
    assert [(e.action, e.outcome) for e in store.journal()] == [("out", "cancelled"), ("add", "applied")]
    assert dialogue.pending is None


def test_undo_while_asked_drops_the_question(dialogue: Dialogue, store: Store) -> None:
    dialogue.handle(ADD3, T0)
    dialogue.handle(OUT, T0 + 20)
    turn = dialogue.handle(Command(Action.UNDO, text="scratch that"), T0 + 21)
    assert turn.status == "cancelled" and store.quantity(OAT) == 3


@pytest.mark.parametrize(
    ("command", "reply_start"),
    [
        (Command(Action.SET, OAT, 0, text="set oat milk to zero"), "Set oat milk to zero?"),
        (Command(Action.ADD, OAT, 2, confidence=0.4, text="add to oat milk"), "Add 2 cartons of oat milk"),
        (Command(Action.ADD, OAT, 2, resolver=Resolver.LLM, text="chuck in two oatly"), "Add 2 cartons"),
    ],
    ids=["set zero", "low confidence", "llm"],
)
def test_explicit_cases_ask(dialogue: Dialogue, store: Store, command: Command, reply_start: str) -> None:
    dialogue.handle(ADD3, T0)
    turn = dialogue.handle(command, T0 + 20)
    assert turn.status == "pending" and turn.reply.startswith(reply_start)
    assert store.quantity(OAT) == 3


def test_refusal_is_journalled(dialogue: Dialogue, store: Store) -> None:
    turn = dialogue.handle(Command(Action.ADD, OAT, 20000, text="add twenty thousand oat milk"), T0)
    assert turn.status == "refused" and "10,000" in turn.reply
    assert audit_of(last_event(store))[-1] == "refused" and turn.event_id == last_event(store).id
    unknown = dialogue.handle(Command(Action.ADD, None, 2, unmatched="oat mlik", text="add 2 oat mlik"), T0)
    assert unknown.status == "refused" and "oat mlik" in unknown.reply
    assert store.quantity(OAT) == 0


def test_queries_need_no_confirmation(dialogue: Dialogue, store: Store) -> None:
    dialogue.handle(ADD3, T0)
    turn = dialogue.handle(Command(Action.QUERY, OAT, text="how much oat milk"), T0 + 1)
    assert turn.status == "answered" and "3" in turn.reply
    assert dialogue.handle(Command(Action.UNKNOWN, text="blah"), T0 + 2).status == "unknown"
    assert len(store.journal()) == 1


def test_every_outcome_is_audited(dialogue: Dialogue, store: Store) -> None:
    dialogue.handle(ADD3, T0)  # applied, implicit
    dialogue.handle(CANCEL, T0 + 1)  # undone
    dialogue.handle(OUT, T0 + 10)
    dialogue.handle(CANCEL, T0 + 11)  # cancelled
    dialogue.handle(BIG, T0 + 20)
    dialogue.tick(T0 + 40)  # timed out
    dialogue.handle(ADD3, T0 + 50)
    dialogue.handle(OUT, T0 + 60)
    dialogue.handle(YES, T0 + 61)  # applied, explicit
    assert [(e.action, e.confirmation, e.outcome, e.transcript) for e in store.journal()] == [
        ("add", "implicit", "applied", ADD3.text),
        ("undo", "implicit", "applied", "cancel"),
        ("out", "explicit", "cancelled", OUT.text),
        ("add", "explicit", "timed_out", BIG.text),
        ("add", "implicit", "applied", ADD3.text),
        ("out", "explicit", "applied", OUT.text),
    ]
    assert {e.resolver for e in store.journal()} == {"grammar"}


def test_garbled_answer_keeps_the_question(dialogue: Dialogue, store: Store) -> None:
    dialogue.handle(ADD3, T0)
    dialogue.handle(OUT, T0 + 10)
    turn = dialogue.handle(Command(Action.UNKNOWN, confidence=0.1, text="clatter"), T0 + 15)
    assert turn.status == "pending" and turn.expects_answer
    assert turn.reply == "Sorry, I didn't catch that. Mark oat milk as out? Press confirm or say yes."
    assert dialogue.deadline() == T0 + 23  # a fresh window to answer in
    assert dialogue.handle(YES, T0 + 22).status == "confirmed" and store.quantity(OAT) == 0


def test_a_question_while_asked_is_answered_then_asked_again(dialogue: Dialogue, store: Store) -> None:
    dialogue.handle(ADD3, T0)
    dialogue.handle(MILK, T0 + 10)
    turn = dialogue.handle(Command(Action.QUERY, OAT, text="how much oat milk is there"), T0 + 12)
    assert turn.status == "answered" and turn.expects_answer
    assert turn.reply.endswith("Which one: oat milk or whole milk?") and "3" in turn.reply
    assert dialogue.pending is not None
    dialogue.handle(CANCEL, T0 + 13)
    assert store.quantity(OAT) == 3 and store.quantity("whole milk") == 0
