"""The speak stage: reply text -> clauses -> Piper audio -> speaker, with the first clause played as soon as it
is rendered while the next one renders in a worker thread."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from device.protocols import Audio, Speaker, TextToSpeech
from device.tts import split_clauses


class ReplySpeaker:
    """Speaks replies and earcons; reports when the first audio started and how long it all played."""

    def __init__(self, tts: TextToSpeech, speaker: Speaker) -> None:
        self.tts = tts
        self.speaker = speaker

    async def say(self, text: str, on_start: Callable[[], None] = lambda: None) -> tuple[float | None, float]:
        """Speak ``text``; return (monotonic time the first audio started, seconds of audio played).

        ``on_start`` runs as the first audio goes to the speaker."""
        clauses = split_clauses(text) or [text]
        rate = self.tts.sample_rate
        pending: asyncio.Task[Audio] = asyncio.ensure_future(asyncio.to_thread(self.tts.render, clauses[0]))
        first: float | None = None
        played = 0.0
        for index in range(len(clauses)):
            audio = await pending
            if index + 1 < len(clauses):
                pending = asyncio.ensure_future(asyncio.to_thread(self.tts.render, clauses[index + 1]))
            if first is None:
                first = time.monotonic()
                on_start()
            await self.speaker.play(audio, rate)
            played += len(audio) / rate
        return first, played

    async def earcon(self, name: str) -> float:
        audio = await asyncio.to_thread(self.tts.earcon, name)
        await self.speaker.play(audio, self.tts.sample_rate)
        return len(audio) / self.tts.sample_rate
