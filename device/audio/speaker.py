"""The real speaker: sounddevice playback of reply audio, stoppable mid-reply.

Playback runs in a worker thread writing ~50 ms blocks, so cancelling ``play`` (a cancel-button press,
shutdown) stops the sound within one block. Audio is resampled when the device cannot play the reply's
rate (many USB speakers take only 48 kHz; Piper speaks at 22.05 kHz).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import TYPE_CHECKING, Any

import numpy as np

from device.audio.devices import DeviceInfo, find_device, list_devices, missing, sounddevice
from device.audio.resample import resample, to_float, to_int16
from device.errors import AudioError
from device.protocols import Audio, Speaker

log = logging.getLogger(__name__)

_BLOCK_S = 0.05


def list_output_devices() -> list[str]:
    """Output devices as ``"index: name (channels, rate)"``; an ``AudioError`` if PortAudio is missing."""
    return [d.describe() for d in list_devices("output")]


class SoundDeviceSpeaker:
    """``Speaker`` over sounddevice. ``device``: index, name fragment, or "" for the default output."""

    def __init__(self, device: str = "") -> None:
        self.device = device
        self.name = f"speaker:{device or 'default'}"
        self._stop = threading.Event()
        self._closed = False

    async def play(self, audio: Audio, sample_rate: int) -> None:
        if self._closed:
            return
        self._stop.clear()
        try:
            await asyncio.to_thread(self._play, np.asarray(audio, dtype=np.int16), sample_rate)
        except asyncio.CancelledError:
            self._stop.set()  # the worker thread notices within one block
            raise

    async def close(self) -> None:
        self._closed = True
        self._stop.set()

    def _play(self, audio: Audio, rate: int) -> None:
        sd = sounddevice()
        info = find_device("output", self.device)
        rate, audio = self._playable(sd, info, audio, rate)
        try:
            with sd.OutputStream(device=info.index, channels=1, samplerate=rate, dtype="int16") as stream:
                block = max(1, int(rate * _BLOCK_S))
                for start in range(0, len(audio), block):
                    if self._stop.is_set():
                        stream.abort()
                        return
                    stream.write(audio[start : start + block].reshape(-1, 1))
        except sd.PortAudioError as exc:
            raise missing(
                "output", self.device, list_devices("output"), f"cannot play on it: {exc}"
            ) from None

    def _playable(self, sd: Any, info: DeviceInfo, audio: Audio, rate: int) -> tuple[int, Audio]:
        """The audio at a rate the device accepts: its own, or else the device's default rate."""
        try:
            sd.check_output_settings(device=info.index, channels=1, dtype="int16", samplerate=rate)
            return rate, audio
        except sd.PortAudioError:
            pass
        if info.default_rate == rate:
            raise AudioError(f"speaker '{info.name}' cannot play {rate} Hz mono audio")
        log.debug("resampling reply from %d to %d Hz for %s", rate, info.default_rate, info.name)
        return info.default_rate, to_int16(resample(to_float(audio), rate, info.default_rate))


if TYPE_CHECKING:  # mypy proves the class implements the protocol
    _speaker: Speaker = SoundDeviceSpeaker()
