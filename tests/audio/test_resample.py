"""Resampling to 16 kHz mono int16: frequencies survive, channels are picked or averaged, aliasing is removed,
and the streaming resampler matches the one-shot result."""

from __future__ import annotations

import numpy as np
import pytest

from device.audio.resample import Resampler, pick_channel, resample, to_float, to_mono_16k
from device.protocols import SAMPLE_RATE


def tone(freq: float, rate: int, seconds: float = 1.0, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return amplitude * np.sin(2 * np.pi * freq * t)


def dominant_hz(audio: np.ndarray, rate: int = SAMPLE_RATE) -> float:
    spectrum = np.abs(np.fft.rfft(audio.astype(np.float64) * np.hanning(len(audio))))
    return float(np.argmax(spectrum) * rate / len(audio))


def band_level(audio: np.ndarray, freq: float, rate: int = SAMPLE_RATE) -> float:
    spectrum = np.abs(np.fft.rfft(audio.astype(np.float64) * np.hanning(len(audio))))
    bin_ = round(freq * len(audio) / rate)
    return float(spectrum[bin_ - 2 : bin_ + 3].max() / spectrum.max())


@pytest.mark.parametrize("rate", [44_100, 48_000, 22_050, 8_000])
def test_sine_keeps_its_frequency_and_length(rate: int) -> None:
    stereo = np.stack([tone(440, rate), tone(440, rate)], axis=1)
    pcm = np.round(stereo * 32767).astype(np.int16)
    out = to_mono_16k(pcm, rate)
    assert out.dtype == np.int16
    assert len(out) == SAMPLE_RATE
    assert dominant_hz(out) == pytest.approx(440, abs=2)
    reference = tone(440, SAMPLE_RATE) * 32767
    # Away from the edges the result is the ideal 16 kHz sine to within a few LSB.
    assert np.max(np.abs(out[200:-200] - reference[200:-200])) < 20


@pytest.mark.parametrize("rate", [44_100, 48_000])
def test_channel_selection(rate: int) -> None:
    stereo = np.stack([tone(440, rate), tone(1000, rate)], axis=1).astype(np.float32)
    left, right, both = (to_mono_16k(stereo, rate, channel) for channel in (0, 1, None))
    assert dominant_hz(left) == pytest.approx(440, abs=2)
    assert band_level(left, 1000) < 0.01
    assert dominant_hz(right) == pytest.approx(1000, abs=2)
    assert band_level(right, 440) < 0.01
    assert band_level(both, 440) > 0.9 and band_level(both, 1000) > 0.9


def test_tones_above_8_khz_do_not_alias() -> None:
    out = resample(tone(10_000, 48_000), 48_000, SAMPLE_RATE)
    assert np.sqrt(np.mean(out[200:-200] ** 2)) < 1e-3  # would fold to 6 kHz at full level without the filter
    kept = resample(tone(3_000, 48_000), 48_000, SAMPLE_RATE)
    assert np.sqrt(np.mean(kept[200:-200] ** 2)) == pytest.approx(0.5 / np.sqrt(2), rel=0.01)


@pytest.mark.parametrize(("rate", "block"), [(48_000, 960), (44_100, 441), (44_100, 1), (22_050, 5000)])
def test_streaming_matches_one_shot(rate: int, block: int) -> None:
    signal = np.random.default_rng(1).uniform(-0.5, 0.5, rate // 2)
    whole = resample(signal, rate, SAMPLE_RATE)
    resampler = Resampler(rate)
    parts = [resampler.process(signal[i : i + block]) for i in range(0, len(signal), block)]
    parts.append(resampler.process(np.zeros(0), final=True))
    streamed = np.concatenate(parts)
    assert len(streamed) == len(whole) == SAMPLE_RATE // 2
    assert np.allclose(streamed, whole)


def test_sixteen_khz_passes_through_unchanged() -> None:
    pcm = np.arange(-1000, 1000, dtype=np.int16)
    assert np.array_equal(to_mono_16k(pcm, SAMPLE_RATE), pcm)


def test_sample_types_scale_to_unit_range() -> None:
    assert to_float(np.array([0, 128, 255], dtype=np.uint8)).tolist() == [-1.0, 0.0, 127 / 128]
    assert to_float(np.array([-32768, 16384], dtype=np.int16)).tolist() == [-1.0, 0.5]
    assert to_float(np.array([-(2**31)], dtype=np.int32)).tolist() == [-1.0]
    assert to_float(np.array([0.25], dtype=np.float32)).tolist() == [0.25]


def test_a_channel_that_does_not_exist_is_refused() -> None:
    with pytest.raises(ValueError, match="channel 2 asked of 2-channel audio"):
        pick_channel(np.zeros((10, 2), dtype=np.int16), 2)
    with pytest.raises(ValueError, match="mono"):
        pick_channel(np.zeros(10, dtype=np.int16), 1)
