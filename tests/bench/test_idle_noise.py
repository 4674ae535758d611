"""The idle figure's noise: looped to the length asked for, and a clear error when there is nothing to measure."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from device.audio.wav import write_wav
from device.bench.idle import load_noise
from device.errors import AudioError
from device.protocols import CHUNK_SAMPLES, SAMPLE_RATE


def test_noise_is_looped_to_the_length_asked_for(tmp_path: Path) -> None:
    path = tmp_path / "noise.wav"
    write_wav(path, np.arange(1000, dtype=np.int16), SAMPLE_RATE)
    noise = load_noise(path, 0.25)
    assert noise.size == 4000
    assert np.array_equal(noise[1000:2000], np.arange(1000, dtype=np.int16))


def test_an_empty_noise_file_is_an_audio_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.wav"
    write_wav(path, np.zeros(0, dtype=np.int16), SAMPLE_RATE)
    with pytest.raises(AudioError, match="holds no audio"):
        load_noise(path, 60.0)


def test_a_span_shorter_than_a_chunk_is_an_audio_error(tmp_path: Path) -> None:
    path = tmp_path / "noise.wav"
    write_wav(path, np.ones(SAMPLE_RATE, dtype=np.int16), SAMPLE_RATE)
    with pytest.raises(AudioError, match="shorter than one chunk"):
        load_noise(path, (CHUNK_SAMPLES - 1) / SAMPLE_RATE)
