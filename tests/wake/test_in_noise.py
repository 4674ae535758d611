"""The shipped wake decision (default settings: okay_nabu, high, transcript check on) with the real models:
"okay nabu, <command>" in kitchen noise at 10 dB in three voices, two minutes of cafe talk over kitchen noise,
including "okay, ..." sentences that the model alone takes for the wake word, and the real kitchen recording, where
a cook says "okay"; what noise suppression and the lowered listener add in noise."""

from __future__ import annotations

import numpy as np
import pytest

from device.protocols import CHUNK_SAMPLES, SAMPLE_RATE, Audio, WakeHit
from device.settings import Settings
from device.wake import NOISE_SUPPRESSION_DB, MicroWakeWordDetector, Transcribe, whisper_transcriber
from tests.speech import (
    SpeechCache,
    concat,
    espeak,
    in_noise,
    kitchen_noise,
    mix,
    piper,
    session_cache,
    silence,
    trim,
)

pytestmark = pytest.mark.models

COMMANDS = ["we used two pounds of butter", "how many eggs do we have", "set croissants to forty eight"]
TALK = [
    ("en-us", "Can I get a large latte with oat milk, please?"),
    ("piper", "Okay, thanks, see you tomorrow."),
    ("en-gb-x-rp", "Table four wants two muffins and a flat white."),
    ("en-us+m3", "Okay, one mocha and a soup."),
    ("piper", "Behind you, hot pan coming through!"),
    ("en-us", "Okay, thanks, see you tomorrow."),
    ("en-gb-scotland", "Did you see the game last night?"),
    ("piper", "Added three cartons of oat milk to the walk-in."),
    ("en-us+m3", "We need more bagels for the lunch rush."),
    ("piper", "Okay, one cappuccino and a banana bread."),
    ("en-us", "Is the wifi password still on the board?"),
    ("en-gb-x-rp", "Sorry, was that a small or a medium?"),
]


@pytest.fixture(scope="module")
def voices(tmp_path_factory: pytest.TempPathFactory) -> SpeechCache:
    return session_cache(tmp_path_factory)


@pytest.fixture(scope="module")
def transcribe() -> Transcribe:
    return whisper_transcriber(Settings(whisper_threads=1))  # one Whisper for the module


def hits(audio: Audio, detector: MicroWakeWordDetector) -> list[WakeHit]:
    found = []
    for start in range(0, len(audio) - CHUNK_SAMPLES + 1, CHUNK_SAMPLES):
        hit = detector.process(audio[start : start + CHUNK_SAMPLES])
        if hit is not None:
            found.append(hit)
    return found


@pytest.mark.parametrize("voice", ["piper", "en-us", "en-us+m3"])
def test_wakes_in_kitchen_noise_at_10_db(voices: SpeechCache, transcribe: Transcribe, voice: str) -> None:
    woken = 0
    for seed, command in enumerate(COMMANDS):
        u = voices.utterance(command, voice=voice)
        noisy = voices.get(
            f"{command}|{voice}|kitchen|10|wake-test",
            lambda u=u, s=seed: in_noise(u, "kitchen", 10.0, seed=s),
        )
        detector = MicroWakeWordDetector.from_settings(Settings(), transcribe)
        found = hits(noisy.audio, detector)
        assert len(found) <= 1
        woken += len(found)
    assert woken == len(COMMANDS)


def talk_over_kitchen_noise() -> Audio:
    parts: list[Audio] = []
    while sum(len(p) for p in parts) < 120 * SAMPLE_RATE:
        for voice, text in TALK:
            said = trim(piper(text) if voice == "piper" else espeak(text, voice=voice))
            parts += [said, silence(0.6)]
    clean = concat(*parts)[: 120 * SAMPLE_RATE]
    return mix(clean, kitchen_noise(120.0, offset_s=60.0), 10.0)


