"""The wake-word detector: microWakeWord models run on the microphone's audio, a ``WakeDecider`` per listener,
and Whisper's check of borderline wakes.

The audio gets a tiny dither and, where measured to help (okay_nabu; ``wake_noise_suppression_db``), speex
noise suppression; then each listener runs its own copy of the model on it. The main listener hears it as it
is; the lowered listener (``wake_lowered_voice``) hears it with every voice lowered by ``LOWERED_VOICE``, which
brings high voices the model misses in noise into its range, and every one of its fires is checked. The
transcript check hears the microphone's own audio.
"""

from __future__ import annotations

import json
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from device.audio.denoise import NoiseSuppressor
from device.audio.resample import Resampler
from device.errors import LarderError, WakeError
from device.protocols import CHUNK_SECONDS, SAMPLE_RATE, Audio, WakeDetector, WakeHit
from device.settings import Settings, WakeModelName
from device.wake.decision import (
    LOWERED_VOICE,
    NOISE_SUPPRESSION_DB,
    WakeDecider,
    WakeFire,
    check_prompt,
    confirms_wake,
    heard_too_early,
)

log = logging.getLogger(__name__)

Transcribe = Callable[[Audio, str], str]  # (audio, prompt) -> text

CHECK_SECONDS = 2.0  # audio the transcript check looks at, ending at the wake
RECHECK_S = 0.5  # after a check that heard only "Okay.", how much more audio before asking once more

_FEATURE_STEP_S = 0.010  # one feature frame per 10 ms of audio
_FEATURE_WINDOW_S = 0.030  # each frame covers 30 ms
_DITHER_LSB = 3.0  # noise floor added to the audio: the models misjudge stretches of exact digital silence


def noise_suppression_db(settings: Settings) -> int:
    """The suppression the wake model hears through: the setting, or the model's measured choice."""
    if settings.wake_noise_suppression_db is not None:
        return settings.wake_noise_suppression_db
    return NOISE_SUPPRESSION_DB[settings.wake_model]


@dataclass(frozen=True)
class WakeCheck:
    """One transcript check of a borderline wake (kept for ``larder wake test`` and the logs)."""

    at_s: float
    score: float
    transcript: str
    accepted: bool
    listener: str = "main"
    asks_again: bool = False  # heard only "Okay.": the detector asks again a moment later


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


def whisper_transcriber(settings: Settings) -> Transcribe:
    """A ``Transcribe`` over the offline Whisper model, loaded on its first use (~1 s, once)."""
    engines: list[Any] = []

    def transcribe(audio: Audio, prompt: str) -> str:
        if not engines:
            from device.stt.whisper import WhisperEngine

            engines.append(WhisperEngine.from_settings(settings))
        return str(engines[0].transcribe(audio, prompt=prompt).text)

    return transcribe


class Listener:
    """One copy of the model hearing the audio one way, with its own decider.

    With ``voice`` below 1 the audio is stretched by ``1 / voice`` first (a band-limited resample played at the
    original rate), so pitch and formants scale by ``voice``; frame times are mapped back to the microphone's
    clock.
    """

    def __init__(self, model: WakeModelName, decider: WakeDecider, voice: Fraction = Fraction(1)) -> None:
        self.name = "main" if voice == 1 else "lowered"
        self.decider = decider
        self._network, self._features = _load_model(model)
        self._stride: int = self._network.stride  # feature frames per inference
        self._voice = float(voice)
        self._stretch = Resampler(voice.numerator, voice.denominator) if voice != 1 else None
        self._frames = 0  # feature frames produced since the last reset
        self._frame_base_s = 0.0  # microphone time of the last reset

    def frames(self, audio: Audio) -> list[tuple[float, float]]:
        """``(microphone time at the frame's end, probability)`` per inference over a chunk."""
        if self._stretch is not None:
            stretched = self._stretch.process(audio.astype(np.float64))
            audio = np.clip(np.round(stretched), -32768, 32767).astype(np.int16)
        out: list[tuple[float, float]] = []
        for features in self._features.process_streaming(audio.astype("<i2").tobytes()):
            self._frames += 1
            probability = self._network.process_streaming_prob(features)
            # Between inferences the library returns 0.0 without running the model: skip those.
            if self._frames % self._stride == 0 and probability is not None:
                heard_s = self._frames * _FEATURE_STEP_S + _FEATURE_WINDOW_S - _FEATURE_STEP_S
                out.append((self._frame_base_s + heard_s * self._voice, probability))
        return out

    def reset(self, now_s: float) -> None:
        self._network.reset()
        self._features.reset()
        if self._stretch is not None:
            self._stretch.reset()
        self.decider.reset()
        self._frames = 0
        # Feature frames restart at zero, so keep their clock in step with the microphone's.
        self._frame_base_s = now_s


