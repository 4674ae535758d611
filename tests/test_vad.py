"""Silero VAD on synthesized speech, real kitchen noise and brown noise; the WebRTC gate in front of it."""

from __future__ import annotations

import numpy as np
import pytest

from device.errors import VadError
from device.protocols import CHUNK_SAMPLES, SAMPLE_RATE, Audio
from device.vad import SileroVad
from tests.speech import SpeechCache, brown_noise, kitchen_noise, session_cache

pytestmark = pytest.mark.models


@pytest.fixture(scope="session")
def voices(tmp_path_factory: pytest.TempPathFactory) -> SpeechCache:
    return session_cache(tmp_path_factory)


def probabilities(vad: SileroVad, audio: Audio) -> np.ndarray:
    vad.reset()
    starts = range(0, len(audio) - CHUNK_SAMPLES + 1, CHUNK_SAMPLES)
    return np.array([vad.speech_probability(audio[i : i + CHUNK_SAMPLES]) for i in starts])


@pytest.mark.parametrize("voice", ["piper", "en-us", "en-gb-x-rp"])
def test_speech_is_speech(voices: SpeechCache, voice: str) -> None:
    u = voices.utterance("take two cases of whole milk out of the walk-in", wake=None, voice=voice)
    probs = probabilities(SileroVad(), u.audio)
    first, last = (int(t * SAMPLE_RATE) // CHUNK_SAMPLES for t in (u.speech_start_s, u.speech_end_s))
    assert np.mean(probs[first:last] >= 0.5) > 0.7
    assert np.all(probs[: first - 2] < 0.5)  # the silence before it
    assert np.all(probs[last + 10 :] < 0.5)  # and after it (Silero lingers a few chunks)


def test_kitchen_noise_is_not_speech() -> None:
    probs = probabilities(SileroVad(), kitchen_noise(60.0))
    assert np.mean(probs >= 0.5) < 0.01


def test_brown_noise_is_not_speech_though_webrtc_says_it_is() -> None:
    import webrtcvad

    noise = brown_noise(10.0, seed=2)
    webrtc = webrtcvad.Vad(1)
    frames = [noise[i : i + 480].tobytes() for i in range(0, len(noise) - 479, 480)]
    assert np.mean([webrtc.is_speech(f, SAMPLE_RATE) for f in frames]) > 0.9  # why WebRTC alone would hang
    vad = SileroVad(webrtc_gate=1)
    assert np.all(probabilities(vad, noise) < 0.5)
    assert vad.scored > vad.gated  # the gate let the fan through; Silero rejected it


def test_the_gate_skips_silero_on_silence(voices: SpeechCache) -> None:
    vad = SileroVad(webrtc_gate=2)
    probs = probabilities(vad, np.zeros(SAMPLE_RATE, dtype=np.int16))
    assert np.all(probs == 0.0)
    assert vad.scored == 0 and vad.gated == len(probs)
    u = voices.utterance("how many eggs do we have", wake=None)
    gated = probabilities(SileroVad(webrtc_gate=2), u.audio)
    plain = probabilities(SileroVad(), u.audio)
    assert abs(np.mean(gated >= 0.5) - np.mean(plain >= 0.5)) < 0.1  # speech still gets through


def test_bad_input_is_a_vad_error() -> None:
    with pytest.raises(VadError, match="chunks of 512 samples"):
        SileroVad().speech_probability(np.zeros(480, dtype=np.int16))
    with pytest.raises(VadError, match="0-3"):
        SileroVad(webrtc_gate=7)


def test_the_gate_setting_is_on_at_1_by_default_and_can_be_turned_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from device.settings import Settings

    monkeypatch.delenv("LARDER_VAD_GATE", raising=False)
    assert Settings(_env_file=None).vad_gate == 1  # type: ignore[call-arg]
    for off in ("", "off", "None"):
        monkeypatch.setenv("LARDER_VAD_GATE", off)
        assert Settings(_env_file=None).vad_gate is None  # type: ignore[call-arg]
    monkeypatch.setenv("LARDER_VAD_GATE", "2")
    assert Settings(_env_file=None).vad_gate == 2  # type: ignore[call-arg]


def test_the_default_gate_keeps_the_endpoints_in_kitchen_noise(voices: SpeechCache) -> None:
    """The daemon's VAD (gate 1) against Silero on every chunk: the same speech, half the Silero calls."""
    from tests.speech import in_noise

    u = in_noise(voices.utterance("add three cartons of oat milk to the walk-in", wake=None), "kitchen", 10)
    audio = np.concatenate(
        [np.zeros(SAMPLE_RATE // 2, dtype=np.int16), u.audio, np.zeros(SAMPLE_RATE, np.int16)]
    )
    gated_vad = SileroVad(webrtc_gate=1)
    gated, plain = probabilities(gated_vad, audio), probabilities(SileroVad(), audio)
    assert np.mean((gated >= 0.5) != (plain >= 0.5)) < 0.03  # at most a chunk or two decided otherwise
    assert gated_vad.gated > 0