def test_no_wake_in_two_minutes_of_cafe_talk(voices: SpeechCache, transcribe: Transcribe) -> None:
    audio = voices.get("cafe talk over kitchen noise", talk_over_kitchen_noise)
    detector = MicroWakeWordDetector.from_settings(Settings(), transcribe)
    assert hits(audio, detector) == []
    # The "okay, ..." sentences did reach the model's cutoff; the transcript check turned them down.
    assert detector.checks and not any(c.accepted for c in detector.checks)
    plain = MicroWakeWordDetector.from_settings(Settings(wake_confirm=False))
    assert len(hits(audio, plain)) >= 1  # without the check the same talk wakes the unit
    assert np.all([c.score >= detector.decider.cutoff for c in detector.checks])


def test_a_cooks_okay_in_the_kitchen_recording_does_not_wake(transcribe: Transcribe) -> None:
    audio = kitchen_noise(120.0)  # the whole recording: a cook says "okay" at about 68-73 s and 96 s
    detector = MicroWakeWordDetector.from_settings(Settings(), transcribe)
    assert hits(audio, detector) == []
    # Measured: 8 checks, 7 of them hearing only "Okay." (each asked once more), none accepted.
    heard_okay = [c for c in detector.checks if c.transcript.lower().startswith("okay")]
    assert len(heard_okay) >= 2 and not any(c.accepted for c in detector.checks)
    plain = MicroWakeWordDetector.from_settings(Settings(wake_confirm=False))
    assert len(hits(audio, plain)) >= 1  # the model alone takes the "okay" for the wake word


def peak_scores(audio: Audio, noise_suppression_db: int | None = None) -> list[float]:
    """Each listener's highest probability over the audio (main first)."""
    settings = Settings(wake_noise_suppression_db=noise_suppression_db)
    detector = MicroWakeWordDetector.from_settings(settings, transcribe=lambda audio, prompt: "")
    peaks = [0.0] * len(detector.listeners)
    for i in range(0, len(audio) - CHUNK_SAMPLES + 1, CHUNK_SAMPLES):
        for k, frames in enumerate(detector.frames(audio[i : i + CHUNK_SAMPLES])):
            peaks[k] = max([peaks[k], *(p for _, p in frames)])
    return peaks


def test_noise_suppression_lifts_the_wake_score_in_kitchen_noise_at_5_db(voices: SpeechCache) -> None:
    with_ns, without = [], []
    for voice in ("piper", "en-us", "en-us+m3"):
        for seed, command in enumerate(COMMANDS):
            u = voices.utterance(command, voice=voice)
            noisy = voices.get(
                f"{command}|{voice}|kitchen|5|wake-test",
                lambda u=u, s=seed: in_noise(u, "kitchen", 5.0, seed=s),
            )
            with_ns.append(peak_scores(noisy.audio, NOISE_SUPPRESSION_DB[Settings().wake_model])[0])
            without.append(peak_scores(noisy.audio, 0)[0])
    # Measured: 8 of 9 peaks rise (e.g. 0.68 -> 0.85, 0.59 -> 0.83), one falls by 0.01.
    assert sum(w > o for w, o in zip(with_ns, without, strict=True)) >= 6
    assert sum(with_ns) > sum(without) + 0.3


def test_the_lowered_listener_hears_a_high_voice_in_kitchen_noise(voices: SpeechCache) -> None:
    main, lowered = [], []
    for seed, command in enumerate(COMMANDS):
        u = voices.utterance(command, voice="en-us+f2")
        noisy = voices.get(
            f"{command}|en-us+f2|kitchen|10|wake-test",
            lambda u=u, s=seed: in_noise(u, "kitchen", 10.0, seed=s),
        )
        peaks = peak_scores(noisy.audio)
        main.append(peaks[0])
        lowered.append(peaks[1])
    # Measured: the main listener peaks at 0.09 / 0.04 / 0.23, the lowered one at 0.36 / 0.08 / 0.66.
    assert sum(lowered) > sum(main) + 0.4
    assert sum(p >= 0.3 for p in lowered) > sum(p >= 0.3 for p in main)
