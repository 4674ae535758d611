"""Spoken and written numbers: table tests and a round trip of every integer's English words."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from device.intent.numbers import parse_number, parse_ordinal, words_to_number

_ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
_TEENS = [
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def _below_hundred(n: int, hyphen: bool) -> str:
    if n < 10:
        return _ONES[n]
    if n < 20:
        return _TEENS[n - 10]
    tens, ones = divmod(n, 10)
    if not ones:
        return _TENS[tens]
    return f"{_TENS[tens]}{'-' if hyphen else ' '}{_ONES[ones]}"


def int_to_words(n: int, *, use_and: bool = False, hyphen: bool = False, article: bool = False) -> str:
    """English words for 0..9999, written independently of the parser ("a hundred and twenty-five")."""
    if n == 0:
        return "zero"
    parts: list[str] = []
    thousands, rest = divmod(n, 1000)
    hundreds, below = divmod(rest, 100)
    if thousands:
        parts.append(
            "a thousand" if article and thousands == 1 else f"{_below_hundred(thousands, hyphen)} thousand"
        )
    if hundreds:
        parts.append(
            "a hundred" if article and hundreds == 1 and not thousands else f"{_ONES[hundreds]} hundred"
        )
    if below:
        if parts and use_and:
            parts.append("and")
        parts.append(_below_hundred(below, hyphen))
    return " ".join(parts)


def _tokens(text: str) -> list[str]:
    return text.replace("-", " ").split()


@given(
    st.integers(min_value=0, max_value=9999),
    st.booleans(),
    st.booleans(),
    st.booleans(),
)
def test_spoken_integers_round_trip(n: int, use_and: bool, hyphen: bool, article: bool) -> None:
    words = int_to_words(n, use_and=use_and, hyphen=hyphen, article=article)
    assert words_to_number(words) == n, words


@given(st.integers(min_value=0, max_value=9999), st.sampled_from(["cases", "kilos of flour", "eggs", ""]))
def test_number_stops_before_what_follows(n: int, tail: str) -> None:
    tokens = _tokens(int_to_words(n, use_and=True)) + tail.split()
    match = parse_number(tokens)
    assert match is not None
    assert match.value == n
    assert tokens[match.end :] == tail.split()


@given(st.integers(min_value=0, max_value=1_000_000))
def test_digits_round_trip(n: int) -> None:
    assert words_to_number(str(n)) == n
    assert words_to_number(f"{n:,}") == n


@given(st.integers(min_value=11, max_value=99).filter(lambda n: n % 10 != 0))
def test_hundreds_said_the_short_way(n: int) -> None:
    # "twelve hundred" = 1200, "ninety nine hundred" = 9900
    assert words_to_number(f"{_below_hundred(n, False)} hundred") == n * 100


@given(st.integers(min_value=0, max_value=50), st.sampled_from([("half", 0.5), ("quarter", 0.25)]))
def test_and_a_fraction(n: int, fraction: tuple[str, float]) -> None:
    word, value = fraction
    assert words_to_number(f"{int_to_words(n)} and a {word}") == n + value
    assert words_to_number(f"{n} and a {word}") == n + value


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("12", 12),
        ("1.5", 1.5),
        (".5", 0.5),
        ("1/2", 0.5),
        ("1 1/2", 1.5),
        ("twenty five", 25),
        ("twenty-five", 25),
        ("a dozen", 12),
        ("dozen", 12),
        ("two dozen", 24),
        ("2 dozen", 24),
        ("1.5 dozen", 18),
        ("half a dozen", 6),
        ("a dozen and a half", 18),
        ("half a", 0.5),
        ("a half", 0.5),
        ("half", 0.5),
        ("a quarter", 0.25),
        ("three quarters", 0.75),
        ("one and a half", 1.5),
        ("two and a quarter", 2.25),
        ("two and three quarters", 2.75),
        ("a couple of", 2),
        ("a couple", 2),
        ("couple", 2),
        ("a pair of", 2),
        ("three hundred", 300),
        ("a hundred and twenty", 120),
        ("one thousand and five", 1005),
        ("twelve hundred", 1200),
        ("3 hundred", 300),
        ("zero", 0),
        ("none", 0),
        ("two point five", 2.5),
        ("point five", 0.5),
        ("one point two five", 1.25),
    ],
)
def test_number_phrases(text: str, value: float) -> None:
    assert words_to_number(text) == pytest.approx(value)


@pytest.mark.parametrize(
    "text", ["", "a", "an", "the", "few", "a few", "some", "eggs", "twenty twenty", "third", "one two"]
)
def test_not_a_number(text: str) -> None:
    assert words_to_number(text) is None


@pytest.mark.parametrize(
    ("tokens", "value", "end"),
    [
        ("half a case of milk", 0.5, 2),
        ("a case", None, 0),
        ("one and a half kilos", 1.5, 4),
        ("3 and 2", 3, 1),  # two numbers, not "3 and 2" as one
        ("a hundred and twenty lemons", 120, 4),
        ("a couple of kegs", 2, 3),
        ("2 and a half kilos", 2.5, 4),
    ],
)
def test_number_spans(tokens: str, value: float | None, end: int) -> None:
    match = parse_number(tokens.split())
    if value is None:
        assert match is None
    else:
        assert match is not None
        assert (match.value, match.end) == (value, end)


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("30th", 30),
        ("1st", 1),
        ("2nd", 2),
        ("23rd", 23),
        ("thirtieth", 30),
        ("twenty first", 21),
        ("third", 3),
    ],
)
def test_ordinals(text: str, day: int) -> None:
    found = parse_ordinal(text.split())
    assert found is not None and found[0] == day


@given(st.integers(min_value=1, max_value=31))
def test_ordinal_digits(day: int) -> None:
    suffix = "th" if 11 <= day <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    assert parse_ordinal([f"{day}{suffix}"]) == (day, 1)
