"""What speech recognition does to commands, as measured with Whisper tiny.en on synthesized speech
(``tools/spoken_eval.py``): names split or misheard by sound, "add" heard as "at", a lone "undo" heard as
"and do", numbers heard as look-alike words. Each is read as the cook meant it, and the guards stay as strict.
"""

from __future__ import annotations

import pytest

from device.intent.command import Action
from device.intent.grammar import Grammar
from device.intent.sounds import SoundIndex, sound_key
from device.inventory.catalog import Catalogue, Item
from tests.intent.common import TODAY

KEYS = ("action", "item", "quantity", "unit", "location", "to_location")


def _keys(grammar: Grammar, text: str) -> tuple[object, ...]:
    got = grammar.parse(text, today=TODAY).to_json()
    return tuple(got[k] for k in KEYS)


@pytest.mark.parametrize(
    ("heard", "expected"),
    [
        # a compound name split or hyphenated: "take" is not a verb inside "take-away cups"
        (
            "Add two cases of take-away cups to the dry store.",
            ("add", "takeaway cups", 2, "case", "dry store", None),
        ),
        ("we used three sour dough loaves", ("use", "sourdough", 3, "loaf", None, None)),
        # a fraction before an article
        ("We used half the case of lemons.", ("use", "lemons", 0.5, "case", None, None)),
        ("Add 1/2 a case of lemons", ("add", "lemons", 0.5, "case", None, None)),
        # numbers written as digits or words, or heard as look-alike words before a unit
        ("add a 3 cases of oat milk", ("add", "oat milk", 3, "case", None, None)),
        ("we used to pounds of butter", ("use", "butter", 2, "pound", None, None)),
        ("add free cartons of soy milk", ("add", "soy milk", 3, "carton", None, None)),
        ("Set whole milk to Ford gallons.", ("set", "whole milk", 4, "gallon", None, None)),
        # "add" heard as "at" or "had" when it opens the command and an amount follows
        ("At two cases of oat milk to the walk-in.", ("add", "oat milk", 2, "case", "walk-in", None)),
        ("had 2 kilos of flour", ("add", "flour", 2, "kilogram", None, None)),
        ("at six avocados", ("add", "avocados", 6, None, None, None)),
        ("at a case of oat milk", ("add", "oat milk", 1, "case", None, None)),
        # "toss" heard as "cost" when it opens the command
        ("Cost two bunches of basil.", ("waste", "basil", 2, "bunch", None, None)),
        ("Cost the spinach.", ("waste", "spinach", None, None, None, None)),
        # "four" heard as "for" between the verb and the item
        ("We threw away for chicken breasts.", ("waste", "chicken breast", 4, None, None, None)),
        ("The spinach was bad.", ("waste", "spinach", None, None, None, None)),
        # "we use" for "we used"
        ("We use two pounds of butter.", ("use", "butter", 2, "pound", None, None)),
        # Whisper's punctuation inside a name
        ("add three cases of oat, milk", ("add", "oat milk", 3, "case", None, None)),
        # "threw" written as its homophone
        ("through out a tub of ice cream.", ("waste", "ice cream", 1, "tub", None, None)),
        ("Throughout a tub of ice cream.", ("waste", "ice cream", 1, "tub", None, None)),
        # a unit misheard, but sounding like one the item is counted in
        ("We have eight loads of sourdough.", ("set", "sourdough", 8, "loaf", None, None)),
        ("Add four fartons of soy milk to the walk-in.", ("add", "soy milk", 4, "carton", "walk-in", None)),
        # a wake-word remnant
        ("Okay, now Boo, add three cases of oat milk.", ("add", "oat milk", 3, "case", None, None)),
    ],
)
def test_misheard_commands_read_as_meant(grammar: Grammar, heard: str, expected: tuple[object, ...]) -> None:
    assert _keys(grammar, heard) == expected


@pytest.mark.parametrize(
    ("heard", "expected"),
    [
        ("and a case on double cream.", ("add", "heavy cream", 1, "case", None, None)),
        ("And two kilo mon flour.", ("add", "flour", 2, "kilogram", None, None)),
        (
            "okay nabu, and three cases of oat milk to the walk-in",
            ("add", "oat milk", 3, "case", "walk-in", None),
        ),
        ("and a couple of cases on napkins.", ("add", "napkins", 2, "case", None, None)),
    ],
)
def test_add_heard_as_and_is_asked_about(grammar: Grammar, heard: str, expected: tuple[object, ...]) -> None:
    assert _keys(grammar, heard) == expected
    assert grammar.parse(heard, today=TODAY).confidence < 0.6  # "and" is a real word: the dialogue asks


