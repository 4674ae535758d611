"""A circuit breaker for a cloud engine: after repeated failures stop trying it for a while, then probe it.

Pure: the caller passes the clock in (``now``, seconds, e.g. ``time.monotonic()``), so it is tested
without time.

* **closed** (healthy): every call is allowed; ``failure_threshold`` failures in a row open the breaker.
* **open**: calls are refused until ``cooldown_s`` has passed since it opened.
* **half_open**: one probe call is allowed. Success closes the breaker; failure opens it again with the
  cooldown doubled (up to ``max_cooldown_s``). A probe that never reports back frees the slot after
  ``cooldown_s``.

``record_failure(now, trip=True)`` opens the breaker at once: for failures that will not fix themselves on the
next try (a rejected API key, an exhausted account).
"""

from __future__ import annotations

from enum import StrEnum


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    """Counts consecutive failures of one engine and decides whether to try it."""

    def __init__(
        self, *, failure_threshold: int = 3, cooldown_s: float = 30.0, max_cooldown_s: float = 300.0
    ) -> None:
        if failure_threshold < 1 or cooldown_s <= 0 or max_cooldown_s < cooldown_s:
            raise ValueError("need failure_threshold >= 1 and 0 < cooldown_s <= max_cooldown_s")
        self.failure_threshold = failure_threshold
        self.base_cooldown_s = cooldown_s
        self.max_cooldown_s = max_cooldown_s
        self._state = BreakerState.CLOSED
        self._failures = 0
        self._cooldown_s = cooldown_s
        self._opened_at = 0.0
        self._probe_at: float | None = None

    @property
    def state(self) -> BreakerState:
        return self._state

    @property
    def failures(self) -> int:
        """Consecutive failures since the last success."""
        return self._failures

    @property
    def cooldown_s(self) -> float:
        """The current wait between opening and the next probe."""
        return self._cooldown_s

    def retry_at(self) -> float | None:
        """When an open breaker will allow a probe (``None`` unless open)."""
        return self._opened_at + self._cooldown_s if self._state is BreakerState.OPEN else None

    def allow(self, now: float) -> bool:
        """Whether to try the engine now. In ``half_open`` this hands out the single probe."""
        if self._state is BreakerState.CLOSED:
            return True
        if self._state is BreakerState.OPEN:
            if now < self._opened_at + self._cooldown_s:
                return False
            self._state = BreakerState.HALF_OPEN
            self._probe_at = now
            return True
        # half open: one probe at a time; a probe lost without a report frees the slot after a cooldown
        if self._probe_at is None or now >= self._probe_at + self._cooldown_s:
            self._probe_at = now
            return True
        return False

    def record_success(self, now: float) -> None:
        del now  # kept for symmetry with record_failure: every transition takes the clock
        self._state = BreakerState.CLOSED
        self._failures = 0
        self._cooldown_s = self.base_cooldown_s
        self._probe_at = None

    def record_failure(self, now: float, *, trip: bool = False) -> None:
        self._failures += 1
        if self._state is BreakerState.HALF_OPEN:
            self._open(now, min(self._cooldown_s * 2, self.max_cooldown_s))
        elif self._state is BreakerState.CLOSED and (trip or self._failures >= self.failure_threshold):
            self._open(now, self._cooldown_s)
        elif self._state is BreakerState.OPEN and trip:
            self._opened_at = now

    def _open(self, now: float, cooldown_s: float) -> None:
        self._state = BreakerState.OPEN
        self._opened_at = now
        self._cooldown_s = cooldown_s
        self._probe_at = None
