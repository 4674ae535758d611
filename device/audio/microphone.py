"""The real microphone: sounddevice capture that survives unplugging.

The stream opens at the device's own rate with enough channels to reach ``channel`` (a USB mic array
exposes several; one is usually the DSP beam), and ``CaptureConverter`` turns its blocks into 16 kHz mono
int16 chunks. A missing or lost device is logged once per distinct problem (naming the device wanted and
those present) and retried every ``retry_s``; ``chunks()`` only ends when ``close()`` is called.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from device.audio.devices import DeviceInfo, find_device, list_devices, missing, sounddevice
from device.audio.resample import Resampler, pick_channel, to_int16
from device.errors import AudioError
from device.protocols import CHUNK_SAMPLES, SAMPLE_RATE, Audio, Microphone

log = logging.getLogger(__name__)

_QUEUE_BLOCKS = 200  # ~4 s of 20 ms blocks; older blocks are dropped (and counted) if the consumer stalls
_STALL_S = 2.0  # no audio for this long means the device is gone


def list_input_devices() -> list[str]:
    """Input devices as ``"index: name (channels, rate)"``; an ``AudioError`` if PortAudio is missing."""
    return [d.describe() for d in list_devices("input")]


class CaptureConverter:
    """Device blocks (frames x channels, any rate and type) to 16 kHz mono int16 CHUNK_SAMPLES chunks."""

    def __init__(self, rate: int, channel: int = 0) -> None:
        self.channel = channel
        self._resampler = Resampler(rate, SAMPLE_RATE)
        self._pending: Audio = np.zeros(0, dtype=np.int16)

    def push(self, block: npt.NDArray[np.generic]) -> list[Audio]:
        mono = pick_channel(block if block.ndim == 2 else block[:, None], self.channel)
        self._pending = np.concatenate([self._pending, to_int16(self._resampler.process(mono))])
        ready = len(self._pending) // CHUNK_SAMPLES * CHUNK_SAMPLES
        chunks = [self._pending[i : i + CHUNK_SAMPLES] for i in range(0, ready, CHUNK_SAMPLES)]
        self._pending = self._pending[ready:]
        return chunks


class SoundDeviceMicrophone:
    """``Microphone`` over sounddevice. ``device``: index, name fragment, or "" for the default input."""

    def __init__(
        self,
        device: str = "",
        channel: int = 0,
        *,
        retry_s: float = 5.0,
        on_problem: Callable[[AudioError], None] | None = None,
    ) -> None:
        self.device = device
        self.channel = channel
        self.retry_s = retry_s
        self.name = f"mic:{device or 'default'}"
        self.on_problem = on_problem
        self.overflows = 0  # input overflows reported by PortAudio plus blocks dropped by a stalled consumer
        self.attempts = 0  # times we tried to open the device
        self.last_error: AudioError | None = None
        self._closed = asyncio.Event()
        self._queue: asyncio.Queue[npt.NDArray[np.float32] | None] | None = None
        self._logged = ""
        self._loop: asyncio.AbstractEventLoop | None = None

    async def chunks(self) -> AsyncGenerator[Audio, None]:
        self._loop = asyncio.get_running_loop()
        while not self._closed.is_set():
            self.attempts += 1
            try:
                stream, converter = await asyncio.to_thread(self._open)
            except AudioError as exc:
                self._problem(exc)
                await self._pause()
                continue
            try:
                self._opened(stream)
                async for chunk in self._read(stream, converter):
                    yield chunk
            except AudioError as exc:
                self._problem(exc)
            finally:
                await asyncio.to_thread(_stop, stream)
                self._queue = None
            await self._pause()

    async def close(self) -> None:
        self._closed.set()
        queue = self._queue
        if queue is not None:
            if queue.full():  # drop the oldest block: the end marker must get through
                queue.get_nowait()
            queue.put_nowait(None)

    def _open(self) -> tuple[Any, CaptureConverter]:
        sd = sounddevice()
        info = find_device("input", self.device)
        if self.channel >= info.channels:
            raise AudioError(
                f"microphone '{info.name}' has {info.channels} input channel(s); "
                f"channel {self.channel} does not exist",
                hint=f"set LARDER_MIC_CHANNEL to 0-{info.channels - 1}",
            )
        loop = self._loop
        assert loop is not None
        queue: asyncio.Queue[npt.NDArray[np.float32] | None] = asyncio.Queue(maxsize=_QUEUE_BLOCKS)
        self._queue = queue

        def deliver(block: npt.NDArray[np.float32] | None) -> None:
            if queue.full():
                queue.get_nowait()
                self.overflows += 1
            queue.put_nowait(block)

        def hand_over(block: npt.NDArray[np.float32] | None) -> None:
            with contextlib.suppress(RuntimeError):  # the loop closed under a stream still stopping
                loop.call_soon_threadsafe(deliver, block)

        def callback(indata: npt.NDArray[np.float32], frames: int, time: Any, status: Any) -> None:
            if status.input_overflow:
                self.overflows += 1
            hand_over(indata.copy())

        def finished() -> None:
            hand_over(None)

        errors: list[str] = []
        for channels in sorted({self.channel + 1, info.channels}):
            try:
                stream = sd.InputStream(
                    device=info.index,
                    channels=channels,
                    samplerate=info.default_rate,
                    dtype="float32",
                    blocksize=int(info.default_rate * 0.02),
                    callback=callback,
                    finished_callback=finished,
                )
                stream.start()
                return stream, CaptureConverter(info.default_rate, self.channel)
            except (sd.PortAudioError, ValueError) as exc:
                errors.append(f"{channels} ch: {exc}")
        raise missing("input", self.device, list_devices("input"), f"cannot open it: {'; '.join(errors)}")

    async def _read(self, stream: Any, converter: CaptureConverter) -> AsyncIterator[Audio]:
        queue = self._queue
        assert queue is not None
        while not self._closed.is_set():
            try:
                block = await asyncio.wait_for(queue.get(), _STALL_S)
            except TimeoutError:
                raise AudioError(f"microphone '{self.device or 'default'}' stopped sending audio") from None
            if block is None:
                if self._closed.is_set():
                    return
                raise AudioError(f"microphone '{self.device or 'default'}' went away (unplugged?)")
            for chunk in converter.push(block):
                yield chunk

    def _opened(self, stream: Any) -> None:
        if self._logged:
            log.info("microphone '%s' is back", self.device or "default")
        else:
            log.info("microphone '%s' open at %s Hz", self.device or "default", stream.samplerate)
        self._logged = ""
        self.last_error = None

    def _problem(self, error: AudioError) -> None:
        self.last_error = error
        if error.message != self._logged:
            self._logged = error.message
            log.warning("%s; retrying every %g s", error, self.retry_s)
            if self.on_problem is not None:
                self.on_problem(error)

    async def _pause(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closed.wait(), self.retry_s)


def _stop(stream: Any) -> None:
    with contextlib.suppress(Exception):  # a vanished device can fail to stop; it is being dropped anyway
        stream.stop()
        stream.close()


__all__ = ["CaptureConverter", "DeviceInfo", "SoundDeviceMicrophone", "list_input_devices"]


if TYPE_CHECKING:  # mypy proves the class implements the protocol
    _mic: Microphone = SoundDeviceMicrophone()
