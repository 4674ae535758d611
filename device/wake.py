"""Wake-word detection: microWakeWord per-frame probabilities, our own decision rule, and the pre-roll buffer.

pymicro-wakeword's own rule (``probability_cutoff`` over a ``sliding_window_size`` average, 0.85 over 5 frames
for okay_nabu) misses many wakes in kitchen noise (NOTES.md section 1). So the model runs with a window of one
frame, which makes ``process_streaming_prob`` return each frame's raw probability, and ``WakeDecider``
(pure, no clock: it is fed audio times) applies the cutoff, window and refractory time chosen in settings.
"""

from __future__ import annotations

import json
import logging
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from device.errors import WakeError
from device.protocols import CHUNK_SECONDS, SAMPLE_RATE, Audio, WakeDetector, WakeHit
from device.settings import Sensitivity, Settings, WakeModelName

log = logging.getLogger(__name__)

# Operating points per sensitivity: (per-frame cutoff, frames averaged). To be re-tuned on recorded kitchens.
OPERATING_POINTS: dict[Sensitivity, tuple[float, int]] = {
    Sensitivity.HIGH: (0.3, 1),
    Sensitivity.NORMAL: (0.5, 2),
    Sensitivity.LOW: (0.85, 5),
}

_FEATURE_STEP_S = 0.010  # one feature frame per 10 ms of audio
_FEATURE_WINDOW_S = 0.030  # each frame covers 30 ms


class WakeDecider:
    """Decides wakes from per-frame probabilities: window average >= cutoff, then a refractory time.

    ``feed`` returns the averaged score when it fires. After a wake (or ``suppress_until``) the window is
    cleared, so a wake needs ``window`` fresh frames.
    """

    def __init__(self, *, cutoff: float, window: int, refractory_s: float) -> None:
        if not 0 < cutoff <= 1:
            raise ValueError(f"wake cutoff must be in (0, 1], got {cutoff}")
        if window < 1:
            raise ValueError(f"wake window must be at least 1 frame, got {window}")
        self.cutoff = cutoff
        self.window = window
        self.refractory_s = refractory_s
        self._recent: deque[float] = deque(maxlen=window)
        self._quiet_until = float("-inf")

    @classmethod
    def from_settings(cls, settings: Settings) -> WakeDecider:
        cutoff, window = OPERATING_POINTS[settings.wake_sensitivity]
        if settings.wake_threshold is not None:
            cutoff = settings.wake_threshold
        return cls(cutoff=cutoff, window=window, refractory_s=settings.wake_refractory_s)

    def feed(self, at_s: float, probability: float) -> float | None:
        if at_s < self._quiet_until:
            self._recent.clear()
            return None
        self._recent.append(probability)
        if len(self._recent) < self.window:
            return None
        score = sum(self._recent) / self.window
        if score < self.cutoff:
            return None
        self._recent.clear()
        self._quiet_until = at_s + self.refractory_s
        return score

    def suppress_until(self, at_s: float) -> None:
        """No wake before audio time ``at_s`` (used while the unit itself is speaking)."""
        self._quiet_until = max(self._quiet_until, at_s)
        self._recent.clear()

    def reset(self) -> None:
        """Forget the frames in the window (the refractory and suppression times stay)."""
        self._recent.clear()


def _load_model(model: WakeModelName) -> tuple[Any, Any]:
    try:
        import pymicro_wakeword
        from pymicro_wakeword import MicroWakeWord, MicroWakeWordFeatures

        package = Path(pymicro_wakeword.__file__).parent
        config_path = package / "models" / f"{model.value}.json"
        config = json.loads(config_path.read_text(encoding="utf-8"))
        library = next((package / "lib").glob("*tensorflowlite_c.*"))
        network = MicroWakeWord(
            model.value,
            wake_word=config["wake_word"],
            tflite_model=config_path.parent / config["model"],
            probability_cutoff=config["micro"]["probability_cutoff"],
            sliding_window_size=1,  # raw per-frame probabilities; WakeDecider averages
            trained_languages=config.get("trained_languages", []),
            libtensorflowlite_c_path=library,
        )
        return network, MicroWakeWordFeatures()
    except (ImportError, OSError, StopIteration, KeyError, ValueError, RuntimeError) as exc:
        raise WakeError(
            f"cannot load the wake word model '{model.value}': {exc}",
            hint="reinstall pymicro-wakeword (it carries the models and the TFLite library)",
        ) from None


