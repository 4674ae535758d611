"""Whether a cloud part answers: a ``Link`` remembers why it last failed and tells its listener only when it goes
offline or comes back, so a unit offline for hours says so once, not on every retry."""

from __future__ import annotations

from collections.abc import Callable


class Link:
    """``reason`` is None while the part answers, else why it last failed."""

    def __init__(self) -> None:
        self.reason: str | None = None
        #: told ``(online, reason)`` on each change
        self.on_change: Callable[[bool, str], None] | None = None

    @property
    def online(self) -> bool:
        return self.reason is None

    def record(self, reason: str | None) -> None:
        """A success (``None``) or a failure and why."""
        was_online = self.online
        self.reason = reason
        if self.on_change is not None and was_online != self.online:
            self.on_change(self.online, reason or "")
