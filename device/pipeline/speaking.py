"""The speak stage: reply text -> clauses -> Piper audio -> speaker, with the first clause played as soon as it
is rendered while the next one renders in a worker thread.

``prepare`` renders the first clause of a likely reply ahead of time (semantic endpointing knows the command
while the final transcript is still on its way); ``say`` then plays that audio if the reply starts with it."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

from device.protocols import Audio, Speaker, TextToSpeech
from device.tts import split_clauses


class ReplySpeaker:
    """Speaks replies and earcons; reports when the first audio started and how long it all played."""

    def __init__(self, tts: TextToSpeech, speaker: Speaker) -> None:
        self.tts = tts
        self.speaker = speaker
        self._prepared: tuple[str, asyncio.Future[Audio]] | None = None

    def prepare(self, text: str) -> str:
        """Start rendering the first clause of ``text`` in a worker thread; return that clause. One at a time:
        a newer guess replaces an older one (whose rendering still finishes, unused)."""
        clause = (split_clauses(text) or [text])[0]
        if self._prepared is None or self._prepared[0] != clause:
            future = asyncio.ensure_future(asyncio.to_thread(self.tts.render, clause))
            future.add_done_callback(_retrieve)
            self._prepared = (clause, future)
        return clause

    async def say(self, text: str, on_start: Callable[[], None] = lambda: None) -> tuple[float | None, float]:
        """Speak ``text``; return (monotonic time the first audio started, seconds of audio played).

        ``on_start`` runs as the first audio goes to the speaker."""
        clauses = split_clauses(text) or [text]
        rate = self.tts.sample_rate
        prepared, self._prepared = self._prepared, None
        if prepared is not None and prepared[0] == clauses[0]:
            pending = prepared[1]
        else:
            pending = asyncio.ensure_future(asyncio.to_thread(self.tts.render, clauses[0]))
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


def _retrieve(future: asyncio.Future[Audio]) -> None:
    """A prepared clause nobody plays must not log 'exception never retrieved' (``say`` renders again)."""
    with contextlib.suppress(asyncio.CancelledError, Exception):
        future.result()
