"""WAV files in and out: the file microphone and the recording speaker (the behaving fakes), readers, writers.

``read_wav`` parses RIFF itself (PCM 8/16/24/32-bit, IEEE float, WAVE_FORMAT_EXTENSIBLE, and the open-ended
data size that ``espeak-ng --stdout`` writes), because Python 3.11's ``wave`` module rejects several of those.
"""

from __future__ import annotations

import asyncio
import logging
import struct
import wave
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from device.audio.resample import pick_channel, to_int16, to_mono_16k
from device.errors import AudioError
from device.protocols import CHUNK_SAMPLES, SAMPLE_RATE, Audio, Microphone, Speaker

log = logging.getLogger(__name__)

_PCM, _FLOAT, _EXTENSIBLE = 1, 3, 0xFFFE


def parse_wav(data: bytes, source: str = "WAV data") -> tuple[npt.NDArray[np.generic], int]:
    """Samples as a (frames, channels) array of the file's own type, and the sample rate."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise AudioError(f"{source} is not a WAV file (no RIFF/WAVE header)")
    fmt: tuple[int, int, int, int] | None = None
    pos = 12
    while pos + 8 <= len(data):
        chunk_id, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        body = data[pos + 8 : pos + 8 + size]  # an open-ended size (0xFFFFFFFF) just runs to the end
        if chunk_id == b"fmt ":
            if len(body) < 16:
                raise AudioError(f"{source} has a truncated format chunk")
            tag, channels, rate, _, _, bits = struct.unpack("<HHIIHH", body[:16])
            if tag == _EXTENSIBLE and len(body) >= 26:
                tag = struct.unpack("<H", body[24:26])[0]  # first two bytes of the sub-format GUID
            fmt = (tag, channels, rate, bits)
        elif chunk_id == b"data":
            if fmt is None:
                raise AudioError(f"{source} has audio data before its format chunk")
            return _decode(body, *fmt, source=source), fmt[2]
        pos += 8 + size + (size & 1)
    raise AudioError(f"{source} has no audio data chunk")


def _decode(
    body: bytes, tag: int, channels: int, rate: int, bits: int, *, source: str
) -> npt.NDArray[np.generic]:
    if channels < 1 or rate < 1:
        raise AudioError(f"{source} declares {channels} channels at {rate} Hz")
    width = bits // 8
    usable = len(body) - len(body) % (width * channels) if width else 0
    raw = body[:usable]
    samples: npt.NDArray[np.generic]
    if tag == _PCM and bits == 8:
        samples = np.frombuffer(raw, dtype=np.uint8)
    elif tag == _PCM and bits == 16:
        samples = np.frombuffer(raw, dtype="<i2")
    elif tag == _PCM and bits == 24:
        b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.uint32)
        samples = ((b[:, 0] << 8) | (b[:, 1] << 16) | (b[:, 2] << 24)).view(np.int32)  # top-aligned int32
    elif tag == _PCM and bits == 32:
        samples = np.frombuffer(raw, dtype="<i4")
    elif tag == _FLOAT and bits in (32, 64):
        samples = np.frombuffer(raw, dtype="<f4" if bits == 32 else "<f8")
    else:
        raise AudioError(f"{source} uses an unsupported sample format (format {tag}, {bits} bits)")
    return samples.reshape(-1, channels)


def read_wav(path: Path) -> tuple[Audio, int]:
    """A WAV file as int16 mono (channels averaged) and its sample rate (not resampled)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise AudioError(f"cannot read the WAV file {path}: {exc.strerror or exc}") from None
    samples, rate = parse_wav(data, source=str(path))
    return to_int16(pick_channel(samples)), rate


def write_wav(path: Path, audio: Audio, sample_rate: int) -> None:
    """Write mono int16 audio as a 16-bit PCM WAV file."""
    try:
        with wave.open(str(path), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(sample_rate)
            out.writeframes(np.asarray(audio, dtype="<i2").tobytes())
    except OSError as exc:
        raise AudioError(f"cannot write the WAV file {path}: {exc.strerror or exc}") from None


class WavMicrophone:
    """A microphone that plays a WAV file: as fast as the consumer takes it, or at real-time pace.

    The file is converted to 16 kHz mono int16, cut into ``CHUNK_SAMPLES`` chunks (the last padded with
    zeros), then followed by ``tail_silence_s`` of zeros so an endpointer can hear the command end.
    """

    def __init__(self, path: Path, *, realtime: bool = False, tail_silence_s: float = 1.0) -> None:
        self.path = Path(path)
        self.name = f"wav:{self.path.name}"
        self.realtime = realtime
        self.tail_silence_s = tail_silence_s
        #: with ``realtime``, the ``time.monotonic()`` at which the file's first sample counts as captured
        self.started_at: float | None = None
        self._closed = asyncio.Event()

    def load(self) -> Audio:
        """The whole file as 16 kHz mono int16, without the padding."""
        try:
            data = self.path.read_bytes()
        except OSError as exc:
            raise AudioError(f"cannot read the WAV file {self.path}: {exc.strerror or exc}") from None
        samples, rate = parse_wav(data, source=str(self.path))
        return to_mono_16k(samples, rate)

    async def chunks(self) -> AsyncIterator[Audio]:
        audio = await asyncio.to_thread(self.load)
        tail = round(self.tail_silence_s * SAMPLE_RATE)
        total = -(-(len(audio) + tail) // CHUNK_SAMPLES) * CHUNK_SAMPLES
        padded = np.zeros(total, dtype=np.int16)
        padded[: len(audio)] = audio
        loop = asyncio.get_running_loop()
        started = self.started_at = loop.time()
        for index, start in enumerate(range(0, total, CHUNK_SAMPLES)):
            if self._closed.is_set():
                return
            if self.realtime:
                # As a sound card does, a chunk comes once its last sample is captured. Pace against the start
                # time, not the previous chunk, so delays do not accumulate.
                due = started + (index + 1) * CHUNK_SAMPLES / SAMPLE_RATE
                await asyncio.sleep(max(0.0, due - loop.time()))
            else:
                await asyncio.sleep(0)  # let other stages run between chunks
            if self._closed.is_set():
                return
            yield padded[start : start + CHUNK_SAMPLES].copy()

    async def close(self) -> None:
        self._closed.set()


class RecordingSpeaker:
    """A speaker that keeps every ``(audio, sample_rate)`` played, and optionally writes ``reply-NNN.wav``.

    With ``realtime`` it takes as long as the audio lasts, like a real speaker would.
    """

    def __init__(self, out_dir: Path | None = None, *, realtime: bool = False) -> None:
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.realtime = realtime
        self.played: list[tuple[Audio, int]] = []
        if self.out_dir is not None:
            try:
                self.out_dir.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                why = "it is a file, not a folder" if self.out_dir.is_file() else exc.strerror or exc
                raise AudioError(f"cannot write replies to {self.out_dir}: {why}") from None

    async def play(self, audio: Audio, sample_rate: int) -> None:
        clip = np.asarray(audio, dtype=np.int16).copy()
        self.played.append((clip, sample_rate))
        if self.out_dir is not None:
            target = self.out_dir / f"reply-{len(self.played):03d}.wav"
            await asyncio.to_thread(write_wav, target, clip, sample_rate)
        if self.realtime:
            await asyncio.sleep(len(clip) / sample_rate)

    async def close(self) -> None:
        return None


if TYPE_CHECKING:  # mypy proves the fakes implement the protocols
    _fakes: tuple[Microphone, Speaker] = (WavMicrophone(Path()), RecordingSpeaker())
