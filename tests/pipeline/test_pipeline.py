"""The whole voice loop over synthesized speech: wake word, endpointing in noise, Whisper, grammar, dialogue,
store and Piper replies, with real models and a real store file."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from device.audio.resample import to_mono_16k
from device.audio.wav import RecordingSpeaker, WavMicrophone, write_wav
from device.pipeline import events as ev
from device.protocols import CHUNK_SAMPLES, SAMPLE_RATE, Audio
from device.wake import MicroWakeWordDetector
from tests.speech import concat, in_noise, piper, silence

pytestmark = pytest.mark.models


def record(unit: Any) -> list[ev.Event]:
    seen: list[ev.Event] = []
    unit.bus.subscribe(seen.append)
    return seen


def kinds(events: list[ev.Event]) -> list[str]:
    return [e.kind for e in events]


def run_file(unit: Any, path: Path, speaker: Any | None = None) -> list[ev.Event]:
    events = record(unit)
    mic = WavMicrophone(path)
    pipeline = unit.pipeline(mic, speaker or RecordingSpeaker(), clock=None)
    asyncio.run(pipeline.run())
    return events


@pytest.mark.parametrize("noise", ["kitchen", "brown"])
def test_spoken_command_in_noise_lands_in_the_store(make_unit, speech, tmp_path: Path, noise: str) -> None:
    clip = speech.get(
        f"e2e-{noise}",
        lambda: in_noise(speech.utterance("add three cartons of oat milk to the walk-in"), noise, 10),
    )
    path = tmp_path / "command.wav"
    write_wav(path, clip.audio, SAMPLE_RATE)
    unit = make_unit()
    speaker = RecordingSpeaker()
    events = run_file(unit, path, speaker)

    assert kinds(events).count("wake") == 1
    end = next(e for e in events if isinstance(e, ev.SpeechEnd))
    assert end.reason == "silence"
    assert end.endpoint_delay_s < 1.2
    command = next(e for e in events if isinstance(e, ev.CommandResolved)).command
    assert (command.action, command.item, command.quantity, command.unit) == ("add", "oat milk", 3, "carton")
    assert unit.store.quantity("oat milk", "walk-in") == 3
    outcome = next(e for e in events if isinstance(e, ev.Outcome))
    assert outcome.status == "applied"
    assert speaker.played, "the reply was spoken"
    order = [
        k
        for k in kinds(events)
        if k in {"wake", "listening", "speech_end", "transcript", "command", "reply_started", "reply_done"}
    ]
    assert order == [
        "wake",
        "listening",
        "speech_end",
        "transcript",
        "command",
        "reply_started",
        "reply_done",
    ]


def test_speech_without_the_wake_word_changes_nothing(make_unit, speech, tmp_path: Path) -> None:
    clip = speech.utterance("add three cartons of oat milk to the walk-in", wake=None)
    path = tmp_path / "nowake.wav"
    write_wav(path, clip.audio, SAMPLE_RATE)
    unit = make_unit()
    events = run_file(unit, path)
    assert "wake" not in kinds(events)
    assert unit.store.stock() == []


def test_wake_then_silence_goes_back_to_idle(make_unit, speech, tmp_path: Path) -> None:
    wake_only = concat(speech.get("wake-only", lambda: piper("Okay, Nabu.")), silence(6.0))
    path = tmp_path / "wake-only.wav"
    write_wav(path, wake_only, SAMPLE_RATE)
    unit = make_unit()
    events = run_file(unit, path)
    ends = [e for e in events if isinstance(e, ev.SpeechEnd)]
    assert [e.reason for e in ends] == ["no_speech"]
    assert "transcript" not in kinds(events)
    assert isinstance(events[-1], ev.StateChanged) and events[-1].state == "idle"


class EchoMicrophone:
    """A WAV microphone in a room with the unit's own speaker: whatever is played comes back into the input."""

    def __init__(self, path: Path, speaker: RecordingSpeaker) -> None:
        self.name = "echo"
        self.source = WavMicrophone(path, tail_silence_s=8.0)
        self.speaker = speaker
        self.heard = 0
        self.echo: list[Audio] = []
        self.stream: list[Audio] = []

    async def chunks(self):  # type: ignore[no-untyped-def]
        async for chunk in self.source.chunks():
            while self.heard < len(self.speaker.played):
                audio, rate = self.speaker.played[self.heard]
                self.heard += 1
                self.echo.append(to_mono_16k(audio, rate))
            pending = np.concatenate(self.echo) if self.echo else np.zeros(0, np.int16)
            take, rest = pending[:CHUNK_SAMPLES], pending[CHUNK_SAMPLES:]
            self.echo = [rest] if len(rest) else []
            mixed = chunk.astype(np.int32)
            mixed[: len(take)] += take
            out = np.clip(mixed, -32768, 32767).astype(np.int16)
            self.stream.append(out)
            yield out

    async def close(self) -> None:
        await self.source.close()


class ParrotTts:
    """Piper that starts every reply with the wake phrase: the worst case for waking on its own voice."""

    def __init__(self, tts: Any) -> None:
        self.tts = tts
        self.sample_rate = tts.sample_rate

    def render(self, text: str) -> Audio:
        return self.tts.render("Okay, Nabu. " + text)

    def earcon(self, name: str) -> Audio:
        return self.tts.earcon(name)


def test_a_wake_word_said_as_soon_as_the_reply_ends_is_heard(make_unit, speech, tmp_path: Path) -> None:
    first = speech.utterance("add three cartons of oat milk to the walk-in", tail_s=0.0)
    second = speech.utterance("we used two pounds of butter", lead_s=0.0)
    # where the first reply ends, from a run of the first command alone (Piper renders the same reply the
    # same way every time)
    alone = tmp_path / "first.wav"
    write_wav(alone, concat(first.audio, silence(8.0)), SAMPLE_RATE)
    speaker = RecordingSpeaker()
    events = run_file(make_unit(), alone, speaker)
    done = next(e for e in events if isinstance(e, ev.ReplyDone))
    _chime, *reply = speaker.played
    reply_end_s = done.audio_s + sum(len(clip) / rate for clip, rate in reply)
    # the cook says the wake word 0.4 s after the reply ends: within 2 s (the refractory) of the first wake on
    # the detector's own clock, which stands still while the unit listens and speaks
    path = tmp_path / "both.wav"
    pause = silence(reply_end_s + 0.4 - len(first.audio) / SAMPLE_RATE)
    write_wav(path, concat(first.audio, pause, second.audio), SAMPLE_RATE)
    unit = make_unit()
    events = run_file(unit, path)
    assert kinds(events).count("wake") == 2
    assert unit.store.quantity("butter", "walk-in") == -2


def test_the_unit_does_not_wake_on_its_own_voice(make_unit, speech, tmp_path: Path) -> None:
    clip = speech.utterance("how many eggs do we have")
    path = tmp_path / "query.wav"
    write_wav(path, clip.audio, SAMPLE_RATE)
    unit = make_unit()
    unit.__dict__["tts"] = ParrotTts(unit.tts)
    speaker = RecordingSpeaker()
    mic = EchoMicrophone(path, speaker)
    events = record(unit)
    pipeline = unit.pipeline(mic, speaker, clock=None)
    asyncio.run(pipeline.run())

    assert kinds(events).count("wake") == 1
    assert any(isinstance(e, ev.Outcome) for e in events)
    # control: the same input stream, echo included, does wake a bare detector a second time
    detector = MicroWakeWordDetector.from_settings(unit.settings)
    hits = [h for h in (detector.process(c) for c in mic.stream) if h is not None]
    assert len(hits) >= 2
