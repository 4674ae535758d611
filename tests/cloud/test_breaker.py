"""The circuit breaker, driven with a clock passed in (no real time)."""

from __future__ import annotations

import pytest

from device.stt.breaker import BreakerState, CircuitBreaker


def test_stays_closed_until_the_threshold_of_failures_in_a_row() -> None:
    breaker = CircuitBreaker(failure_threshold=3, cooldown_s=30)
    breaker.record_failure(0)
    breaker.record_failure(1)
    assert breaker.state is BreakerState.CLOSED and breaker.allow(2)
    breaker.record_success(2)  # a success resets the count
    breaker.record_failure(3)
    breaker.record_failure(4)
    assert breaker.allow(5)
    breaker.record_failure(5)
    assert breaker.state is BreakerState.OPEN
    assert not breaker.allow(6)
    assert breaker.retry_at() == 35


def test_open_breaker_probes_once_after_the_cooldown_then_closes_on_success() -> None:
    breaker = CircuitBreaker(failure_threshold=1, cooldown_s=10)
    breaker.record_failure(100)
    assert not breaker.allow(109.9)
    assert breaker.allow(110)  # the probe
    assert breaker.state is BreakerState.HALF_OPEN
    assert not breaker.allow(110.5)  # only one probe at a time
    breaker.record_success(111)
    assert breaker.state is BreakerState.CLOSED and breaker.failures == 0
    assert breaker.allow(111) and breaker.allow(111)


def test_failed_probe_reopens_with_a_doubled_cooldown_up_to_the_cap() -> None:
    breaker = CircuitBreaker(failure_threshold=1, cooldown_s=10, max_cooldown_s=25)
    breaker.record_failure(0)
    expected_waits = [20, 25, 25]
    now = 0.0
    for wait in [10, *expected_waits[:-1]]:
        now += wait
        assert breaker.allow(now)
        breaker.record_failure(now)
        assert breaker.state is BreakerState.OPEN
    assert breaker.cooldown_s == 25
    assert not breaker.allow(now + 24)
    assert breaker.allow(now + 25)
    breaker.record_success(now + 25)
    assert breaker.cooldown_s == 10  # back to the base after a success


def test_a_lost_probe_frees_the_slot_after_a_cooldown() -> None:
    breaker = CircuitBreaker(failure_threshold=1, cooldown_s=5)
    breaker.record_failure(0)
    assert breaker.allow(5)  # probe handed out, never reported
    assert not breaker.allow(9)
    assert breaker.allow(10)


def test_trip_opens_at_once() -> None:
    breaker = CircuitBreaker(failure_threshold=3, cooldown_s=60)
    breaker.record_failure(0, trip=True)
    assert breaker.state is BreakerState.OPEN
    assert not breaker.allow(59)
    assert breaker.allow(60)


@pytest.mark.parametrize(
    ("threshold", "cooldown", "cap"),
    [(0, 1, 1), (1, 0, 1), (1, 10, 5)],
)
def test_rejects_settings_that_make_no_sense(threshold: int, cooldown: float, cap: float) -> None:
    with pytest.raises(ValueError):
        CircuitBreaker(failure_threshold=threshold, cooldown_s=cooldown, max_cooldown_s=cap)
