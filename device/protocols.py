"""The boundaries between Larder's components: small ``Protocol``s passed in through constructors.

Each protocol has a real implementation (sounddevice, microWakeWord, Silero, faster-whisper, Deepgram, Piper,
gpiozero, supabase-py) and a fake that behaves (a WAV microphone, a recording speaker), never a MagicMock.

Audio everywhere inside the pipeline is 16 kHz mono ``int16`` numpy arrays in chunks of ``CHUNK_SAMPLES``
(32 ms: exactly one Silero window, and inside Deepgram's 20-250 ms message size).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from device.intent.command import Command
from device.inventory.catalog import Catalogue

SAMPLE_RATE = 16_000
CHUNK_SAMPLES = 512
CHUNK_SECONDS = CHUNK_SAMPLES / SAMPLE_RATE

Audio = npt.NDArray[np.int16]


@runtime_checkable
class Microphone(Protocol):
    """A source of 16 kHz mono int16 chunks of ``CHUNK_SAMPLES`` samples."""

    name: str

    def chunks(self) -> AsyncIterator[Audio]:
        """Yield chunks until the source ends (a file) or ``close`` is called."""
        ...

    async def close(self) -> None: ...


@dataclass(frozen=True)
class WakeHit:
    """A wake-word detection: which model, its score, and the audio time (seconds from stream start)."""

    model: str
    score: float
    at_s: float


class WakeDetector(Protocol):
    """Streams chunks and reports a detection (the refractory rule is applied inside)."""

    model: str

    def process(self, chunk: Audio) -> WakeHit | None: ...

    def reset(self) -> None: ...


class Vad(Protocol):
    """Speech probability (0-1) of one chunk."""

    def speech_probability(self, chunk: Audio) -> float: ...

    def reset(self) -> None: ...


@dataclass(frozen=True)
class Transcript:
    """What a speech-to-text engine heard."""

    text: str
    engine: str
    confidence: float | None = None
    is_final: bool = True
    #: 0: the engine's best hearing; n: its n-th runner-up, taken because the best did not read as a command
    rank: int = 0
    #: other readings of the same audio that the engine scored close to this one and that mean something
    #: else: the command is in doubt, and the dialogue asks which was said
    rivals: tuple[str, ...] = ()


@dataclass(frozen=True)
class Reading:
    """One reading of a command's audio, as the engine scored it: the words, their log-probability given the
    audio (summed over tokens), and where they came from (0: the best hearing; n >= 1: a runner-up or a
    reading built from the hearings)."""

    text: str
    score: float
    rank: int


@dataclass(frozen=True)
class Choice:
    """Which reading to take (``rank`` as in ``Transcript``), and the rivals too close to it to apply without
    asking."""

    text: str
    rank: int = 0
    rivals: tuple[str, ...] = ()


class Readings(Protocol):
    """What a speech-to-text engine asks of the grammar to read a command's audio: does a hearing read as a
    command, which other readings are worth scoring, and which of the scored readings to take."""

    def accept(self, text: str) -> bool: ...

    def propose(self, heard: Sequence[str]) -> list[str]: ...

    def choose(self, scored: Sequence[Reading]) -> Choice: ...


class SttSession(Protocol):
    """One command's worth of audio: fed while the cook speaks, finished when the endpointer ends it."""

    async def feed(self, chunk: Audio) -> None: ...

    async def finish(self) -> Transcript: ...

    async def abort(self) -> None: ...


@runtime_checkable
class DraftingSession(SttSession, Protocol):
    """A session that can transcribe the audio so far without finishing (an offline engine)."""

    async def draft(self, wanted: Callable[[], bool] | None = None) -> Transcript:
        """Transcribe the audio so far, session kept open. ``wanted`` is asked between the engine's costly
        steps; once it says no (the cook spoke again), the rest is skipped and the draft reads as silence."""
        ...

    async def reconsider(self, draft: Transcript) -> Transcript:
        """What the engine would make of a draft as the final transcript (a second guess), session kept open."""
        ...

    async def adopt(self, draft: Transcript) -> Transcript:
        """Finish the session with a draft as the command's transcript (reconsidered, as ``reconsider`` does)."""
        ...


@runtime_checkable
class FinalizingSession(SttSession, Protocol):
    """A streaming session that can give the final transcript of the audio so far and keep listening (Deepgram's
    ``Finalize``): the runner asks at a semantic end and keeps the words the cook may go on with."""

    async def finalize(self) -> Transcript | None:
        """The final transcript of the audio fed so far, the session kept open; None when this engine cannot
        say (then ``finish`` answers)."""
        ...


class SpeechToText(Protocol):
    """Opens a session per command. ``on_interim`` receives interim transcripts where the engine has them."""

    name: str

    async def start(self, on_interim: Callable[[Transcript], None] | None = None) -> SttSession: ...

    def set_catalogue(self, catalogue: Catalogue) -> None:
        """Vocabulary hints (prompt, keyterms) follow catalogue changes without a restart."""
        ...


class TextToSpeech(Protocol):
    """Renders text to audio. Blocking: call from a worker thread."""

    sample_rate: int

    def render(self, text: str) -> Audio: ...

    def earcon(self, name: str) -> Audio:
        """A short non-speech sound: ``wake``, ``error``, ``done``."""
        ...


class Speaker(Protocol):
    """Plays audio; returns when it has been played."""

    async def play(self, audio: Audio, sample_rate: int) -> None: ...

    async def close(self) -> None: ...


class IntentResolver(Protocol):
    """Turns a transcript into a ``Command``."""

    async def resolve(self, text: str) -> Command: ...
