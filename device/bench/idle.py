"""Idle listening cost: CPU seconds per second of audio while the unit waits for its wake word.

Three figures over the same noise, each from ``time.process_time()`` (CPU of every thread of the process, so a
model's worker threads count too):

- ``wake_only``: the wake detector fed every chunk, which is all the pipeline runs while idle;
- ``wake_and_vad``: wake detector plus Silero VAD on every chunk (the upper bound: VAD runs only while a command
  is being captured, but a kitchen that keeps waking the unit pays it);
- ``pipeline_idle``: ``VoicePipeline.run`` over the noise file, wake word on, as the daemon runs it (chunking,
  pre-roll, event loop and any false wakes with their transcription included); ``false_wakes`` counts them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from device.audio.wav import WavMicrophone, write_wav
from device.bench.results import IdleResult
from device.errors import AudioError
from device.protocols import CHUNK_SAMPLES, SAMPLE_RATE, Audio


def load_noise(path: Path, seconds: float) -> Audio:
    """``seconds`` of the file at 16 kHz mono (looped when it is shorter); an ``AudioError`` when the file or
    the span asked for holds less than one chunk (nothing to measure)."""
    audio = WavMicrophone(path).load()
    count = round(seconds * SAMPLE_RATE)
    if audio.size == 0 or count < CHUNK_SAMPLES:
        what = f"{path} holds no audio" if audio.size == 0 else f"{seconds:g} s is shorter than one chunk"
        raise AudioError(f"nothing to measure idle CPU over: {what}", hint="use a longer noise file or span")
    reps = -(-count // audio.size)
    return np.tile(audio, reps)[:count]


def cpu_per_audio_second(audio: Audio, work: Callable[[Audio], object]) -> float:
    """Process CPU seconds spent by ``work`` per second of ``audio``, fed in pipeline-sized chunks."""
    usable = audio.size - audio.size % CHUNK_SAMPLES
    if usable == 0:
        raise ValueError("the idle audio is shorter than one chunk")
    chunks = [audio[i : i + CHUNK_SAMPLES] for i in range(0, usable, CHUNK_SAMPLES)]
    started = time.process_time()
    for chunk in chunks:
        work(chunk)
    return (time.process_time() - started) / (usable / SAMPLE_RATE)


async def measure_idle(unit: Any, noise: Audio, source: str, scratch: Path) -> IdleResult:
    """Measure the three idle figures with ``unit``'s own wake detector and VAD (models already loaded)."""
    from device.pipeline import events as ev

    wake, vad = unit.wake, unit.vad
    wake.reset()
    wake_only = cpu_per_audio_second(noise, wake.process)
    wake.reset()
    vad.reset()

    def both(chunk: Audio) -> None:
        wake.process(chunk)
        vad.speech_probability(chunk)

    wake_and_vad = cpu_per_audio_second(noise, both)
    wake.reset()

    path = scratch / "idle-noise.wav"
    write_wav(path, noise, SAMPLE_RATE)
    wakes = 0

    def count(event: ev.Event) -> None:
        nonlocal wakes
        if isinstance(event, ev.Wake):
            wakes += 1

    unsubscribe = unit.bus.subscribe(count)
    microphone = unit.microphone(str(path), realtime=False)
    pipeline = unit.pipeline(microphone, unit.speaker(None, device=False), wake=True, clock=None)
    started = time.process_time()
    try:
        await pipeline.run()
    finally:
        unsubscribe()
        await microphone.close()
    pipeline_idle = (time.process_time() - started) / max(pipeline.audio_s, 1e-9)
    wake.reset()
    return IdleResult(
        source=source,
        audio_s=noise.size / SAMPLE_RATE,
        wake_only=wake_only,
        wake_and_vad=wake_and_vad,
        pipeline_idle=pipeline_idle,
        false_wakes=wakes,
    )
