"""Wake-word detection: microWakeWord per-frame probabilities, our own decision rule, a transcript check for
borderline scores, and the pre-roll buffer.

pymicro-wakeword's own rule (``probability_cutoff`` over a ``sliding_window_size`` average, 0.85 over 5 frames
for okay_nabu) misses most wakes in kitchen noise. So the model runs with a window of one frame (each frame's raw
probability) and ``WakeDecider`` (pure, fed audio times, no clock) applies the measured operating point of the
chosen sensitivity: a low cutoff that catches the wake word in noise, and above it a "sure" score. Between the
two the model also fires on everyday "okay, ..." chatter, so with ``wake_confirm`` such a borderline wake only
counts if Whisper hears the wake word in the last two seconds (``confirms_wake``, pure). How the points were
measured: docs/wake.md and scripts/wake_eval.py. The model hears the audio through speex noise suppression
where it was measured to help (okay_nabu; ``wake_noise_suppression_db``); the transcript check hears the
microphone's own audio.
"""

from __future__ import annotations

import json
import logging
import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from device.audio.denoise import NoiseSuppressor
from device.errors import LarderError, WakeError
from device.protocols import CHUNK_SECONDS, SAMPLE_RATE, Audio, WakeDetector, WakeHit
from device.settings import Sensitivity, Settings, WakeModelName

log = logging.getLogger(__name__)

Transcribe = Callable[[Audio, str], str]  # (audio, prompt) -> text


@dataclass(frozen=True)
class OperatingPoint:
    """Wake when the mean of ``window`` frame probabilities reaches ``cutoff``; below ``sure`` it is borderline
    and, with the transcript check on, counts only if the check hears the wake word."""

    cutoff: float
    window: int
    sure: float


# Measured on the validation set (docs/wake.md): normal keeps >= 95% of wakes at 10 dB kitchen noise for the
# voices the model knows best; high trades false wakes for recall; low is for a loud radio or constant chatter.
OPERATING_POINTS: dict[WakeModelName, dict[Sensitivity, OperatingPoint]] = {
    WakeModelName.OKAY_NABU: {
        Sensitivity.LOW: OperatingPoint(0.5, 3, 0.9),
        Sensitivity.NORMAL: OperatingPoint(0.05, 1, 0.85),
        Sensitivity.HIGH: OperatingPoint(0.02, 1, 0.85),
    },
    WakeModelName.HEY_MYCROFT: {
        Sensitivity.LOW: OperatingPoint(0.8, 3, 0.97),
        Sensitivity.NORMAL: OperatingPoint(0.2, 1, 0.95),
        Sensitivity.HIGH: OperatingPoint(0.1, 1, 0.9),
    },
    WakeModelName.HEY_JARVIS: {
        Sensitivity.LOW: OperatingPoint(0.7, 3, 0.95),
        Sensitivity.NORMAL: OperatingPoint(0.5, 1, 0.9),
        Sensitivity.HIGH: OperatingPoint(0.2, 1, 0.8),
    },
    WakeModelName.ALEXA: {
        Sensitivity.LOW: OperatingPoint(0.9, 3, 0.97),
        Sensitivity.NORMAL: OperatingPoint(0.6, 3, 0.95),
        Sensitivity.HIGH: OperatingPoint(0.3, 1, 0.9),
    },
}

# Speex noise suppression in front of each model when the setting is unset (dB, 0 = off), measured on the
# validation set: it lifts okay_nabu in kitchen and fan noise, and costs alexa and hey_mycroft clean wakes.
NOISE_SUPPRESSION_DB: dict[WakeModelName, int] = {
    WakeModelName.OKAY_NABU: -20,
    WakeModelName.HEY_MYCROFT: 0,
    WakeModelName.HEY_JARVIS: 0,
    WakeModelName.ALEXA: 0,
}

# What Whisper is primed with, and which words count as hearing the wake word (lower case, letters only). In
# noise Whisper hears "okay nabu" as "okay, now ..." or "okay, uh, move": "okay" then an n-word or a filler.
_WAKE_CHECKS: dict[WakeModelName, tuple[str, re.Pattern[str]]] = {
    WakeModelName.OKAY_NABU: (
        "Okay Nabu, add two cases of milk. Okay, thanks.",
        re.compile(r"\b(okay|ok|okey|o k) (n|(uh|um|ah|er)\b)|\bna+ ?b(u|oo|o)\b"),
    ),
    WakeModelName.HEY_JARVIS: (
        "Hey Jarvis, add two cases of milk. Hey, thanks.",
        re.compile(r"\bhey j|\bjarvis"),
    ),
    WakeModelName.HEY_MYCROFT: (
        "Hey Mycroft, add two cases of milk. Hey, thanks.",
        re.compile(r"\bhey m[iy]|\bm[iy] ?cr|\bmicrosoft"),
    ),
    WakeModelName.ALEXA: ("Alexa, add two cases of milk. Thanks.", re.compile(r"\balex|\ba lex")),
}
CHECK_SECONDS = 2.0  # audio the transcript check looks at, ending at the wake

