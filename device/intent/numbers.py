"""Spoken and written numbers in a token list: "twenty five", "a dozen", "half a", "one and a half", "1,000", "1.5".

Pure functions over already-normalised tokens (lower case, hyphens split, ``1,000`` joined; see ``text.py``).
``parse_number`` finds the longest number phrase starting at a position; ``parse_ordinal`` reads day numbers
("30th", "the thirtieth", "twenty first") for dates. Nothing here knows about units or items.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

ZEROS = frozenset({"zero", "nought", "nil", "none"})
ONES = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
}
TEENS = {
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
TENS = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fourty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
_BELOW_HUNDRED = frozenset(ONES) | frozenset(TEENS) | frozenset(TENS)
SCALES = {"hundred": 100, "thousand": 1000, "million": 1_000_000}
#: fraction words, singular and plural ("three quarters")
FRACTIONS = {
    "half": 0.5,
    "halves": 0.5,
    "quarter": 0.25,
    "quarters": 0.25,
    "third": 1 / 3,
    "thirds": 1 / 3,
}
ARTICLES = frozenset({"a", "an"})
#: words that begin a number phrase only together with what follows ("a dozen", "couple of")
_GROUPS = {"dozen": 12, "couple": 2, "pair": 2}

ORDINAL_WORDS = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
    "eleventh": 11,
    "twelfth": 12,
    "thirteenth": 13,
    "fourteenth": 14,
    "fifteenth": 15,
    "sixteenth": 16,
    "seventeenth": 17,
    "eighteenth": 18,
    "nineteenth": 19,
    "twentieth": 20,
    "thirtieth": 30,
}

#: longest written number taken as an amount ("1234567.25")
MAX_DIGITS = 12
_DIGITS = re.compile(r"^(?:\d+(?:\.\d+)?|\.\d+)$")
_FRACTION = re.compile(r"^(\d+)/(\d+)$")
_ORDINAL = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)$")


@dataclass(frozen=True)
class NumberMatch:
    """A number found in tokens ``[start, end)``."""

    value: float
    start: int
    end: int


def _at(tokens: Sequence[str], i: int) -> str:
    return tokens[i] if 0 <= i < len(tokens) else ""


def _digit_value(token: str) -> float | None:
    if _DIGITS.match(token):
        # a run of digits longer than any stock count is noise, not an amount (and would overflow)
        return float(token) if len(token) <= MAX_DIGITS else None
    m = _FRACTION.match(token)
    if m and int(m.group(2)) != 0:
        return int(m.group(1)) / int(m.group(2))
    return None


def _words_integer(tokens: Sequence[str], i: int) -> tuple[int, int] | None:
    """An integer spelled in words ("a hundred and twenty", "twelve hundred", "three thousand and five")."""
    if _at(tokens, i) in ZEROS:
        return 0, i + 1
    total = 0
    current = 0
    j = i
    last = ""  # kind of the previous word: "", ones, teen, tens, hundred, thousand
    if _at(tokens, j) in ARTICLES and _at(tokens, j + 1) in SCALES:
        current, j, last = 1, j + 1, "ones"
    while j < len(tokens):
        word = tokens[j]
        if word in ONES and last in ("", "tens", "hundred", "thousand"):
            current += ONES[word]
            last = "ones"
        elif word in TEENS and last in ("", "hundred", "thousand"):
            current += TEENS[word]
            last = "teen"
        elif word in TENS and last in ("", "hundred", "thousand"):
            current += TENS[word]
            last = "tens"
        elif word == "hundred" and last in ("", "ones", "teen", "tens") and current < 100:
            current = (current or 1) * 100
            last = "hundred"
        elif word in ("thousand", "million") and last in ("", "ones", "teen", "tens", "hundred"):
            total += (current or 1) * SCALES[word]
            current = 0
            last = "thousand"
        elif word == "and" and last in ("hundred", "thousand") and _at(tokens, j + 1) in _BELOW_HUNDRED:
            pass
        else:
            break
        j += 1
    if j == i:
        return None
    return total + current, j


def _cardinal(tokens: Sequence[str], i: int) -> tuple[float, int] | None:
    """A plain number: digits (with an optional scale word) or words, with "point five" decimals."""
    token = _at(tokens, i)
    digit = _digit_value(token)
    if digit is not None:
        j = i + 1
        scale = _at(tokens, j)
        if scale in SCALES:
            digit *= SCALES[scale]
            j += 1
        extra = _FRACTION.match(_at(tokens, j))
        if extra and float(digit).is_integer() and "/" not in token:
            num, den = int(extra.group(1)), int(extra.group(2))
            if 0 < num < den:
                digit += num / den
                j += 1
        return digit, j
    if token == "point" and _digit_word(_at(tokens, i + 1)) is not None:
        return _decimals(tokens, i + 1, 0.0)
    words = _words_integer(tokens, i)
    if words is None:
        return None
    value, j = words
    if _at(tokens, j) == "point" and _digit_word(_at(tokens, j + 1)) is not None:
        return _decimals(tokens, j + 1, float(value))
    return float(value), j


def _digit_word(token: str) -> int | None:
    if token in ONES:
        return ONES[token]
    if token == "zero":
        return 0
    if token.isdigit():
        return int(token)
    return None


def _decimals(tokens: Sequence[str], j: int, whole: float) -> tuple[float, int]:
    digits = ""
    while (d := _digit_word(_at(tokens, j))) is not None:
        digits += str(d)
        j += 1
    return whole + float("0." + digits), j


def _fraction(tokens: Sequence[str], i: int) -> tuple[float, int] | None:
    """ "half", "a half", "half a", "a quarter", "three quarters", "two thirds"."""
    j = i
    numerator = 1.0
    if _at(tokens, j) in ARTICLES:
        j += 1
    elif _at(tokens, j) in ONES and _at(tokens, j + 1) in FRACTIONS:
        numerator = ONES[_at(tokens, j)]
        j += 1
    word = _at(tokens, j)
    if word not in FRACTIONS:
        return None
    if word in ("third", "thirds") and j == i:  # a bare "third" is an ordinal, not a fraction
        return None
    value = numerator * FRACTIONS[word]
    j += 1
    if word in ("half", "quarter") and _at(tokens, j) in ARTICLES and _at(tokens, j + 1) not in FRACTIONS:
        j += 1  # "half a case": the article belongs to the fraction
    elif _at(tokens, j) == "of" and _at(tokens, j + 1) in ARTICLES:
        j += 2  # "a quarter of a case"
    return value, j


def _and_fraction(tokens: Sequence[str], j: int) -> tuple[float, int] | None:
    """ "and a half", "and half", "and three quarters" after a number."""
    if _at(tokens, j) != "and":
        return None
    frac = _fraction(tokens, j + 1)
    if frac is None:
        return None
    value, end = frac
    if _at(tokens, end - 1) in ARTICLES:  # "one and a half a case" never happens; keep "a" for the unit
        end -= 1
    return value, end


def parse_number(tokens: Sequence[str], start: int = 0) -> NumberMatch | None:
    """The longest number phrase that starts at ``tokens[start]``, or ``None``.

    Covers digits ("12", "1.5", "1/2", "1 1/2"), words ("twenty five", "a hundred and twenty", "two point
    five"), fractions ("half a", "a quarter", "three quarters"), mixed ("one and a half", "2 and a half"),
    groups ("a dozen", "two dozen", "half a dozen", "a couple of", "a pair of"). A bare "a" is not a number.
    """
    i = start
    value: float | None = None
    j = i
    word = _at(tokens, i)
    if word in _GROUPS or (word in ARTICLES and _at(tokens, i + 1) in _GROUPS):
        j = i + 1 if word in _GROUPS else i + 2
        group = tokens[j - 1]
        value = float(_GROUPS[group])
        if group in ("couple", "pair") and _at(tokens, j) == "of":
            j += 1
        elif group == "dozen":
            extra = _and_fraction(tokens, j)
            if extra:
                value += extra[0] * 12
                j = extra[1]
        return NumberMatch(value, start, j)
    frac = _fraction(tokens, i)
    if frac is not None:
        value, j = frac
    else:
        card = _cardinal(tokens, i)
        if card is None:
            return None
        value, j = card
        extra = _and_fraction(tokens, j)
        if extra is not None:
            value += extra[0]
            j = extra[1]
    if _at(tokens, j) == "dozen":
        value *= 12
        j += 1
        extra = _and_fraction(tokens, j)
        if extra is not None:
            value += extra[0] * 12
            j = extra[1]
    return NumberMatch(value, start, j)


def words_to_number(text: str) -> float | None:
    """The number a whole phrase spells ("twenty five" -> 25.0), or ``None`` if any word is left over."""
    tokens = text.lower().replace("-", " ").replace(",", "").split()
    if not tokens:
        return None
    match = parse_number(tokens)
    if match is None or match.end != len(tokens):
        return None
    return match.value


def parse_ordinal(tokens: Sequence[str], start: int = 0) -> tuple[int, int] | None:
    """A day-of-month ordinal at ``tokens[start]``: "30th", "thirtieth", "twenty first" -> (day, end)."""
    token = _at(tokens, start)
    m = _ORDINAL.match(token)
    if m:
        return int(m.group(1)), start + 1
    if token in ORDINAL_WORDS:
        return ORDINAL_WORDS[token], start + 1
    if token in TENS:
        nxt = _at(tokens, start + 1)
        if nxt in ORDINAL_WORDS and ORDINAL_WORDS[nxt] < 10:
            return TENS[token] + ORDINAL_WORDS[nxt], start + 2
    return None