class MicroWakeWordDetector:
    """``WakeDetector`` over a built-in microWakeWord model: a main listener and, optionally, a lowered one.

    Times (``WakeHit.at_s``, ``now_s``) count the audio this detector has been fed, so the runner should feed
    it every chunk of the stream (it is cheap: a few ms of CPU per second of audio per listener). A borderline
    wake is passed to ``transcribe`` (blocking, ~0.5 s on x86) when one is given; if it fails, the wake counts.
    A wake from either listener holds the other off for its refractory time.
    """

    def __init__(
        self,
        model: WakeModelName,
        decider: WakeDecider,
        transcribe: Transcribe | None = None,
        *,
        noise_suppression_db: int = 0,
        lowered: WakeDecider | None = None,
    ) -> None:
        self.model = model.value
        self.transcribe = transcribe
        self.checks: deque[WakeCheck] = deque(maxlen=100)
        #: told each check's final verdict (from the thread that runs ``process``)
        self.on_check: Callable[[WakeCheck], None] | None = None
        # A check to ask again: (listener, audio time of its fire, audio time due, score)
        self._again: tuple[Listener, float, float, float] | None = None
        self._name = model
        self._listeners = [Listener(model, decider)]
        if lowered is not None:
            self._listeners.append(Listener(model, lowered, LOWERED_VOICE))
        self._samples = 0  # audio samples fed so far
        self._dither = np.random.default_rng(0)  # seeded: the same file always gives the same scores
        self._recent: deque[Audio] = deque(maxlen=max(1, round(CHECK_SECONDS / CHUNK_SECONDS)))
        self._denoise = NoiseSuppressor(noise_suppression_db) if noise_suppression_db < 0 else None

    @classmethod
    def from_settings(cls, settings: Settings, transcribe: Transcribe | None = None) -> MicroWakeWordDetector:
        """With ``wake_confirm`` and no ``transcribe`` given, the check loads its own Whisper when first needed:
        pass the unit's engine to share it."""
        if settings.wake_confirm and transcribe is None:
            transcribe = whisper_transcriber(settings)
        return cls(
            settings.wake_model,
            WakeDecider.from_settings(settings),
            transcribe,
            noise_suppression_db=noise_suppression_db(settings),
            lowered=WakeDecider.lowered_from_settings(settings),
        )

    @property
    def now_s(self) -> float:
        """Audio time fed so far (seconds)."""
        return self._samples / SAMPLE_RATE

    @property
    def decider(self) -> WakeDecider:
        """The main listener's decider."""
        return self._listeners[0].decider

    @property
    def listeners(self) -> list[str]:
        """The listeners running, main first."""
        return [listener.name for listener in self._listeners]

    def _heard(self, chunk: Audio) -> Audio:
        """The chunk as the models hear it: dithered, then cleaned when suppression is on."""
        self._samples += len(chunk)
        self._recent.append(chunk)
        noisy = np.asarray(chunk, dtype=np.float64) + self._dither.normal(0.0, _DITHER_LSB, len(chunk))
        audio = np.clip(np.round(noisy), -32768, 32767).astype(np.int16)
        return self._denoise.process(audio) if self._denoise is not None else audio

    def frames(self, chunk: Audio) -> list[list[tuple[float, float]]]:
        """Run every listener on a chunk: per listener, ``(audio time at the frame's end, probability)``."""
        audio = self._heard(chunk)
        return [listener.frames(audio) for listener in self._listeners]

    def probabilities(self, chunk: Audio, listener: int = 0) -> list[float]:
        """One listener's raw per-frame probabilities of a chunk (for tuning); advances the stream."""
        return [p for _, p in self.frames(chunk)[listener]]

    def process(self, chunk: Audio) -> WakeHit | None:
        hit: WakeHit | None = None
        for listener, frames in zip(self._listeners, self.frames(chunk), strict=True):
            for at_s, probability in frames:
                fire = listener.decider.feed(at_s, probability)
                if fire is not None and hit is None and self._accept(listener, at_s, fire):
                    hit = self._woke(listener, at_s, fire.score)
        if self._again is not None and hit is None and self.now_s >= self._again[2]:
            listener, fired_s, _, score = self._again
            self._again = None
            if self._check(listener, self.now_s, score, again=True):
                hit = self._woke(listener, fired_s, score)  # the command started after the fire: keep it
        return hit

    def _woke(self, listener: Listener, at_s: float, score: float) -> WakeHit:
        self._again = None
        for other in self._listeners:
            if other is not listener:
                other.decider.suppress_until(at_s + other.decider.refractory_s)
        return WakeHit(model=self.model, score=score, at_s=at_s)

    def _accept(self, listener: Listener, at_s: float, fire: WakeFire) -> bool:
        return not fire.borderline or self._check(listener, at_s, fire.score, again=False)

    def _check(self, listener: Listener, at_s: float, score: float, *, again: bool) -> bool:
        """Ask Whisper about the last ``CHECK_SECONDS``; a first "Okay." alone is asked again ``RECHECK_S``
        later (the fire's refractory holds meanwhile); a no withdraws the fire. Without a check, it wakes."""
        if self.transcribe is None:
            return True
        audio = np.concatenate(list(self._recent))[-round(CHECK_SECONDS * SAMPLE_RATE) :]
        try:
            text = self.transcribe(audio, check_prompt(self._name))
        except (LarderError, ImportError, OSError, RuntimeError) as exc:
            log.warning("wake check failed (%s): waking anyway", exc)
            return True
        accepted = confirms_wake(self._name, text)
        later = not accepted and not again and heard_too_early(self._name, text)
        self.checks.append(WakeCheck(at_s, score, text, accepted, listener.name, later))
        if self.on_check is not None and not later:
            self.on_check(self.checks[-1])
        if later:
            self._again = (listener, at_s, at_s + RECHECK_S, score)
        elif not accepted:
            listener.decider.withdraw()
        verdict = "woke" if accepted else "asking again" if later else "ignored"
        log.info(
            "borderline wake %.2f (%s listener) at %.2f s: heard %r, %s",
            score,
            listener.name,
            at_s,
            text,
            verdict,
        )
        return accepted

    def suppress_until(self, at_s: float) -> None:
        """No wake before audio time ``at_s`` (gate the unit's own replies)."""
        self._again = None
        for listener in self._listeners:
            listener.decider.suppress_until(at_s)

    def suppress_for(self, seconds: float) -> None:
        """No wake for the next ``seconds`` of audio fed."""
        self.suppress_until(self.now_s + seconds)

    def reset(self) -> None:
        """A break in the stream (the runner skipped the command and the reply): clear the models' streaming
        state and the deciders (their windows and refractory times); audio time keeps counting."""
        for listener in self._listeners:
            listener.reset(self.now_s)
        self._recent.clear()
        self._again = None


if TYPE_CHECKING:  # mypy proves the class implements the protocol
    _detector: WakeDetector = MicroWakeWordDetector(
        WakeModelName.OKAY_NABU, WakeDecider(cutoff=0.5, window=1, refractory_s=0)
    )
