"""Who may change things from the page: the PIN lockout rule, sessions and CSRF tokens. No I/O, no clock.

``Lockout`` is the rule for wrong PINs: after ``free`` misses in a row every further try waits, the wait
doubling from ``base_s`` up to ``cap_s``; a right PIN clears it. It is one rule for the whole unit (a kitchen
LAN has no trustworthy client identity), so guessing from many addresses gains nothing. ``Sessions`` holds
the sessions a right PIN opens: each has a random id (sent only as an HttpOnly, SameSite=Strict cookie) and
its own CSRF token, which every change must carry back in its form; both are compared in constant time.
Callers pass ``now`` (monotonic seconds).
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field

SESSION_S = 12 * 3600.0  # a shift


@dataclass
class Lockout:
    """Wrong-PIN backoff: ``free`` misses are allowed, then each try waits ``base_s * 2**k`` up to ``cap_s``."""

    free: int = 5
    base_s: float = 30.0
    cap_s: float = 900.0
    misses: int = 0
    until: float = 0.0

    def wait_s(self, now: float) -> float:
        """Seconds until a PIN may be tried again (0: now)."""
        return max(0.0, self.until - now)

    def failed(self, now: float) -> float:
        """Count a wrong PIN; returns the wait it starts."""
        self.misses += 1
        if self.misses < self.free:
            return 0.0
        wait = min(self.cap_s, self.base_s * 2.0 ** (self.misses - self.free))
        self.until = now + wait
        return wait

    def succeeded(self) -> None:
        self.misses = 0
        self.until = 0.0


@dataclass(frozen=True)
class Session:
    id: str
    csrf: str
    expires: float


@dataclass
class Sessions:
    """Open sessions by id; expired ones are dropped as they are met."""

    lifetime_s: float = SESSION_S
    _open: dict[str, Session] = field(default_factory=dict)

    def open(self, now: float) -> Session:
        self._open = {k: s for k, s in self._open.items() if s.expires > now}
        session = Session(secrets.token_urlsafe(32), secrets.token_urlsafe(32), now + self.lifetime_s)
        self._open[session.id] = session
        return session

    def get(self, session_id: str | None, now: float) -> Session | None:
        if not session_id:
            return None
        for key, session in self._open.items():  # constant-time compare of the id given
            if hmac.compare_digest(key.encode(), session_id.encode()):
                if session.expires <= now:
                    del self._open[key]
                    return None
                return session
        return None

    def close(self, session_id: str | None) -> None:
        if session_id:
            self._open.pop(session_id, None)


def same_token(given: str | None, expected: str) -> bool:
    """Whether a CSRF token sent back matches the one issued (constant time; missing never matches)."""
    return bool(given) and hmac.compare_digest(str(given).encode(), expected.encode())
