"""The confirmation policy as a table of cases, and the pure answer/wording helpers."""

from __future__ import annotations

import pytest

from device.dialogue.answers import (
    cancelled_reply,
    choose_question,
    confirm_question,
    pick_candidate,
    timed_out_reply,
)
from device.dialogue.policy import Mode, PolicyConfig, Reason, decide, is_large
from device.intent.command import Action, Command, Resolver
from device.settings import Settings

CONFIG = PolicyConfig()
OAT = "oat milk"

CASES = [
    # (name, command, par, stock, base_quantity, mode, reason)
    ("routine add", Command(Action.ADD, OAT, 3, "carton"), 24, 10, 3, Mode.IMPLICIT, Reason.ROUTINE),
    ("add 3 cases", Command(Action.ADD, OAT, 3, "case"), 24, 0, 36, Mode.IMPLICIT, Reason.ROUTINE),
    ("routine use", Command(Action.USE, OAT, 2), 24, 10, 2, Mode.IMPLICIT, Reason.ROUTINE),
    ("routine waste", Command(Action.WASTE, "basil", 1), 4, 2, 1, Mode.IMPLICIT, Reason.ROUTINE),
    ("move", Command(Action.MOVE, OAT, 6, to_location="bar"), 24, 30, 6, Mode.IMPLICIT, Reason.ROUTINE),
    ("set nonzero", Command(Action.SET, OAT, 20), 24, 10, 20, Mode.IMPLICIT, Reason.ROUTINE),
    ("query", Command(Action.QUERY, OAT), 24, 10, None, Mode.NONE, Reason.NOT_A_CHANGE),
    ("low", Command(Action.LOW), None, 0, None, Mode.NONE, Reason.NOT_A_CHANGE),
    ("expiring", Command(Action.EXPIRING, within_days=3), None, 0, None, Mode.NONE, Reason.NOT_A_CHANGE),
    ("undo word", Command(Action.UNDO), None, 0, None, Mode.NONE, Reason.NOT_A_CHANGE),
    ("yes word", Command(Action.CONFIRM), None, 0, None, Mode.NONE, Reason.NOT_A_CHANGE),
    ("unknown", Command(Action.UNKNOWN, confidence=0.1), None, 0, None, Mode.NONE, Reason.NOT_A_CHANGE),
    ("out", Command(Action.OUT, OAT), 24, 10, None, Mode.EXPLICIT, Reason.OUT),
    ("set zero", Command(Action.SET, OAT, 0), 24, 10, 0, Mode.EXPLICIT, Reason.SET_ZERO),
    ("waste all of it", Command(Action.WASTE, OAT), 24, 10, 10, Mode.EXPLICIT, Reason.ALL_OF_IT),
    ("use all of it", Command(Action.USE, OAT), 24, 3, 3, Mode.EXPLICIT, Reason.ALL_OF_IT),
    (
        "low confidence",
        Command(Action.ADD, OAT, 3, confidence=0.5),
        24,
        0,
        3,
        Mode.EXPLICIT,
        Reason.LOW_CONFIDENCE,
    ),
    (
        "below the threshold for applying at once: a number heard as a sound-alike",
        Command(Action.ADD, OAT, 4, confidence=0.825),
        24,
        0,
        4,
        Mode.EXPLICIT,
        Reason.LOW_CONFIDENCE,
    ),
    (
        "a close rival reading",
        Command(Action.ADD, OAT, 4, rivals=(Command(Action.ADD, OAT, 5),)),
        24,
        0,
        4,
        Mode.EXPLICIT,
        Reason.DOUBT,
    ),
    (
        "at the threshold",
        Command(Action.ADD, OAT, 3, confidence=0.85),
        24,
        0,
        3,
        Mode.IMPLICIT,
        Reason.ROUTINE,
    ),
    ("llm", Command(Action.ADD, OAT, 3, resolver=Resolver.LLM), 24, 0, 3, Mode.EXPLICIT, Reason.LLM),
    (
        "read from the recogniser's runner-up",
        Command(Action.ADD, OAT, 3, resolver=Resolver.GRAMMAR_RUNNER_UP),
        24,
        0,
        3,
        Mode.EXPLICIT,
        Reason.RUNNER_UP,
    ),
    (
        "a runner-up query",
        Command(Action.QUERY, OAT, resolver=Resolver.GRAMMAR_RUNNER_UP),
        24,
        0,
        None,
        Mode.NONE,
        Reason.NOT_A_CHANGE,
    ),
    (
        "manual",
        Command(Action.ADD, OAT, 3, resolver=Resolver.MANUAL),
        24,
        0,
        3,
        Mode.IMPLICIT,
        Reason.ROUTINE,
    ),
    (
        "ambiguous",
        Command(Action.ADD, None, 2, candidates=(OAT, "whole milk")),
        None,
        0,
        None,
        Mode.EXPLICIT,
        Reason.AMBIGUOUS,
    ),
    ("5000 cartons", Command(Action.ADD, OAT, 5000), 24, 3, 5000, Mode.EXPLICIT, Reason.LARGE),
    ("just above 3x par", Command(Action.ADD, OAT, 73), 24, 0, 73, Mode.EXPLICIT, Reason.LARGE),
    ("exactly 3x par", Command(Action.ADD, OAT, 72), 24, 0, 72, Mode.IMPLICIT, Reason.ROUTINE),
    ("large vs par, big stock", Command(Action.ADD, OAT, 100), 24, 200, 100, Mode.IMPLICIT, Reason.ROUTINE),
    ("large use vs stock", Command(Action.USE, "salt", 50), None, 10, 50, Mode.EXPLICIT, Reason.LARGE),
    ("no par, no stock", Command(Action.ADD, "salt", 500), None, 0, 500, Mode.IMPLICIT, Reason.ROUTINE),
    ("set far above par", Command(Action.SET, OAT, 500), 24, 10, 500, Mode.EXPLICIT, Reason.LARGE),
    # the first matching reason wins: ambiguity before the LLM, the LLM before low confidence
    (
        "ambiguous from llm",
        Command(Action.OUT, None, candidates=(OAT, "soy milk"), resolver=Resolver.LLM, confidence=0.2),
        None,
        0,
        None,
        Mode.EXPLICIT,
        Reason.AMBIGUOUS,
    ),
    (
        "llm, low confidence",
        Command(Action.OUT, OAT, resolver=Resolver.LLM, confidence=0.2),
        24,
        5,
        None,
        Mode.EXPLICIT,
        Reason.LLM,
    ),
]


