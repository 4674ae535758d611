"""Helpers for the cloud tests: streaming audio through a speech-to-text engine as the pipeline does."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import numpy as np

from device.protocols import CHUNK_SAMPLES, Audio, SpeechToText, Transcript

COMMAND = "add three cases of oat milk to the walk-in"


async def stream(
    stt: SpeechToText,
    audio: Audio,
    *,
    pace_s: float = 0.0,
    on_interim: Callable[[Transcript], None] | None = None,
) -> Transcript:
    """Open a session, feed ``audio`` chunk by chunk (``pace_s`` apart), and finish it, as the pipeline does."""
    session = await stt.start(on_interim)
    for start in range(0, len(audio), CHUNK_SAMPLES):
        await session.feed(np.ascontiguousarray(audio[start : start + CHUNK_SAMPLES]))
        await asyncio.sleep(pace_s)
    return await session.finish()


def noise(seconds: float, seed: int = 0) -> Audio:
    """Quiet noise standing in for audio where the content does not matter (the stand-in does not listen)."""
    return (np.random.default_rng(seed).standard_normal(int(seconds * 16000)) * 300).astype(np.int16)