class MicroWakeWordDetector:
    """``WakeDetector`` over a built-in microWakeWord model, deciding with a ``WakeDecider``.

    Times (``WakeHit.at_s``, ``now_s``) count the audio this detector has been fed, so the runner should feed
    it every chunk of the stream (it is cheap: a few ms of CPU per second of audio).
    """

    def __init__(self, model: WakeModelName, decider: WakeDecider) -> None:
        self.model = model.value
        self.decider = decider
        self._network, self._features = _load_model(model)
        self._stride: int = self._network.stride  # feature frames per inference
        self._frames = 0  # feature frames produced since the last reset
        self._frame_base_s = 0.0  # audio time of the last reset
        self._samples = 0  # audio samples fed so far

    @classmethod
    def from_settings(cls, settings: Settings) -> MicroWakeWordDetector:
        return cls(settings.wake_model, WakeDecider.from_settings(settings))

    @property
    def now_s(self) -> float:
        """Audio time fed so far (seconds)."""
        return self._samples / SAMPLE_RATE

    def frames(self, chunk: Audio) -> list[tuple[float, float]]:
        """Run the model on a chunk: ``(audio time at the frame's end, probability)`` per inference."""
        self._samples += len(chunk)
        out: list[tuple[float, float]] = []
        pcm = np.asarray(chunk, dtype="<i2").tobytes()
        for features in self._features.process_streaming(pcm):
            self._frames += 1
            probability = self._network.process_streaming_prob(features)
            # Between inferences the library returns 0.0 without running the model: skip those.
            if self._frames % self._stride == 0 and probability is not None:
                end_s = (
                    self._frame_base_s + self._frames * _FEATURE_STEP_S + _FEATURE_WINDOW_S - _FEATURE_STEP_S
                )
                out.append((end_s, probability))
        return out

    def probabilities(self, chunk: Audio) -> list[float]:
        """Raw per-frame probabilities of a chunk (for tuning, ``larder wake test``); advances the stream."""
        return [p for _, p in self.frames(chunk)]

    def process(self, chunk: Audio) -> WakeHit | None:
        hit: WakeHit | None = None
        for at_s, probability in self.frames(chunk):
            score = self.decider.feed(at_s, probability)
            if score is not None and hit is None:
                hit = WakeHit(model=self.model, score=score, at_s=at_s)
        return hit

    def suppress_until(self, at_s: float) -> None:
        """No wake before audio time ``at_s`` (gate the unit's own replies)."""
        self.decider.suppress_until(at_s)

    def suppress_for(self, seconds: float) -> None:
        """No wake for the next ``seconds`` of audio fed."""
        self.decider.suppress_until(self.now_s + seconds)

    def reset(self) -> None:
        """Clear the model's streaming state and the decider's window; audio time keeps counting."""
        self._network.reset()
        self._features.reset()
        self.decider.reset()
        self._frames = 0
        # Feature frames restart at zero, so keep their clock in step with the audio clock.
        self._frame_base_s = self.now_s


class PreRoll:
    """Ring buffer of the last ``seconds`` of chunks, so words just after the wake word are not clipped."""

    def __init__(self, seconds: float, chunk_seconds: float = CHUNK_SECONDS) -> None:
        self.seconds = seconds
        self._chunks: deque[Audio] = deque(maxlen=max(1, round(seconds / chunk_seconds)))
        self._enabled = seconds > 0

    def push(self, chunk: Audio) -> None:
        if self._enabled:
            self._chunks.append(chunk)

    def drain(self) -> list[Audio]:
        """The buffered chunks, oldest first; the buffer is left empty."""
        chunks = list(self._chunks)
        self._chunks.clear()
        return chunks

    def clear(self) -> None:
        self._chunks.clear()


if TYPE_CHECKING:  # mypy proves the class implements the protocol
    _detector: WakeDetector = MicroWakeWordDetector(
        WakeModelName.OKAY_NABU, WakeDecider(cutoff=0.5, window=1, refractory_s=0)
    )
