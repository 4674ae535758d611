"""Speex noise suppression (pyspeex-noise, as Home Assistant uses in front of its wake word) for the wake model.

Only the wake word model hears the cleaned audio: in steady kitchen noise it lifts the model's score on a real
"okay nabu" (docs/wake.md), while Whisper, which copes with noise and dislikes suppression artefacts, keeps the
microphone's own audio. Speex works on 10 ms frames, so samples that do not fill a frame wait for the next chunk.
"""

from __future__ import annotations

import numpy as np

from device.errors import WakeError
from device.protocols import SAMPLE_RATE, Audio

FRAME_SAMPLES = SAMPLE_RATE // 100  # 10 ms


class NoiseSuppressor:
    """Streaming speex noise suppression: int16 chunks in, cleaned int16 out (up to 159 samples later).

    The noise estimate adapts over about a second and is kept for the life of the object, like the room's noise.
    """

    def __init__(self, suppression_db: int) -> None:
        if suppression_db >= 0:
            raise ValueError(f"noise suppression must be below 0 dB, got {suppression_db}")
        try:
            from pyspeex_noise import AudioProcessor
        except ImportError as exc:
            raise WakeError(
                f"cannot load speex noise suppression: {exc}",
                hint="reinstall the locked dependencies, or set LARDER_WAKE_NOISE_SUPPRESSION_DB=0",
            ) from None
        self._processor = AudioProcessor(0, suppression_db)  # auto gain off: the wake frontend has its own
        self._pending = b""

    def process(self, chunk: Audio) -> Audio:
        """Clean a chunk; returns every whole 10 ms frame available so far."""
        data = self._pending + np.asarray(chunk, dtype="<i2").tobytes()
        whole = len(data) - len(data) % (2 * FRAME_SAMPLES)
        self._pending = data[whole:]
        out = b"".join(
            self._processor.process_10ms(data[i : i + 2 * FRAME_SAMPLES])
            for i in range(0, whole, 2 * FRAME_SAMPLES)
        )
        return np.frombuffer(out, dtype="<i2").astype(np.int16)
