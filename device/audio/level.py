"""The microphone's level for the unit's page: a ``Microphone`` that passes chunks through unchanged and, once
per second of audio, publishes a ``MicLevel`` event (RMS and peak over that second, dBFS) on the bus."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from typing import Any

import numpy as np

from device.pipeline.events import EventBus, MicLevel
from device.protocols import CHUNK_SECONDS, Audio, Microphone

FLOOR_DBFS = -96.0


def dbfs(value: float) -> float:
    """An int16 amplitude as dB below full scale (``FLOOR_DBFS`` for silence)."""
    return max(FLOOR_DBFS, 20.0 * math.log10(value / 32768.0)) if value > 0 else FLOOR_DBFS


class LevelMeter:
    """Wraps a ``Microphone``; every other attribute is the wrapped one's."""

    def __init__(self, microphone: Microphone, bus: EventBus, *, every_s: float = 1.0) -> None:
        self.microphone = microphone
        self.name = microphone.name
        self._bus = bus
        self._every = max(1, round(every_s / CHUNK_SECONDS))

    async def chunks(self) -> AsyncIterator[Audio]:
        held: list[Audio] = []  # a second's chunks, measured at once (one numpy pass a second, not per chunk)
        async for chunk in self.microphone.chunks():
            held.append(chunk)
            if len(held) >= self._every:
                self._publish(held)
                held = []
            yield chunk

    def _publish(self, held: list[Audio]) -> None:
        audio = np.concatenate(held)
        if not audio.size:
            return
        samples = audio.astype(np.float32)
        rms = math.sqrt(float(np.dot(samples, samples)) / audio.size)
        peak = int(np.abs(audio.astype(np.int32)).max())
        self._bus.publish(MicLevel(rms_dbfs=round(dbfs(rms), 1), peak_dbfs=round(dbfs(peak), 1)))

    async def close(self) -> None:
        await self.microphone.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.microphone, name)
