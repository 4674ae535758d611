"""The sounddevice microphone and speaker against this machine's real PortAudio (it has no sound card): a
missing device is named along with those present, the microphone keeps retrying until closed, and the
capture converter picks a channel of a multi-channel block stream and resamples it to 16 kHz chunks."""

from __future__ import annotations

import asyncio
import logging

import numpy as np
import pytest

from device.audio.devices import find_device, list_devices
from device.audio.microphone import CaptureConverter, SoundDeviceMicrophone, list_input_devices
from device.audio.speaker import SoundDeviceSpeaker
from device.errors import AudioError
from device.protocols import CHUNK_SAMPLES, SAMPLE_RATE

WANTED = "Larder Test Mic 9000"  # no machine has this


def present_inputs() -> list[str]:
    try:
        return list_input_devices()
    except AudioError as exc:  # no PortAudio at all: the message says how to install it
        assert "libportaudio2" in str(exc)
        return []


def test_listing_inputs_never_raises_a_bare_error() -> None:
    names = present_inputs()
    assert all(isinstance(n, str) and ": " in n for n in names)


def test_a_missing_microphone_names_the_wanted_and_the_present_devices() -> None:
    try:
        present = list_devices("input")
    except AudioError:
        pytest.skip("PortAudio is not installed here; covered by the retry test")
    with pytest.raises(AudioError) as caught:
        find_device("input", WANTED)
    message = caught.value.message
    assert f"no microphone '{WANTED}'" in message
    assert "devices present: " in message
    for info in present:
        assert info.name in message
    if not present:
        assert message.endswith("devices present: none")
    assert caught.value.hint is not None and "LARDER_MIC_DEVICE" in caught.value.hint
    assert caught.value.code == "audio"


def test_an_index_that_does_not_exist_is_named() -> None:
    try:
        list_devices("input")
    except AudioError:
        pytest.skip("PortAudio is not installed here")
    with pytest.raises(AudioError, match="no microphone '999'"):
        find_device("input", "999")


def test_the_microphone_keeps_retrying_until_closed(caplog: pytest.LogCaptureFixture) -> None:
    problems: list[AudioError] = []
    mic = SoundDeviceMicrophone(WANTED, retry_s=0.01, on_problem=problems.append)

    async def run() -> list[np.ndarray]:
        received: list[np.ndarray] = []

        async def consume() -> None:
            async for chunk in mic.chunks():
                received.append(chunk)

        task = asyncio.create_task(consume())
        for _ in range(500):
            if mic.attempts >= 3:
                break
            await asyncio.sleep(0.01)
        assert not task.done(), "chunks() must not end on a missing device"
        await mic.close()
        await asyncio.wait_for(task, 5)  # and it ends promptly once closed
        return received

    with caplog.at_level(logging.WARNING, logger="device.audio.microphone"):
        received = asyncio.run(run())
    assert received == []
    assert mic.attempts >= 3
    assert mic.last_error is not None
    assert WANTED in mic.last_error.message or "PortAudio" in mic.last_error.message
    # The same problem is reported once, not on every retry.
    assert len(problems) == 1
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1


def test_a_missing_speaker_is_named() -> None:
    speaker = SoundDeviceSpeaker(WANTED)
    with pytest.raises(AudioError) as caught:
        asyncio.run(speaker.play(np.zeros(1600, dtype=np.int16), SAMPLE_RATE))
    assert f"no speaker '{WANTED}'" in caught.value.message or "PortAudio" in caught.value.message


def test_capture_converter_picks_the_channel_and_resamples() -> None:
    rate, block = 48_000, 960  # 20 ms blocks from a 4-channel array
    t = np.arange(rate) / rate
    frames = np.zeros((rate, 4), dtype=np.float32)
    frames[:, 0] = 0.5 * np.sin(2 * np.pi * 300 * t)
    frames[:, 2] = 0.5 * np.sin(2 * np.pi * 1200 * t)  # the beam channel we want
    converter = CaptureConverter(rate, channel=2)
    chunks = [c for i in range(0, rate, block) for c in converter.push(frames[i : i + block])]
    assert all(c.dtype == np.int16 and len(c) == CHUNK_SAMPLES for c in chunks)
    audio = np.concatenate(chunks)
    # Everything but the resampler's look-ahead (a few ms) and the unfilled last chunk comes out.
    assert SAMPLE_RATE - 2 * CHUNK_SAMPLES < len(audio) <= SAMPLE_RATE
    spectrum = np.abs(np.fft.rfft(audio.astype(np.float64)))
    assert np.argmax(spectrum) * SAMPLE_RATE / len(audio) == pytest.approx(1200, abs=3)
    low = spectrum[round(300 * len(audio) / SAMPLE_RATE)]
    assert low < spectrum.max() / 100
    assert np.abs(audio[2000:]).max() == pytest.approx(16384, rel=0.02)


def test_capture_converter_refuses_a_channel_the_block_does_not_have() -> None:
    with pytest.raises(ValueError, match="channel 3"):
        CaptureConverter(16_000, channel=3).push(np.zeros((160, 2), dtype=np.int16))