_FEATURE_STEP_S = 0.010  # one feature frame per 10 ms of audio
_FEATURE_WINDOW_S = 0.030  # each frame covers 30 ms
_DITHER_LSB = 3.0  # noise floor added to the audio: the models misjudge stretches of exact digital silence


def operating_point(model: WakeModelName, sensitivity: Sensitivity) -> OperatingPoint:
    return OPERATING_POINTS[model][sensitivity]


def noise_suppression_db(settings: Settings) -> int:
    """The suppression the wake model hears through: the setting, or the model's measured choice."""
    if settings.wake_noise_suppression_db is not None:
        return settings.wake_noise_suppression_db
    return NOISE_SUPPRESSION_DB[settings.wake_model]


def confirms_wake(model: WakeModelName, transcript: str) -> bool:
    """Whether a transcript of the audio ending at a wake contains the wake word (loosely: "okay, now" passes)."""
    words = " ".join(re.sub(r"[^a-z]+", " ", transcript.lower()).split())
    return bool(_WAKE_CHECKS[model][1].search(words))


@dataclass(frozen=True)
class WakeFire:
    """The decider fired: the averaged score, and whether it stayed below ``sure`` (so wants the check)."""

    score: float
    borderline: bool = False


class WakeDecider:
    """Decides wakes from per-frame probabilities: window average >= cutoff, then a refractory time.

    With ``sure`` set, a score between ``cutoff`` and ``sure`` is held until ``HOLD_S`` of audio has passed since
    its best score (so the check hears the whole word): if the average reaches ``sure`` meanwhile it fires at
    once, else it fires as borderline with that best score. After a
    fire (or ``suppress_until``) the window is cleared, so a wake needs ``window`` fresh frames. A borderline fire
    the check turns down is ``withdraw``n: no refractory follows it, but until the refractory would have ended
    only a higher score fires (the "nabu" after an "okay" that fired early, not the same murmur again).
    """

    HOLD_S = 0.3
    MAX_HOLD_S = 1.0  # a score that keeps creeping up is checked after this long all the same

    def __init__(self, *, cutoff: float, window: int, refractory_s: float, sure: float | None = None) -> None:
        if not 0 < cutoff <= 1:
            raise ValueError(f"wake cutoff must be in (0, 1], got {cutoff}")
        if window < 1:
            raise ValueError(f"wake window must be at least 1 frame, got {window}")
        self.cutoff = cutoff
        self.window = window
        self.refractory_s = refractory_s
        self.sure = sure
        self._recent: deque[float] = deque(maxlen=window)
        self._quiet_until = float("-inf")
        self._suppressed_until = float("-inf")  # the unit's own speech: a withdrawn fire keeps this
        # (audio time it crossed the cutoff, audio time of the best score, best score)
        self._held: tuple[float, float, float] | None = None
        self._bar: tuple[float, float] = (float("-inf"), 0.0)  # (until, score) a withdrawn fire leaves
        self._last_fire: tuple[float, float] = (float("-inf"), 0.0)  # (audio time, score)

    @classmethod
    def from_settings(cls, settings: Settings) -> WakeDecider:
        point = operating_point(settings.wake_model, settings.wake_sensitivity)
        cutoff = settings.wake_threshold if settings.wake_threshold is not None else point.cutoff
        sure = max(point.sure, cutoff) if settings.wake_confirm else None
        return cls(cutoff=cutoff, window=point.window, refractory_s=settings.wake_refractory_s, sure=sure)

    def feed(self, at_s: float, probability: float) -> WakeFire | None:
        if self._held is None and at_s < self._quiet_until:
            self._recent.clear()
            return None
        self._recent.append(probability)
        score = sum(self._recent) / self.window if len(self._recent) == self.window else 0.0
        if self._held is not None:
            crossed, peak_at, best = self._held
            if self.sure is not None and score >= self.sure:
                return self._fire(at_s, score, borderline=False)
            too_long = at_s - crossed >= self.MAX_HOLD_S
            if score > best and not too_long:
                self._held = (crossed, at_s, score)  # still rising: the word is not over yet
                return None
            if at_s - peak_at >= self.HOLD_S or too_long:
                return self._fire(at_s, max(best, score), borderline=True)
            return None
        if len(self._recent) < self.window or score < self.cutoff:
            return None
        until, bar = self._bar
        if at_s < until and score <= bar:
            return None
        if self.sure is not None and score < self.sure:
            self._held = (at_s, at_s, score)
            return None
        return self._fire(at_s, score, borderline=False)

    def _fire(self, at_s: float, score: float, *, borderline: bool) -> WakeFire:
        self._recent.clear()
        self._held = None
        self._quiet_until = at_s + self.refractory_s
        self._last_fire = (at_s, score)
        return WakeFire(score, borderline)

    def withdraw(self) -> None:
        """The last fire was not a wake (its transcript check said no): lift its refractory, and until that
        would have ended let only a higher score fire."""
        at_s, score = self._last_fire
        self._quiet_until = self._suppressed_until
        self._bar = (at_s + self.refractory_s, score)

    def suppress_until(self, at_s: float) -> None:
        """No wake before audio time ``at_s`` (used while the unit itself is speaking)."""
        self._suppressed_until = max(self._suppressed_until, at_s)
        self._quiet_until = max(self._quiet_until, at_s)
        self._recent.clear()
        self._held = None

    def reset(self) -> None:
        """Forget the frames in the window and a held score (the refractory and suppression times stay)."""
        self._recent.clear()
        self._held = None