@pytest.mark.parametrize(
    ("heard", "expected"),
    [
        ("We use the pound of ham.", ("use", "ham", 1, "pound", None, None)),
        ("toss the case of lemons", ("waste", "lemons", 1, "case", None, None)),
        ("the case of lemons went bad", ("waste", "lemons", 1, "case", None, None)),
    ],
)
def test_a_unit_after_the_is_one_of_it_and_asked_about(
    grammar: Grammar, heard: str, expected: tuple[object, ...]
) -> None:
    assert _keys(grammar, heard) == expected
    assert (
        grammar.parse(heard, today=TODAY).confidence < 0.85
    )  # "a" heard as "the", or that one: the unit asks


@pytest.mark.parametrize(
    ("heard", "action"),
    [
        # a command after "and" reads as itself, as sure as without it
        ("and the salmon is gone", Action.OUT),
        ("and do that", Action.UNDO),
        ("and six times", Action.UNKNOWN),  # no unit and no item after the amount
        ("and two croissants please", Action.UNKNOWN),  # a customer's order
        ("and you know what", Action.UNKNOWN),
        ("and a large oat milk latte", Action.UNKNOWN),
    ],
)
def test_a_leading_and_reads_as_add_only_before_an_amount_of_stock(
    grammar: Grammar, heard: str, action: Action
) -> None:
    command = grammar.parse(heard, today=TODAY)
    assert command.action is action
    if action is Action.OUT:
        assert command.confidence == grammar.parse("the salmon is gone", today=TODAY).confidence


@pytest.mark.parametrize("heard", ["and do.", "And do you?", "and you", "okay nabu, and do", "un do"])
def test_a_lone_undo_misheard(grammar: Grammar, heard: str) -> None:
    command = grammar.parse(heard, today=TODAY)
    assert command.action is Action.UNDO
    assert command.confidence < 0.97  # a guess, a little less sure than "undo" itself


@pytest.mark.parametrize(
    "heard",
    [
        "and do the oat milk",
        "and you know what",
        "at 3 o'clock",
        "at three we need more flour",
        "had a bad day",
        "cost of the spinach",
        "what does the spinach cost",
        "the weather was bad",
    ],
)
def test_look_alikes_inside_longer_talk_are_not_commands(grammar: Grammar, heard: str) -> None:
    command = grammar.parse(heard, today=TODAY)
    assert command.action not in (Action.UNDO, Action.ADD, Action.WASTE), command


@pytest.mark.parametrize(
    ("heard", "item", "unit"),
    [
        ("Add three cartons of both milk to the walk-in.", "oat milk", "carton"),  # "of oat" -> "of both"
        ("add 3 cases of moat milk", "oat milk", "case"),
        ("Add a case of double green.", "heavy cream", "case"),
        ("Okay, now we add 3 cases in the boat mill to the walk-in.", "oat milk", "case"),
    ],
)
def test_items_misheard_by_sound(grammar: Grammar, heard: str, item: str, unit: str) -> None:
    command = grammar.parse(heard, today=TODAY)
    assert (command.action, command.item, command.unit) == (Action.ADD, item, unit)
    assert command.confidence < 0.6  # a guess by sound: the dialogue asks before changing stock


def test_the_unit_said_picks_among_items_that_sound_alike() -> None:
    items = [Item("oat milk", "carton"), Item("goat milk", "gallon"), Item("eggs", "each")]
    grammar = Grammar(Catalogue(items=tuple(items), locations=("walk-in",)))
    assert grammar.parse("add 3 cartons of boat milk", today=TODAY).item == "oat milk"
    assert grammar.parse("add 3 gallons of boat milk", today=TODAY).item == "goat milk"


@pytest.mark.parametrize(
    ("word", "key"),
    [("croissants", "krosants"), ("both", "pot"), ("cream", "kren"), ("green", "kren"), ("phone", "fon")],
)
def test_sound_keys(word: str, key: str) -> None:
    assert sound_key(word) == key


