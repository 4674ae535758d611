"""Semantic endpointing with real models on Piper speech played at real-time pace, as a microphone delivers it:
Silero VAD, the endpointer, Whisper's drafts (offline) or the Deepgram client against the stand-in (online), the
grammar, the dialogue, the SQLite store and Piper replies.

- offline, a complete command ends on its words (the draft that decided is the transcript);
- "add three cartons ... of oat milk to the walk-in" (a 0.45 s pause where the words stop mid-phrase) is heard
  whole and applied once;
- online, Finalize goes at the early decision and Deepgram's final is the transcript; when the cook goes on
  after it, the stream keeps listening and the command is the whole of what was said, applied once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from device.app import Unit
from device.audio.wav import RecordingSpeaker, WavMicrophone, write_wav
from device.pipeline import events as ev
from device.pipeline.turns import UtteranceResult
from device.protocols import SAMPLE_RATE, Audio
from device.settings import Settings
from tests import speech
from tests.standins.deepgram import API_KEY, DeepgramStandIn, Script

pytestmark = pytest.mark.models

WHOLE = "add three cartons of oat milk to the walk-in"


def clip(
    tmp_path: Path, *parts: Audio | float, tail_s: float = 1.5
) -> tuple[Path, list[tuple[float, float]]]:
    """A WAV of the parts (audio, or seconds of silence) after 0.3 s of silence and before ``tail_s``; where each
    spoken part starts and ends."""
    pieces: list[Audio] = [speech.silence(0.3)]
    spans = []
    at = 0.3
    for part in parts:
        audio = speech.silence(part) if isinstance(part, float) else part
        if not isinstance(part, float):
            spans.append((at, at + len(audio) / SAMPLE_RATE))
        pieces.append(audio)
        at += len(audio) / SAMPLE_RATE
    path = tmp_path / f"clip-{len(list(tmp_path.glob('*.wav')))}.wav"
    write_wav(path, speech.concat(*pieces, speech.silence(tail_s)), SAMPLE_RATE)
    return path, spans


def said(text: str) -> Audio:
    return speech.trim(speech.piper(text))


def listen(unit: Unit, path: Path, *, semantic: bool | None = None) -> UtteranceResult | None:
    async def run() -> UtteranceResult | None:
        microphone = WavMicrophone(path, realtime=True)
        pipeline = unit.pipeline(microphone, RecordingSpeaker(), wake=False, clock=None, semantic=semantic)
        return await pipeline.listen_and_respond(microphone.chunks())

    return asyncio.run(run())


def changes(unit: Unit) -> int:
    return sum(1 for event in unit.store.journal() if event.deltas)


# A loaded machine may take most of a second for a draft: the turn waits for it (as it would for the transcript)
# rather than end on silence alone, so the outcome does not depend on how busy the machine is.
PATIENT = {"semantic_open_silence_s": 3.0}


def test_offline_a_complete_command_ends_on_its_words(tmp_path: Path, make_unit: Callable[..., Unit]) -> None:
    path, spans = clip(tmp_path, said(WHOLE), tail_s=4.0)  # the audio must not run out before the draft is in
    unit = make_unit(**PATIENT)
    result = listen(unit, path)
    assert result is not None and result.endpoint.reason == "semantic"
    assert result.endpoint.speech_end_s == pytest.approx(spans[0][1], abs=0.15)
    assert result.command is not None and (result.command.item, result.command.location) == (
        "oat milk",
        "walk-in",
    )
    assert result.status == "applied" and changes(unit) == 1
    off = listen(unit, path, semantic=False)
    assert off is not None and off.endpoint.reason == "silence"


def test_offline_a_pause_where_the_words_stop_mid_phrase_is_heard_whole(
    tmp_path: Path, make_unit: Callable[..., Unit]
) -> None:
    path, spans = clip(tmp_path, said("add three cartons"), 0.45, said("of oat milk to the walk-in"))
    unit = make_unit()
    result = listen(unit, path)
    assert result is not None and result.endpoint.speech_end_s == pytest.approx(spans[1][1], abs=0.15)
    command = result.command
    assert command is not None and (command.quantity, command.item, command.location) == (
        3,
        "oat milk",
        "walk-in",
    )
    # applied once, or (read from Whisper's runner-up hearing) asked about with nothing changed yet
    assert (result.status, changes(unit)) in {("applied", 1), ("pending", 0)}, result.transcript


@pytest.fixture(scope="module")
def deepgram() -> Iterator[DeepgramStandIn]:
    with DeepgramStandIn() as server:
        yield server


@pytest.fixture
def cloud_unit(tmp_path: Path, models: dict[str, Any], deepgram: DeepgramStandIn) -> Iterator[Unit]:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=tmp_path / "cloud",
        stt="deepgram",
        deepgram_url=deepgram.url,
        deepgram_api_key=API_KEY,
        gpio=False,
    )
    unit = Unit(settings)
    unit.__dict__.update(models)
    yield unit
    unit.close()


def words_along(spans: list[tuple[float, float]], segments: tuple[str, ...]) -> tuple[float, ...]:
    """When the stand-in reveals each word: spread over its spoken part, the last at the part's end."""
    times: list[float] = []
    for (start, end), segment in zip(spans, segments, strict=True):
        count = len(segment.split())
        times += [float(t) for t in np.linspace(start, end, count + 1)[1:]]
    return tuple(times)


