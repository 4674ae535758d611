"""The peer: the same Whisper model run the way a generic integration would, to compare Larder against.

``faster_whisper.WhisperModel(path)`` with every constructor default (device ``auto``, compute type
``default``, ``cpu_threads=0``: CTranslate2 picks), and ``model.transcribe(audio)`` with every decoding default
(beam 5, best of 5, temperature fallback 0.0-1.0, previous-text conditioning, no prompt, no VAD filter,
timestamps on), over the whole file. Only the model path is Larder's, so both sides use the same weights.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from device.errors import SttError
from device.protocols import Audio

DESCRIPTION = (
    "faster-whisper with the library's defaults: WhisperModel(path) (device auto, compute_type default, "
    "cpu_threads 0) and transcribe(audio) (beam 5, temperature fallback, no prompt, no VAD filter)"
)


@dataclass(frozen=True)
class PeerResult:
    text: str
    seconds: float


class PeerWhisper:
    """A Whisper model loaded and called with faster-whisper's defaults."""

    def __init__(self, model_dir: Path) -> None:
        from faster_whisper import WhisperModel

        started = time.perf_counter()
        try:
            self._model: Any = WhisperModel(str(model_dir))
        except (RuntimeError, ValueError, OSError) as exc:
            raise SttError(f"the peer cannot load the Whisper model in {model_dir}: {exc}") from None
        self.load_seconds = time.perf_counter() - started
        self.model_dir = model_dir
        #: what "default" became on this machine (float32 on a CPU for the fp16 tiny.en weights)
        self.compute_type = str(getattr(self._model.model, "compute_type", "unknown"))

    def transcribe(self, audio: Audio) -> PeerResult:
        """Transcribe 16 kHz mono int16 audio; the time covers decoding every segment."""
        samples = audio.astype("float32") / 32768.0
        started = time.perf_counter()
        try:
            segments, _info = self._model.transcribe(samples)
            text = " ".join(segment.text.strip() for segment in segments).strip()
        except (RuntimeError, ValueError) as exc:
            raise SttError(f"the peer failed on a {len(audio) / 16000:.1f} s clip: {exc}") from None
        return PeerResult(text=text, seconds=time.perf_counter() - started)