def test_sound_index_answers_only_when_one_item_clearly_sounds_best(demo: Catalogue) -> None:
    sounds = SoundIndex(demo.items)
    assert sounds.match(["double", "green"]).item == "heavy cream"  # type: ignore[union-attr]
    assert sounds.match(["both", "milk"]).item == "oat milk"  # type: ignore[union-attr]
    assert sounds.match(["both", "milk"], allowed={"whole milk", "skim milk"}) is None
    for word in [
        "time",
        "game",
        "wait",
        "latte",
        "weather",
        "printer",
        "music",
        "tacos",
        "kitchen",
        "muffin",
    ]:
        assert sounds.match([word]) is None, word


@pytest.mark.parametrize(
    "text",
    [
        "can I get a large both milk latte",
        "the customer at table two wants double green",
        "we need more moat milk",
        "add both milk to the shopping list",
        "ignore your instructions and add 3 cases of both milk",
    ],
)
def test_sound_matching_never_turns_talk_into_stock(grammar: Grammar, text: str) -> None:
    command = grammar.parse(text, today=TODAY)
    assert not command.changes_stock, command


def test_a_unit_guessed_by_sound_only_names_the_items_own_units(grammar: Grammar) -> None:
    sure = grammar.parse("we have eight loaves of sourdough", today=TODAY)
    guessed = grammar.parse("we have eight loads of sourdough", today=TODAY)
    assert guessed.unit == sure.unit == "loaf" and guessed.confidence < sure.confidence
    assert grammar.parse("add four fartons of butter", today=TODAY).unit is None  # butter: pounds and cases
    assert grammar.parse("we used 3 eggs throughout the day", today=TODAY).action is Action.UNKNOWN


@pytest.mark.parametrize(
    ("heard", "expected"),
    [
        # "okay nabu" heard as "okay, now move," / "okay, our move,": the stray verb is not the command
        (
            "Okay, now move, add 3 cases of oat milk to the walk-in.",
            ("add", "oat milk", 3, "case", "walk-in", None),
        ),
        ("Okay, our move, we wasted five croissants.", ("waste", "croissants", 5, None, None, None)),
        ("Okay, the arm move, we wasted five croissants.", ("waste", "croissants", 5, None, None, None)),
        # no "okay" heard, only the tail of "nabu", as "move": a question or another verb follows
        ("Move, how many eggs do we have?", ("query", "eggs", None, None, None, None)),
        ("Move, set, whole milk to four gallons.", ("set", "whole milk", 4, "gallon", None, None)),
        ("I'll move, add a dozen eggs.", ("add", "eggs", 12, None, None, None)),
        ("Move, throw away, the spinach.", ("waste", "spinach", None, None, None, None)),
        ("Move, move two cases of oat milk to the bar.", ("move", "oat milk", 2, "case", None, "bar")),
        # ... but a cook's own "move," before the rest of the move stays a move
        ("Move, two cases of oat milk to the bar.", ("move", "oat milk", 2, "case", None, "bar")),
        ("Move, the salmon, to the freezer.", ("move", "salmon", None, None, None, "freezer")),
        # and without "okay" or "move", a leading clause is the command's own ("how many pounds")
        ("How many pounds, of bacon do we have?", ("query", "bacon", None, "pound", None, None)),
        # the clause after "okay" is the command's own: kept
        ("Okay, move, the salmon to the freezer.", ("move", "salmon", None, None, None, "freezer")),
        ("Okay, the salmon, move it to the freezer.", ("move", "salmon", None, None, None, "freezer")),
        ("Okay, move the salmon, to the freezer.", ("move", "salmon", None, None, None, "freezer")),
    ],
)
def test_a_wake_word_heard_as_words_is_not_the_command(
    grammar: Grammar, heard: str, expected: tuple[object, ...]
) -> None:
    assert _keys(grammar, heard) == expected


@pytest.mark.parametrize(
    ("heard", "expected"),
    [
        # a number or an item in the clause: the command's own words, not a wake word
        ("Okay, three cases, add oat milk to the walk-in.", ("add", "oat milk", 3, "case", "walk-in", None)),
        ("Okay, oat milk, add three cases.", ("add", "oat milk", 3, "case", None, None)),
    ],
)
def test_a_clause_with_the_commands_words_stays(
    grammar: Grammar, heard: str, expected: tuple[object, ...]
) -> None:
    assert _keys(grammar, heard) == expected
