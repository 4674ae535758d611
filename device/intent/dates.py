"""Dates and horizons in tokens, relative to a given ``today``: expiry of a lot and "what's expiring this week".

``parse_date`` reads "Friday", "next Tuesday", "tomorrow", "the 30th", "December 3rd", "3rd of December",
"in 5 days", ``2025-12-03``. ``find_expiry`` finds an expiry clause ("expiring Friday", "use by the 30th",
"best before December 3") in a command; ``horizon_days`` reads how far ahead a question looks. No clock: the
caller passes ``today``.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Sequence
from datetime import date, timedelta

from device.intent.numbers import parse_number, parse_ordinal

WEEKDAYS = {
    "monday": 0,
    "mon": 0,
    "tuesday": 1,
    "tue": 1,
    "tues": 1,
    "wednesday": 2,
    "wed": 2,
    "thursday": 3,
    "thu": 3,
    "thur": 3,
    "thurs": 3,
    "friday": 4,
    "fri": 4,
    "saturday": 5,
    "sat": 5,
    "sunday": 6,
    "sun": 6,
}
MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
MONTHS["sept"] = 9
#: words that open an expiry clause in a command (longest first)
EXPIRY_TRIGGERS: tuple[tuple[str, ...], ...] = (
    ("with", "an", "expiry", "of"),
    ("with", "a", "date", "of"),
    ("that", "expires"),
    ("which", "expires"),
    ("that", "expire"),
    ("which", "expire"),
    ("expiry", "date"),
    ("expiration", "date"),
    ("use", "by"),
    ("used", "by"),
    ("best", "before"),
    ("best", "by"),
    ("sell", "by"),
    ("good", "until"),
    ("good", "till"),
    ("good", "through"),
    ("good", "for"),
    ("expiring",),
    ("expires",),
    ("expire",),
    ("expiry",),
    ("expiration",),
    ("exp",),
    ("dated",),
    ("until",),
    ("till",),
)
_ISO = re.compile(r"^(\d{4})_(\d{2})_(\d{2})$")
_FILLER = frozenset({"on", "is", "of", "date", "by"})


def _at(tokens: Sequence[str], i: int) -> str:
    return tokens[i] if 0 <= i < len(tokens) else ""


def _next_day_of_month(today: date, day: int) -> date | None:
    year, month = today.year, today.month
    for _ in range(13):
        if day <= calendar.monthrange(year, month)[1]:
            candidate = date(year, month, day)
            if candidate >= today:
                return candidate
        month += 1
        if month > 12:
            year, month = year + 1, 1
    return None


def _day_number(tokens: Sequence[str], i: int) -> tuple[int, int] | None:
    if _at(tokens, i) == "the":
        i += 1
    ordinal = parse_ordinal(tokens, i)
    if ordinal is not None:
        return ordinal
    number = parse_number(tokens, i)
    if number is not None and number.value.is_integer() and 1 <= number.value <= 31:
        return int(number.value), number.end
    return None


def _month_day(today: date, month: int, day: int, year: int | None) -> date | None:
    years = [year] if year else [today.year, today.year + 1]
    for y in years:
        if day <= calendar.monthrange(y, month)[1]:
            candidate = date(y, month, day)
            if year or candidate >= today:
                return candidate
    return None


def _year(tokens: Sequence[str], i: int) -> tuple[int | None, int]:
    token = _at(tokens, i)
    if token.isdigit() and len(token) == 4:
        return int(token), i + 1
    return None, i


def parse_date(tokens: Sequence[str], start: int, today: date) -> tuple[date, int] | None:
    """The date said at ``tokens[start]`` as (date, end index), or ``None``."""
    i = start
    token = _at(tokens, i)
    iso = _ISO.match(token)
    if iso:
        try:
            return date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3))), i + 1
        except ValueError:
            return None
    if token in ("today", "tonight"):
        return today, i + 1
    if token == "tomorrow":
        return today + timedelta(days=1), i + 1
    if tuple(tokens[i : i + 4]) == ("the", "day", "after", "tomorrow") or tuple(tokens[i : i + 3]) == (
        "day",
        "after",
        "tomorrow",
    ):
        return today + timedelta(days=2), i + (4 if token == "the" else 3)
    if token == "in" or token == "within":
        span = _span_days(tokens, i + 1)
        if span is not None:
            return today + timedelta(days=span[0]), span[1]
        return None
    if token in ("next", "this") and _at(tokens, i + 1) in ("week", "month"):
        days = 7 if tokens[i + 1] == "week" else 30
        return today + timedelta(days=days if token == "next" else 0), i + 2
    if token in ("this", "next", "on", "coming") and _at(tokens, i + 1) in WEEKDAYS:
        ahead = (WEEKDAYS[tokens[i + 1]] - today.weekday()) % 7
        if token == "next" and ahead == 0:
            ahead = 7
        return today + timedelta(days=ahead), i + 2
    if token in WEEKDAYS:
        return today + timedelta(days=(WEEKDAYS[token] - today.weekday()) % 7), i + 1
    if tuple(tokens[i : i + 4]) in (("end", "of", "the", "week"), ("end", "of", "this", "week")):
        return today + timedelta(days=6 - today.weekday()), i + 4
    if tuple(tokens[i : i + 4]) in (("end", "of", "the", "month"), ("end", "of", "this", "month")):
        return date(today.year, today.month, calendar.monthrange(today.year, today.month)[1]), i + 4
    if (token in MONTHS and token != "may") or (token == "may" and _day_number(tokens, i + 1)):
        day = _day_number(tokens, i + 1)
        if day is None:
            return None
        year, end = _year(tokens, day[1])
        found = _month_day(today, MONTHS[token], day[0], year)
        return (found, end) if found else None
    day = _day_number(tokens, i)
    if day is None:
        return None
    end = day[1]
    if _at(tokens, end) == "of" and _at(tokens, end + 1) in MONTHS:
        end += 1
    if _at(tokens, end) in MONTHS:
        year, after = _year(tokens, end + 1)
        found = _month_day(today, MONTHS[tokens[end]], day[0], year)
        return (found, after) if found else None
    if (
        token == "the" or parse_ordinal(tokens, i) is not None
    ):  # "the 30th", "30th": a day of this month or next
        found = _next_day_of_month(today, day[0])
        return (found, end) if found else None
    return None


def _span_days(tokens: Sequence[str], i: int) -> tuple[int, int] | None:
    """ "3 days", "a week", "two weeks", "the next 5 days" -> (days, end index)."""
    if _at(tokens, i) in ("the", "next"):
        return _span_days(tokens, i + 1)
    if _at(tokens, i) in ("a", "one") and _at(tokens, i + 1) in ("day", "week", "month"):
        value, end = 1.0, i + 1
    else:
        number = parse_number(tokens, i)
        if number is None:
            if _at(tokens, i) == "few" and _at(tokens, i + 1) == "days":
                return 3, i + 2
            return None
        value, end = number.value, number.end
    unit = _at(tokens, end)
    if unit in ("day", "days"):
        return round(value), end + 1
    if unit in ("week", "weeks"):
        return round(value * 7), end + 1
    if unit in ("month", "months"):
        return round(value * 30), end + 1
    return None


def find_expiry(tokens: Sequence[str], today: date) -> tuple[date, int, int] | None:
    """An expiry clause in a command as (date, start, end) of its tokens, or ``None``."""
    for i in range(len(tokens)):
        for trigger in EXPIRY_TRIGGERS:
            n = len(trigger)
            if tuple(tokens[i : i + n]) != trigger:
                continue
            j = i + n
            while _at(tokens, j) in _FILLER:
                j += 1
            found = parse_date(tokens, j, today)
            if found is not None:
                return found[0], i, found[1]
    return None


def horizon_days(tokens: Sequence[str], today: date) -> int | None:
    """How many days ahead a question looks ("this week" -> 7, "tomorrow" -> 1), or ``None`` if unsaid."""
    for i, token in enumerate(tokens):
        nxt = _at(tokens, i + 1)
        if token in ("today", "tonight"):
            return 0
        if token == "tomorrow":
            return 1
        if token == "this" and nxt == "week":
            return 7
        if token == "this" and nxt == "weekend":
            return 6 - today.weekday() if today.weekday() < 6 else 0
        if token == "this" and nxt == "month":
            return 30
        if token == "next" and nxt == "week":
            return 14
        if token in ("next", "within", "in", "coming") or (token == "few" and nxt == "days"):
            span = _span_days(tokens, i if token == "few" else i + 1)
            if span is not None:
                return span[0]
        if token in ("by", "before", "until") or token in WEEKDAYS:
            found = parse_date(tokens, i if token in WEEKDAYS else i + 1, today)
            if found is not None:
                return max(0, (found[0] - today).days)
        if token == "soon":
            return 3
    return None