@dataclass(frozen=True)
class WakeCheck:
    """One transcript check of a borderline wake (kept for ``larder wake test`` and the logs)."""

    at_s: float
    score: float
    transcript: str
    accepted: bool


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


class MicroWakeWordDetector:
    """``WakeDetector`` over a built-in microWakeWord model, deciding with a ``WakeDecider``.

    Times (``WakeHit.at_s``, ``now_s``) count the audio this detector has been fed, so the runner should feed
    it every chunk of the stream (it is cheap: a few ms of CPU per second of audio). A borderline wake is passed
    to ``transcribe`` (blocking, ~0.5 s on x86) when one is given; if it fails, the wake counts.
    """

    def __init__(
        self,
        model: WakeModelName,
        decider: WakeDecider,
        transcribe: Transcribe | None = None,
        *,
        noise_suppression_db: int = 0,
    ) -> None:
        self.model = model.value
        self.decider = decider
        self.transcribe = transcribe
        self.checks: deque[WakeCheck] = deque(maxlen=100)
        self._name = model
        self._network, self._features = _load_model(model)
        self._stride: int = self._network.stride  # feature frames per inference
        self._frames = 0  # feature frames produced since the last reset
        self._frame_base_s = 0.0  # audio time of the last reset
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
        )

    @property
    def now_s(self) -> float:
        """Audio time fed so far (seconds)."""
        return self._samples / SAMPLE_RATE

    def frames(self, chunk: Audio) -> list[tuple[float, float]]:
        """Run the model on a chunk: ``(audio time at the frame's end, probability)`` per inference."""
        self._samples += len(chunk)
        self._recent.append(chunk)
        noisy = np.asarray(chunk, dtype=np.float64) + self._dither.normal(0.0, _DITHER_LSB, len(chunk))
        audio = np.clip(np.round(noisy), -32768, 32767).astype(np.int16)
        if self._denoise is not None:
            audio = self._denoise.process(audio)
        pcm = audio.astype("<i2").tobytes()
        out: list[tuple[float, float]] = []
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
            fire = self.decider.feed(at_s, probability)
            if fire is not None and hit is None and self._accept(at_s, fire):
                hit = WakeHit(model=self.model, score=fire.score, at_s=at_s)
        return hit

    def _accept(self, at_s: float, fire: WakeFire) -> bool:
        if self.transcribe is None or not fire.borderline:
            return True
        score = fire.score
        audio = np.concatenate(list(self._recent))[-round(CHECK_SECONDS * SAMPLE_RATE) :]
        try:
            text = self.transcribe(audio, _WAKE_CHECKS[self._name][0])
        except (LarderError, ImportError, OSError, RuntimeError) as exc:
            log.warning("wake check failed (%s): waking anyway", exc)
            return True
        accepted = confirms_wake(self._name, text)
        if not accepted:
            self.decider.withdraw()
        self.checks.append(WakeCheck(at_s=at_s, score=score, transcript=text, accepted=accepted))
        log.info(
            "borderline wake %.2f at %.2f s: heard %r, %s",
            score,
            at_s,
            text,
            "woke" if accepted else "ignored",
        )
        return accepted

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
        self._recent.clear()
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

    def drain(self, seconds: float | None = None) -> list[Audio]:
        """The last ``seconds`` (default: all) of buffered chunks, oldest first; the buffer is left empty."""
        chunks = list(self._chunks)
        self._chunks.clear()
        if seconds is not None:
            keep = max(1, round(seconds / CHUNK_SECONDS))
            chunks = chunks[-keep:]
        return chunks

    def clear(self) -> None:
        self._chunks.clear()


if TYPE_CHECKING:  # mypy proves the class implements the protocol
    _detector: WakeDetector = MicroWakeWordDetector(
        WakeModelName.OKAY_NABU, WakeDecider(cutoff=0.5, window=1, refractory_s=0)
    )
