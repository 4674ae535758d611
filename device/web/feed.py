"""The live feed: what the page shows of the pipeline, kept from the event bus and pushed to every open page.

``LiveFeed.on_event`` subscribes to the bus like the LEDs do. It keeps the unit's state and which cloud parts
are offline, the words being heard, the last 20 commands with what was done (transcript, command, outcome,
reply), the microphone level and today's wakes and turned-down wake checks, and forwards each event as JSON to
the queue of every connected WebSocket. Nothing here reads another component: only events.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from device.pipeline import events as ev

RECENT = 20
#: events a page is told about (the rest only update the feed's state)
_PUSHED = frozenset(
    {
        "state",
        "listening",
        "interim",
        "transcript",
        "command",
        "outcome",
        "error",
        "store_changed",
        "mic_level",
        "connectivity",
    }
)


@dataclass(frozen=True)
class Entry:
    """One command as the page lists it."""

    at: str
    transcript: str = ""
    engine: str = ""
    command: str = ""
    resolver: str = ""
    status: str = ""
    reply: str = ""
    event_id: str | None = None


def describe_command(command: Any) -> str:
    """``set oat milk 12 carton @ walk-in`` in a few words."""
    parts = [str(command.action.value)]
    if command.item:
        parts.append(command.item)
    if command.quantity is not None:
        parts.append(f"{command.quantity:g}")
    if command.unit:
        parts.append(command.unit)
    if command.location:
        parts.append(f"@ {command.location}")
    if command.to_location:
        parts.append(f"-> {command.to_location}")
    return " ".join(parts)


class LiveFeed:
    """Pipeline state for the page, fanned out to connected pages. ``clock``: wall-clock seconds."""

    def __init__(self, clock: Callable[[], float] = time.time, *, queue_size: int = 200) -> None:
        self._clock = clock
        self._queue_size = queue_size
        self.state = "idle"
        self.heard = ""
        self.recent: deque[Entry] = deque(maxlen=RECENT)
        self.mic: ev.MicLevel | None = None
        self.wakes_today = 0
        self.checks_down_today = 0
        #: cloud parts not answering ("speech", "sync") and why
        self.offline: dict[str, str] = {}
        self._day = self._today()
        self._current: Entry | None = None
        self._clients: set[asyncio.Queue[str]] = set()

    def _today(self) -> str:
        return datetime.fromtimestamp(self._clock()).date().isoformat()

    def _stamp(self) -> str:
        return datetime.fromtimestamp(self._clock()).strftime("%H:%M:%S")

    # --- the bus ---
    def on_event(self, event: ev.Event) -> None:
        self._track(event)
        if event.kind in _PUSHED and self._clients:
            message = json.dumps(event.to_json(), default=str)
            for queue in list(self._clients):
                with contextlib.suppress(asyncio.QueueFull):  # a page that stopped reading misses updates
                    queue.put_nowait(message)

    def _track(self, event: ev.Event) -> None:
        today = self._today()
        if today != self._day:
            self._day, self.wakes_today, self.checks_down_today = today, 0, 0
        match event:
            case ev.StateChanged():
                self.state = event.state
            case ev.Wake():
                self.wakes_today += event.source == "wake_word"
            case ev.WakeChecked():
                self.checks_down_today += not event.accepted
            case ev.MicLevel():
                self.mic = event
            case ev.Connectivity():
                if event.online:
                    self.offline.pop(event.part, None)
                else:
                    self.offline[event.part] = event.reason
            case ev.Listening():
                self.heard = ""
                self._current = Entry(at=self._stamp())
            case ev.InterimTranscript():
                self.heard = event.text
            case ev.TranscriptReady():
                self.heard = event.text
                entry = self._current or Entry(at=self._stamp())
                self._current = replace(entry, transcript=event.text, engine=event.engine)
            case ev.CommandResolved():
                entry = self._current or Entry(at=self._stamp())
                self._current = replace(
                    entry, command=describe_command(event.command), resolver=str(event.command.resolver)
                )
            case ev.Outcome():
                entry = self._current or Entry(at=self._stamp())
                self.recent.appendleft(
                    replace(entry, status=event.status, reply=event.reply, event_id=event.event_id)
                )
                self._current = None

    @property
    def shown_state(self) -> str:
        """The state a page shows: "offline" while idle with a cloud part not answering."""
        return "offline" if self.state == "idle" and self.offline else self.state

    # --- pages ---
    def connect(self) -> asyncio.Queue[str]:
        queue: asyncio.Queue[str] = asyncio.Queue(self._queue_size)
        self._clients.add(queue)
        return queue

    def disconnect(self, queue: asyncio.Queue[str]) -> None:
        self._clients.discard(queue)

    @property
    def clients(self) -> int:
        return len(self._clients)
