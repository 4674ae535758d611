"""Sample-format conversion and resampling with numpy only (no scipy on the unit).

``to_mono_16k`` turns any capture or file (int or float samples, one or many channels, any rate) into the
pipeline's 16 kHz mono ``int16``. ``Resampler`` is the streaming form used by the microphone: it keeps enough
history between blocks that block-by-block output equals one-shot output. The filter is a Kaiser-windowed sinc
evaluated at each output position, so any pair of rates works (44.1 kHz, 48 kHz, 22.05 kHz...).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from device.protocols import SAMPLE_RATE, Audio

Floats = npt.NDArray[np.float64]

_HALF_TAPS = 16  # filter half-width, in samples of the slower rate
_KAISER_BETA = 8.0
_ROLLOFF = 0.92  # cutoff as a fraction of the lower Nyquist frequency
_BLOCK = 4096  # output samples computed per vectorised step (bounds memory)


def to_float(audio: npt.NDArray[np.generic]) -> Floats:
    """Samples of any integer or float type as float64 in [-1, 1] (uint8 WAV is offset binary)."""
    if audio.dtype == np.uint8:
        return (audio.astype(np.float64) - 128.0) / 128.0
    if np.issubdtype(audio.dtype, np.integer):
        return audio.astype(np.float64) / float(2 ** (8 * audio.dtype.itemsize - 1))
    return audio.astype(np.float64)


def to_int16(audio: Floats) -> Audio:
    """Float samples in [-1, 1] as int16, clipped."""
    return np.clip(np.round(audio * 32768.0), -32768, 32767).astype(np.int16)


def pick_channel(audio: npt.NDArray[np.generic], channel: int | None = None) -> Floats:
    """One channel (0-based) of a (frames, channels) array, or the average of all when ``channel`` is None."""
    samples = to_float(audio)
    if samples.ndim == 1:
        if channel not in (None, 0):
            raise ValueError(f"channel {channel} asked of mono audio")
        return samples
    if samples.ndim != 2:
        raise ValueError(f"audio must be (frames,) or (frames, channels), got shape {samples.shape}")
    if channel is None:
        return np.asarray(samples.mean(axis=1), dtype=np.float64)
    if not 0 <= channel < samples.shape[1]:
        raise ValueError(f"channel {channel} asked of {samples.shape[1]}-channel audio")
    return np.ascontiguousarray(samples[:, channel])


class Resampler:
    """Streaming band-limited resampler from ``rate_in`` to ``rate_out`` for mono float blocks.

    Output sample ``n`` sits at input position ``n * rate_in / rate_out``; its fractional part takes one of
    ``rate_out / gcd`` values, so the filter for each phase is computed once (polyphase table).
    """

    def __init__(self, rate_in: int, rate_out: int = SAMPLE_RATE) -> None:
        if rate_in <= 0 or rate_out <= 0:
            raise ValueError(f"sample rates must be positive, got {rate_in} -> {rate_out}")
        self.rate_in = rate_in
        self.rate_out = rate_out
        scale = min(1.0, rate_out / rate_in)
        self._half = int(np.ceil(_HALF_TAPS / scale))  # filter half-width in input samples
        g = math.gcd(rate_in, rate_out)
        self._num, self._den = rate_in // g, rate_out // g  # position of output n = n * num / den
        frac = np.arange(self._den) / self._den
        taps = np.arange(-self._half + 1, self._half + 1)
        dist = frac[:, None] - taps[None, :]
        cutoff = scale * _ROLLOFF
        self._table = cutoff * np.sinc(cutoff * dist) * _kaiser(dist / self._half)
        self._taps = taps
        self.reset()

    def reset(self) -> None:
        # Pre-pad so the first output sample (at input 0) sees a full left half of zeros.
        self._buffer: Floats = np.zeros(self._half, dtype=np.float64)
        self._offset = -self._half  # input index of _buffer[0]
        self._produced = 0  # output samples emitted so far

    def process(self, block: Floats, *, final: bool = False) -> Floats:
        """Feed input samples; return every output sample whose filter window is complete.

        With ``final`` the stream is flushed: the tail is padded with zeros and the remaining output (up to
        the length the whole input maps to) is returned.
        """
        if self.rate_in == self.rate_out:
            return np.asarray(block, dtype=np.float64)
        self._buffer = np.concatenate([self._buffer, np.asarray(block, dtype=np.float64)])
        seen = self._offset + len(self._buffer)  # input samples seen so far
        if final:
            total_out = -(-seen * self._den // self._num)  # ceil(seen / step)
            self._buffer = np.concatenate([self._buffer, np.zeros(self._half + 1)])
        else:
            # Output n needs input up to floor(n * step) + half.
            available = seen - 1 - self._half
            total_out = available * self._den // self._num + 1 if available >= 0 else 0
        count = max(0, total_out - self._produced)
        out = self._render(self._produced, count)
        self._produced += count
        # Keep only what future outputs can still reach.
        keep_from = self._produced * self._num // self._den - self._half
        drop = max(0, keep_from - self._offset)
        self._buffer = self._buffer[drop:]
        self._offset += drop
        return out

    def _render(self, first: int, count: int) -> Floats:
        out = np.empty(count, dtype=np.float64)
        for start in range(0, count, _BLOCK):
            n = np.arange(first + start, first + min(count, start + _BLOCK), dtype=np.int64)
            base, phase = np.divmod(n * self._num, self._den)
            window = self._buffer[(base - self._offset)[:, None] + self._taps[None, :]]
            out[start : start + len(n)] = np.einsum("ij,ij->i", window, self._table[phase])
        return out


def _kaiser(x: Floats) -> Floats:
    """Kaiser window at positions ``x`` in [-1, 1] (zero outside)."""
    inside = np.clip(1.0 - x * x, 0.0, None)
    return np.asarray(np.i0(_KAISER_BETA * np.sqrt(inside)) / np.i0(_KAISER_BETA), dtype=np.float64) * (
        inside > 0
    )


def resample(audio: Floats, rate_in: int, rate_out: int) -> Floats:
    """Resample a whole mono float signal."""
    if rate_in == rate_out:
        return np.asarray(audio, dtype=np.float64)
    return Resampler(rate_in, rate_out).process(audio, final=True)


def to_mono_16k(audio: npt.NDArray[np.generic], rate: int, channel: int | None = None) -> Audio:
    """Any capture or file (frames[, channels], any sample type and rate) as 16 kHz mono int16.

    ``channel`` picks one channel of a multi-channel array (0-based); None averages them.
    """
    mono = pick_channel(audio, channel)
    return to_int16(resample(mono, rate, SAMPLE_RATE))
