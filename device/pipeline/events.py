"""Typed, frozen pipeline events and the bus that carries them.

Every stage announces what happened as an event with a monotonic timestamp (``at``, seconds from
``time.monotonic()``). LEDs, the journal's audit fields, logs and ``larder listen --json`` subscribe to the bus;
no subscriber reads another component's internals.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from device.intent.command import Command

log = logging.getLogger(__name__)


def _now() -> float:
    return time.monotonic()


@dataclass(frozen=True, kw_only=True)
class Event:
    """Base of all events. ``audio_s`` is the position in the audio stream, when the event has one."""

    kind: ClassVar[str] = "event"
    at: float = field(default_factory=_now)
    audio_s: float | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"event": self.kind}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Command):
                value = value.to_json()
            data[f.name] = round(value, 4) if isinstance(value, float) else value
        return data


@dataclass(frozen=True, kw_only=True)
class Wake(Event):
    kind: ClassVar[str] = "wake"
    model: str
    score: float
    source: str = "wake_word"  # or "button" (push-to-talk) or "followup"


@dataclass(frozen=True, kw_only=True)
class Listening(Event):
    kind: ClassVar[str] = "listening"
    followup: bool = False


@dataclass(frozen=True, kw_only=True)
class SpeechEnd(Event):
    kind: ClassVar[str] = "speech_end"
    reason: str  # "silence", "max_length", "no_speech"
    speech_s: float
    endpoint_delay_s: float


@dataclass(frozen=True, kw_only=True)
class DraftStarted(Event):
    """Whisper started on the words up to a pause (``speech_end_s``: seconds from the start of listening)."""

    kind: ClassVar[str] = "draft_started"
    speech_end_s: float


@dataclass(frozen=True, kw_only=True)
class PauseJudged(Event):
    """Semantic endpointing read a hearing of the words up to a pause for the first time."""

    kind: ClassVar[str] = "pause_judged"
    speech_end_s: float
    source: str  # "draft", "interim" or "final"
    verdict: str  # semantic.Verdict's value
    silence_s: float


@dataclass(frozen=True, kw_only=True)
class FinalAsked(Event):
    """The final transcript of the words up to a pause was asked for early (Deepgram's Finalize)."""

    kind: ClassVar[str] = "final_asked"
    speech_end_s: float
    silence_s: float


@dataclass(frozen=True, kw_only=True)
class ReplyPrepared(Event):
    """The words up to a pause read as a command the unit would apply at once: the first clause of its reply is
    being rendered before the turn ends (``text``), to be played if the final transcript agrees."""

    kind: ClassVar[str] = "reply_prepared"
    speech_end_s: float
    text: str


@dataclass(frozen=True, kw_only=True)
class InterimTranscript(Event):
    kind: ClassVar[str] = "interim"
    text: str
    engine: str


@dataclass(frozen=True, kw_only=True)
class TranscriptReady(Event):
    kind: ClassVar[str] = "transcript"
    text: str
    engine: str
    seconds: float


@dataclass(frozen=True, kw_only=True)
class CommandResolved(Event):
    kind: ClassVar[str] = "command"
    command: Command
    seconds: float


@dataclass(frozen=True, kw_only=True)
class Outcome(Event):
    """What the dialogue did with a command: applied, pending, cancelled, undone, refused, answered, ignored."""

    kind: ClassVar[str] = "outcome"
    status: str
    reply: str
    event_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class ReplyStarted(Event):
    kind: ClassVar[str] = "reply_started"
    text: str


@dataclass(frozen=True, kw_only=True)
class ReplyDone(Event):
    kind: ClassVar[str] = "reply_done"
    text: str


@dataclass(frozen=True, kw_only=True)
class StateChanged(Event):
    """Unit state for LEDs: idle, listening, thinking, speaking, offline, error, muted."""

    kind: ClassVar[str] = "state"
    state: str


@dataclass(frozen=True, kw_only=True)
class ErrorEvent(Event):
    kind: ClassVar[str] = "error"
    code: str
    message: str


@dataclass(frozen=True, kw_only=True)
class WakeChecked(Event):
    """A borderline wake score Whisper was asked about; ``accepted`` False: the check turned the wake down."""

    kind: ClassVar[str] = "wake_check"
    score: float
    accepted: bool


@dataclass(frozen=True, kw_only=True)
class MicLevel(Event):
    """The microphone's level over the last second, in dBFS (RMS and peak)."""

    kind: ClassVar[str] = "mic_level"
    rms_dbfs: float
    peak_dbfs: float


@dataclass(frozen=True, kw_only=True)
class StoreChanged(Event):
    """Another process (the CLI) changed the store: stock, journal, and with ``catalogue`` the catalogue."""

    kind: ClassVar[str] = "store_changed"
    catalogue: bool = False


@dataclass(frozen=True, kw_only=True)
class Connectivity(Event):
    """A cloud part went offline or came back: ``part`` is "speech" (Deepgram, Whisper answering meanwhile) or
    "sync" (Supabase, the journal waiting); ``reason`` says why it is offline, in a few words."""

    kind: ClassVar[str] = "connectivity"
    part: str
    online: bool
    reason: str = ""


Subscriber = Callable[[Event], None]


class EventBus:
    """Synchronous fan-out of events to subscribers; a failing subscriber is logged, never fatal."""

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        self._subscribers.append(subscriber)
        return lambda: self._subscribers.remove(subscriber)

    def publish(self, event: Event) -> None:
        for subscriber in list(self._subscribers):
            try:
                subscriber(event)
            except Exception:  # a broken LED must not stop the kitchen
                log.exception("event subscriber failed on %s", event.kind)