@pytest.mark.parametrize(
    ("command", "par", "stock", "base", "mode", "reason"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_policy_table(
    command: Command, par: float | None, stock: float, base: float | None, mode: Mode, reason: Reason
) -> None:
    decision = decide(command, par=par, stock=stock, base_quantity=base, config=CONFIG)
    assert (decision.mode, decision.reason) == (mode, reason)


def test_config_switches_turn_rules_off() -> None:
    relaxed = PolicyConfig(
        confirm_llm=False, confirm_out=False, confirm_set_zero=False, min_confidence=0.3, apply_confidence=0.3
    )
    for command in (
        Command(Action.ADD, OAT, 3, resolver=Resolver.LLM),
        Command(Action.OUT, OAT),
        Command(Action.SET, OAT, 0),
        Command(Action.ADD, OAT, 3, confidence=0.5),
    ):
        assert decide(command, par=24, stock=5, base_quantity=3, config=relaxed).mode == Mode.IMPLICIT


def test_config_from_settings() -> None:
    settings = Settings(  # type: ignore[call-arg]
        min_confidence=0.8, apply_confidence=0.9, large_quantity_factor=5, _env_file=None
    )
    config = PolicyConfig.from_settings(settings)
    assert (config.min_confidence, config.apply_confidence, config.large_factor) == (0.8, 0.9, 5)
    assert decide(Command(Action.ADD, OAT, 100), par=24, stock=0, base_quantity=100, config=config).mode == (
        Mode.IMPLICIT
    )


@pytest.mark.parametrize(
    ("base", "par", "stock", "large"),
    [(None, 24, 0, False), (73, 24, 0, True), (-73, 24, 0, True), (31, None, 10, True), (5, 0, 0, False)],
)
def test_is_large(base: float | None, par: float | None, stock: float, large: bool) -> None:
    assert is_large(base, par=par, stock=stock, factor=3.0) is large


PICKS = [
    ("item named", Command(Action.UNKNOWN, item=OAT, text="oat milk"), OAT),
    ("full command", Command(Action.ADD, item="whole milk", quantity=2, text="two whole milk"), "whole milk"),
    ("not a candidate", Command(Action.UNKNOWN, item="soy milk", text="soy milk"), None),
    ("narrower", Command(Action.UNKNOWN, candidates=(OAT, "almond milk"), text="the oat"), OAT),
    ("text only", Command(Action.UNKNOWN, text="the oat milk please"), OAT),
    ("longest name wins", Command(Action.UNKNOWN, text="whole milk"), "whole milk"),
    ("both named", Command(Action.UNKNOWN, text="oat milk or whole milk"), None),
    ("first one", Command(Action.UNKNOWN, text="the first one"), OAT),
    ("second", Command(Action.UNKNOWN, text="second"), "whole milk"),
    ("last one", Command(Action.UNKNOWN, text="the last one"), "whole milk"),
    ("long sentence ordinal", Command(Action.UNKNOWN, text="add the first delivery to the bar now"), None),
    ("nothing", Command(Action.UNKNOWN, text="hmm"), None),
    ("unmatched words", Command(Action.UNKNOWN, unmatched="oat milk", text="uh oat milk"), OAT),
    ("a question is no answer", Command(Action.QUERY, OAT, text="how much oat milk is there"), None),
    ("a bare name parsed as a query", Command(Action.QUERY, OAT, text="oat milk"), OAT),
]


@pytest.mark.parametrize(("answer", "chosen"), [p[1:] for p in PICKS], ids=[p[0] for p in PICKS])
def test_pick_candidate(answer: Command, chosen: str | None) -> None:
    assert pick_candidate(answer, (OAT, "whole milk")) == chosen


CHEESES = ("cheddar", "cream cheese", "heavy cream")
FORMS = {"cheddar": ("cheddar cheese",), "heavy cream": ("double cream", "cream")}
ALIAS_PICKS = [
    ("by name", "cream cheese", "cream cheese"),
    ("by alias", "the double cream", "heavy cream"),
    ("alias inside a longer name does not count", "cream cheese please", "cream cheese"),
    ("short alias alone", "cream", "heavy cream"),
    ("alias of another", "cheddar cheese", "cheddar"),
    ("two named", "cheddar and cream", None),
]


@pytest.mark.parametrize(("text", "chosen"), [p[1:] for p in ALIAS_PICKS], ids=[p[0] for p in ALIAS_PICKS])
def test_pick_candidate_by_alias(text: str, chosen: str | None) -> None:
    assert pick_candidate(Command(Action.UNKNOWN, confidence=0.15, text=text), CHEESES, FORMS) == chosen


def test_an_ambiguous_answer_only_narrows() -> None:
    again = Command(Action.ADD, "cheddar", 2, candidates=("cheddar", "cream cheese"), text="cheese")
    assert pick_candidate(again, ("cheddar", "cream cheese")) is None
    assert pick_candidate(again, ("cheddar", "heavy cream")) == "cheddar"


def test_wording() -> None:
    assert choose_question((OAT, "whole milk")) == "Did you mean oat milk or whole milk?"
    assert choose_question(("a", "b", "c")) == "Did you mean a, b or c?"
    assert confirm_question("Set oat milk to zero?") == "Set oat milk to zero? Press confirm or say yes."
    assert confirm_question("Mark oat milk as out") == "Mark oat milk as out? Press confirm or say yes."
    assert timed_out_reply(Command(Action.OUT, OAT)) == "I didn't hear a yes, so I left oat milk as it was."
    choosing = Command(Action.ADD, OAT, candidates=(OAT, "whole milk"))
    assert "which one" in timed_out_reply(choosing, choosing=True)
    assert cancelled_reply(choosing, choosing=True) == "Cancelled. Nothing changed."
    assert cancelled_reply(Command(Action.SET, OAT, 0)) == "Cancelled. I left oat milk as it was."
