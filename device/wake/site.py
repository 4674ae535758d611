"""A site's own wake-word test: a recording of the kitchen at work, with no one saying the wake word, heard at
every sensitivity at once, so every wake in it is a false wake.

``SiteTest`` runs one detector per sensitivity over the same audio; Whisper's check is shared between them
(the same audio is transcribed once) and its CPU time is counted per sensitivity. ``SiteResult`` is what
``larder wake test --input FILE`` keeps in the data folder, and ``suggest_sensitivity`` (pure) picks from it
the most sensitive point whose false wakes stay within ``MAX_FALSE_WAKES_PER_HOUR``, for ``larder doctor``.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from device.errors import WakeError
from device.files import write_atomic
from device.protocols import SAMPLE_RATE, Audio, WakeHit
from device.settings import Sensitivity, Settings
from device.wake.detector import MicroWakeWordDetector, Transcribe, WakeCheck, whisper_transcriber

MAX_FALSE_WAKES_PER_HOUR = 1.0  # the limit the default sensitivity was chosen against (docs/wake.md)
RESULT_FILE = "wake_site_test.json"
SENSITIVITIES = (Sensitivity.LOW, Sensitivity.NORMAL, Sensitivity.HIGH)  # least to most sensitive


def suggest_sensitivity(
    wakes: Mapping[Sensitivity, int], seconds: float, limit_per_hour: float = MAX_FALSE_WAKES_PER_HOUR
) -> Sensitivity:
    """The most sensitive point whose false wakes in ``seconds`` of site audio stay at or under
    ``limit_per_hour`` (in a 10-minute recording: none); low when none does."""
    allowed = limit_per_hour * seconds / 3600
    fitting = [s for s in SENSITIVITIES if s in wakes and wakes[s] <= allowed]
    return fitting[-1] if fitting else Sensitivity.LOW


@dataclass(frozen=True)
class SiteResult:
    """False wakes per sensitivity in one site recording, and what Whisper's checks cost there."""

    file: str
    seconds: float
    model: str
    wakes: dict[Sensitivity, int]
    checks: dict[Sensitivity, int]
    check_cpu_s: dict[Sensitivity, float]
    measured_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    def per_hour(self, sensitivity: Sensitivity) -> float:
        return self.wakes[sensitivity] * 3600 / self.seconds if self.seconds > 0 else 0.0

    @property
    def suggested(self) -> Sensitivity:
        return suggest_sensitivity(self.wakes, self.seconds)

    def to_json(self) -> dict[str, Any]:
        return {
            k: {str(s): n for s, n in v.items()} if isinstance(v, dict) else v
            for k, v in asdict(self).items()
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SiteResult:
        def per(key: str, kind: type) -> dict[Sensitivity, Any]:
            return {Sensitivity(s): kind(n) for s, n in dict(data[key]).items()}

        return cls(
            file=str(data["file"]),
            seconds=float(data["seconds"]),
            model=str(data["model"]),
            wakes=per("wakes", int),
            checks=per("checks", int),
            check_cpu_s=per("check_cpu_s", float),
            measured_at=str(data["measured_at"]),
        )

    def save(self, data_dir: Path) -> Path:
        """Write the result to the data folder (replacing the last one, atomically)."""
        path = data_dir / RESULT_FILE
        try:
            write_atomic(path, (json.dumps(self.to_json(), indent=1) + "\n").encode())
        except OSError as exc:
            raise WakeError(
                f"cannot save the wake test result in {data_dir}: {exc.strerror or exc}",
                hint="run it as the service's user or with sudo",
            ) from None
        return path

    @classmethod
    def load(cls, data_dir: Path) -> SiteResult | None:
        """The last saved result, or None when no site recording was tested."""
        path = data_dir / RESULT_FILE
        try:
            return cls.from_json(json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise WakeError(
                f"the saved wake test result {path} is unreadable ({exc})",
                hint="run `larder wake test --input FILE` on the site recording again",
            ) from None


@dataclass(frozen=True)
class Heard:
    """One detector's wake or check during a site test."""

    sensitivity: Sensitivity
    hit: WakeHit | None = None
    check: WakeCheck | None = None


class _SharedCheck:
    """Whisper's check shared by the detectors: audio already transcribed is answered from memory, with the
    CPU time its first transcription took (so each sensitivity is charged what it would cost alone)."""

    def __init__(self, transcribe: Transcribe) -> None:
        self._transcribe = transcribe
        self._seen: dict[str, tuple[str, float]] = {}
        self.cpu_s: dict[Sensitivity, float] = {}

    def for_sensitivity(self, sensitivity: Sensitivity) -> Transcribe:
        self.cpu_s[sensitivity] = 0.0

        def transcribe(audio: Audio, prompt: str) -> str:
            key = hashlib.sha1(audio.tobytes() + prompt.encode()).hexdigest()
            if key not in self._seen:
                started = time.process_time()
                text = self._transcribe(audio, prompt)
                self._seen[key] = (text, time.process_time() - started)
            text, cpu_s = self._seen[key]
            self.cpu_s[sensitivity] += cpu_s
            return text

        return transcribe


class SiteTest:
    """One wake detector per sensitivity over the same audio, fed chunk by chunk. With ``wake_confirm`` on and
    no ``transcribe`` given, the check loads its own Whisper when first needed."""

    def __init__(
        self,
        settings: Settings,
        transcribe: Transcribe | None,
        sensitivities: Sequence[Sensitivity] = SENSITIVITIES,
    ) -> None:
        self.model = settings.wake_model
        if settings.wake_confirm and transcribe is None:
            transcribe = whisper_transcriber(settings)
        self._shared = _SharedCheck(transcribe) if settings.wake_confirm and transcribe is not None else None
        self.detectors = {
            s: MicroWakeWordDetector.from_settings(
                settings.model_copy(update={"wake_sensitivity": s}),
                self._shared.for_sensitivity(s) if self._shared is not None else None,
            )
            for s in sensitivities
        }
        self.samples = 0
        self.wakes = dict.fromkeys(sensitivities, 0)
        self.checks = dict.fromkeys(sensitivities, 0)

    def feed(self, chunk: Audio) -> list[Heard]:
        """Every detector hears the chunk: their wakes and checks, in sensitivity order."""
        self.samples += len(chunk)
        heard: list[Heard] = []
        for sensitivity, detector in self.detectors.items():
            hit = detector.process(chunk)
            while detector.checks:
                self.checks[sensitivity] += 1
                heard.append(Heard(sensitivity, check=detector.checks.popleft()))
            if hit is not None:
                self.wakes[sensitivity] += 1
                heard.append(Heard(sensitivity, hit=hit))
        return heard

    def result(self, file: str, seconds: float | None = None) -> SiteResult:
        """The figures so far (``seconds``: the recording's own length, without any padding fed after it)."""
        cpu = self._shared.cpu_s if self._shared is not None else {}
        return SiteResult(
            file=file,
            seconds=round(self.samples / SAMPLE_RATE if seconds is None else seconds, 3),
            model=self.model.value,
            wakes=dict(self.wakes),
            checks=dict(self.checks),
            check_cpu_s={s: round(cpu.get(s, 0.0), 3) for s in self.wakes},
        )
