"""Expiry dates and look-ahead horizons, always relative to the ``today`` given (no clock)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from device.intent.dates import find_expiry, horizon_days, parse_date

TUESDAY = date(2025, 11, 25)


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("today", date(2025, 11, 25)),
        ("tomorrow", date(2025, 11, 26)),
        ("friday", date(2025, 11, 28)),
        ("tuesday", date(2025, 11, 25)),
        ("next tuesday", date(2025, 12, 2)),
        ("on monday", date(2025, 12, 1)),
        ("the 30th", date(2025, 11, 30)),
        ("the 3rd", date(2025, 12, 3)),
        ("the twenty first", date(2025, 12, 21)),
        ("december 3", date(2025, 12, 3)),
        ("december 3rd", date(2025, 12, 3)),
        ("dec 3", date(2025, 12, 3)),
        ("3rd of december", date(2025, 12, 3)),
        ("3 december", date(2025, 12, 3)),
        ("the third of january", date(2026, 1, 3)),
        ("march 1", date(2026, 3, 1)),  # past this year: next year's
        ("in 3 days", date(2025, 11, 28)),
        ("in a week", date(2025, 12, 2)),
        ("next week", date(2025, 12, 2)),
        ("2026_01_15", date(2026, 1, 15)),
        ("end of the month", date(2025, 11, 30)),
    ],
)
def test_parse_date(said: str, expected: date) -> None:
    found = parse_date(said.split(), 0, TUESDAY)
    assert found is not None
    assert found == (expected, len(said.split()))


@pytest.mark.parametrize("said", ["eggs", "the salmon", "february 30", "32nd", "may"])
def test_not_a_date(said: str) -> None:
    assert parse_date(said.split(), 0, TUESDAY) is None


@pytest.mark.parametrize(
    ("command", "found"),
    [
        ("add 2 cases expiring friday", (date(2025, 11, 28), 3, 5)),
        ("add eggs use by the 30th", (date(2025, 11, 30), 2, 6)),
        ("add eggs best before december 3", (date(2025, 12, 3), 2, 6)),
        ("add milk that expires on tuesday", (date(2025, 11, 25), 2, 6)),
        ("add milk expires tomorrow", (date(2025, 11, 26), 2, 4)),
        ("add milk expiring in 3 days to the bar", (date(2025, 11, 28), 2, 6)),
        ("add 3 cases of milk", None),
        ("4 litres of milk expired", None),
    ],
)
def test_find_expiry(command: str, found: tuple[date, int, int] | None) -> None:
    assert find_expiry(command.split(), TUESDAY) == found


@pytest.mark.parametrize(
    ("question", "days"),
    [
        ("what is expiring this week", 7),
        ("what expires tomorrow", 1),
        ("is anything expiring today", 0),
        ("anything going off soon", 3),
        ("what is going off in the next three days", 3),
        ("what expires within 2 weeks", 14),
        ("what expires by friday", 3),
        ("what expires", None),
    ],
)
def test_horizon(question: str, days: int | None) -> None:
    assert horizon_days(question.split(), TUESDAY) == days


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)), st.integers(1, 28))
def test_day_of_month_is_never_in_the_past(today: date, day: int) -> None:
    suffix = "th" if 11 <= day <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    found = parse_date(["the", f"{day}{suffix}"], 0, today)
    assert found is not None
    assert today <= found[0] < today + timedelta(days=32)
    assert found[0].day == day


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)))
def test_weekday_is_within_a_week(today: date) -> None:
    found = parse_date(["friday"], 0, today)
    assert found is not None
    assert 0 <= (found[0] - today).days < 7
    assert found[0].weekday() == 4
