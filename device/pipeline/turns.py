"""What the stage runner exchanges with its neighbours: the dialogue it hands commands to (a protocol), the time
box per stage, the draft transcription made during a pause, and what one command turned into (for ``larder
simulate`` and the benchmark)."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from typing import Protocol

from device.intent.command import Command
from device.pipeline.endpointing import Endpoint
from device.protocols import Transcript


class DialoguePort(Protocol):
    """What the pipeline needs from the dialogue (device.dialogue.Dialogue)."""

    def handle(self, command: Command, now: float) -> TurnLike: ...

    def button(self, which: str, now: float) -> TurnLike | None: ...

    def tick(self, now: float) -> TurnLike | None: ...


class TurnLike(Protocol):
    """What the pipeline reads of a dialogue turn."""

    @property
    def reply(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def expects_answer(self) -> bool: ...
    @property
    def event_id(self) -> str | None: ...


@dataclass(frozen=True)
class StageTimeouts:
    """Time box per stage, seconds."""

    transcribe: float = 12.0
    resolve: float = 4.0
    dialogue: float = 2.0
    speak: float = 30.0


@dataclass(frozen=True)
class Draft:
    """A transcription started during a pause; good only if no speech came after ``speech_end_s``."""

    task: asyncio.Future[Transcript]
    speech_end_s: float
    started_s: float  # audio time (from the start of listening) when it began
    #: set once speech goes on after ``speech_end_s``: the engine skips the rest of the draft (thread-safe)
    stale: threading.Event
    #: the engine reconsidering a draft that does not read as a command, started while the pause goes on
    second_guess: asyncio.Future[Transcript] | None = None

    @property
    def busy(self) -> bool:
        return not self.task.done() or (self.second_guess is not None and not self.second_guess.done())

    def matches(self, endpoint: Endpoint) -> bool:
        return endpoint.reason in ("silence", "semantic") and endpoint.speech_end_s == self.speech_end_s


@dataclass(frozen=True)
class UtteranceResult:
    """What one command turned into, with its latencies (for ``larder simulate`` and the benchmark)."""

    transcript: str
    engine: str
    command: Command | None
    reply: str
    status: str
    endpoint: Endpoint
    endpoint_delay_s: float
    speech_end_to_transcript_s: float
    transcript_to_command_s: float
    command_to_first_audio_s: float
    #: audio seconds the transcription was started before the endpoint decision (0: no draft was used). With a
    #: live microphone that much of ``speech_end_to_transcript_s`` overlaps the endpointing wait.
    draft_lead_s: float = 0.0