def say_as_spoken(
    deepgram: DeepgramStandIn, segments: tuple[str, ...], spans: list[tuple[float, float]]
) -> None:
    """The stand-in reveals each segment's words as it is spoken, answers Finalize 0.3 s late with the words
    revealed so far, and hears later words after it, as Deepgram does."""
    deepgram.reset(
        Script(
            segments=segments,
            finalize_delay_s=0.3,
            finalize_heard_only=True,
            reveal_at=words_along(spans, segments),
        )
    )


def test_online_finalize_goes_at_the_early_end_and_its_final_is_the_transcript(
    tmp_path: Path, cloud_unit: Unit, deepgram: DeepgramStandIn
) -> None:
    path, spans = clip(tmp_path, said(WHOLE))
    say_as_spoken(deepgram, (WHOLE,), spans)
    result = listen(cloud_unit, path)
    assert result is not None and result.engine == "deepgram" and result.transcript == WHOLE
    assert result.endpoint.reason == "semantic"
    stream = deepgram.streams[-1]
    assert stream.controls.count("Finalize") == 1  # the early one; its final was used
    assert result.status == "applied" and changes(cloud_unit) == 1


def test_online_speech_after_the_early_finalize_joins_the_command(
    tmp_path: Path, cloud_unit: Unit, deepgram: DeepgramStandIn
) -> None:
    segments = ("add three cartons of oat milk", "to the walk-in")
    path, spans = clip(tmp_path, said(segments[0]), 0.3, said(segments[1]))
    say_as_spoken(deepgram, segments, spans)
    result = listen(cloud_unit, path)
    assert result is not None and result.engine == "deepgram" and result.transcript == WHOLE
    assert result.endpoint.speech_end_s == pytest.approx(spans[1][1], abs=0.15)
    # Finalize went out in the pause (the first half reads as a whole command) and once more at the end
    assert deepgram.streams[-1].controls.count("Finalize") == 2
    assert result.command is not None and result.command.location == "walk-in"
    assert result.status == "applied" and changes(cloud_unit) == 1


def test_online_finalize_goes_at_the_pause_whatever_deepgrams_last_interim_said(
    tmp_path: Path, cloud_unit: Unit, deepgram: DeepgramStandIn
) -> None:
    """Deepgram sends interim results about once a second: at the pause the last one lacks the final words.
    Finalize still goes at the short pause, and its final (the whole command) is what ends the turn early."""
    path, spans = clip(tmp_path, said(WHOLE))
    say_as_spoken(deepgram, (WHOLE,), spans)
    deepgram.script.interim_every_s = 1.0
    asked: list[ev.FinalAsked] = []
    unsubscribe = cloud_unit.bus.subscribe(
        lambda e: asked.append(e) if isinstance(e, ev.FinalAsked) else None
    )
    try:
        result = listen(cloud_unit, path)
    finally:
        unsubscribe()
    assert result is not None and result.engine == "deepgram" and result.transcript == WHOLE
    assert result.endpoint.reason == "semantic"
    pause_s = cloud_unit.settings.semantic_pause_s
    assert [e.silence_s for e in asked] == [pytest.approx(pause_s, abs=0.04)]
    assert deepgram.streams[-1].controls.count("Finalize") == 1
    assert result.status == "applied" and changes(cloud_unit) == 1


def test_online_a_pause_where_the_words_stop_mid_phrase_is_heard_whole(
    tmp_path: Path, cloud_unit: Unit, deepgram: DeepgramStandIn
) -> None:
    """The final asked for in the pause reads "add three cartons" (no item yet): the turn stays open, the rest
    is heard, and the whole command is applied once."""
    segments = ("add three cartons", "of oat milk to the walk-in")
    path, spans = clip(tmp_path, said(segments[0]), 0.45, said(segments[1]))
    say_as_spoken(deepgram, segments, spans)
    deepgram.script.interim_every_s = 1.0
    result = listen(cloud_unit, path)
    assert result is not None and result.engine == "deepgram" and result.transcript == WHOLE
    assert result.endpoint.speech_end_s == pytest.approx(spans[1][1], abs=0.15)
    assert deepgram.streams[-1].controls.count("Finalize") == 2  # in the pause, and at the end
    assert result.command is not None and (result.command.quantity, result.command.location) == (3, "walk-in")
    assert result.status == "applied" and changes(cloud_unit) == 1
