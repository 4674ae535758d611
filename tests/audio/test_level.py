"""The microphone level the unit's page shows: chunks pass through untouched, a level each second of audio."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from device.audio.level import FLOOR_DBFS, LevelMeter, dbfs
from device.audio.wav import WavMicrophone, write_wav
from device.pipeline.events import EventBus, MicLevel
from device.protocols import CHUNK_SAMPLES, CHUNK_SECONDS, SAMPLE_RATE


@pytest.mark.parametrize(
    ("amplitude", "expected"), [(32768, 0.0), (16384, -6.02), (328, -40.0), (0, FLOOR_DBFS)]
)
def test_dbfs(amplitude: float, expected: float) -> None:
    assert dbfs(amplitude) == pytest.approx(expected, abs=0.05)


def test_a_tone_then_silence_reads_as_its_level_each_second(tmp_path: Path) -> None:
    second = round(1.0 / CHUNK_SECONDS) * CHUNK_SAMPLES  # the meter's second: whole chunks
    t = np.arange(2 * second) / SAMPLE_RATE
    tone = (16384 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)
    audio = np.concatenate([tone, np.zeros(second, dtype=np.int16)])
    wav = tmp_path / "tone.wav"
    write_wav(wav, audio, SAMPLE_RATE)
    bus = EventBus()
    levels: list[MicLevel] = []
    bus.subscribe(lambda e: levels.append(e) if isinstance(e, MicLevel) else None)
    meter = LevelMeter(WavMicrophone(wav, tail_silence_s=0.0), bus)

    async def read() -> np.ndarray:
        return np.concatenate([chunk async for chunk in meter.chunks()])

    passed = asyncio.run(read())
    assert np.array_equal(passed[: len(audio)], audio)  # untouched
    assert (
        meter.name == "wav:tone.wav" and meter.tail_silence_s == 0.0
    )  # the wrapped microphone shows through
    assert len(levels) == 3
    assert levels[0].rms_dbfs == pytest.approx(-9.0, abs=0.3) and levels[0].peak_dbfs == pytest.approx(
        -6.0, abs=0.1
    )
    assert levels[2].rms_dbfs == FLOOR_DBFS and levels[2].peak_dbfs == FLOOR_DBFS
