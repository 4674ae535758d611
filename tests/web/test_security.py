"""The PIN hash, the wrong-PIN lockout rule, sessions and CSRF tokens: pure, table-tested."""

from __future__ import annotations

import pytest

from device.web.pin import check_pin, hash_pin, parse_hash, verify_pin
from device.web.security import Lockout, Sessions, same_token


def test_a_pin_hash_is_salted_and_verifies_only_its_pin() -> None:
    first, second = hash_pin("2468"), hash_pin("2468")
    assert first != second  # a fresh salt each time
    assert first.startswith("scrypt$16384$8$1$") and "2468" not in first
    assert verify_pin("2468", first) and verify_pin("2468", second)
    assert not verify_pin("2469", first) and not verify_pin("", first)
    assert hash_pin("2468", salt=b"0123456789abcdef") == hash_pin("2468", salt=b"0123456789abcdef")


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "2468",
        "scrypt$16384$8$1$AAAA",
        "bcrypt$16384$8$1$c2FsdHNhbHQ=$" + "A" * 44,
        "scrypt$1000$8$1$c2FsdHNhbHQ=$x",
    ],
)
def test_a_malformed_hash_matches_nothing(stored: str) -> None:
    assert parse_hash(stored) is None
    assert not verify_pin("2468", stored)


@pytest.mark.parametrize(
    ("pin", "problem"),
    [("2468", None), ("0000", None), ("123456789012", None), ("123", "4 to 12"), ("1234567890123", "4 to 12"),
     ("12a4", "digits"), ("١٢٣٤", "digits"), (" 1234", "digits")],
)  # fmt: skip
def test_what_a_pin_may_be(pin: str, problem: str | None) -> None:
    found = check_pin(pin)
    assert (found is None) if problem is None else (problem in (found or ""))
    if problem:
        with pytest.raises(ValueError):
            hash_pin(pin)


@pytest.mark.parametrize(
    ("misses", "wait_after_last"),
    [(1, 0.0), (4, 0.0), (5, 30.0), (6, 60.0), (7, 120.0), (9, 480.0), (10, 900.0), (20, 900.0)],
)
def test_five_wrong_pins_start_a_doubling_wait(misses: int, wait_after_last: float) -> None:
    lockout = Lockout()
    wait = 0.0
    for _ in range(misses):
        wait = lockout.failed(now=1000.0)
    assert wait == wait_after_last
    assert lockout.wait_s(1000.0) == wait_after_last
    assert lockout.wait_s(1000.0 + wait_after_last) == 0.0


def test_a_right_pin_clears_the_count() -> None:
    lockout = Lockout()
    for _ in range(4):
        lockout.failed(now=0.0)
    lockout.succeeded()
    for _ in range(4):
        assert lockout.failed(now=0.0) == 0.0


def test_sessions_expire_and_close() -> None:
    sessions = Sessions(lifetime_s=100.0)
    one = sessions.open(now=0.0)
    assert sessions.get(one.id, now=50.0) == one
    assert sessions.get(one.id, now=100.0) is None  # expired, and gone
    assert sessions.get(one.id, now=50.0) is None
    two = sessions.open(now=0.0)
    assert two.id != one.id and two.csrf != one.csrf and len(two.id) >= 40
    assert sessions.get(two.id + "x", now=1.0) is None and sessions.get(None, now=1.0) is None
    sessions.close(two.id)
    assert sessions.get(two.id, now=1.0) is None


@pytest.mark.parametrize(
    ("given", "expected", "same"),
    [
        ("abc", "abc", True),
        ("abd", "abc", False),
        ("", "abc", False),
        (None, "abc", False),
        ("abc ", "abc", False),
    ],
)
def test_csrf_tokens_must_match_exactly(given: str | None, expected: str, same: bool) -> None:
    assert same_token(given, expected) is same
