"""Wake-word detection: the pure decision (``decision``), the detector running the models and Whisper's check
(``detector``), and the pre-roll buffer (``preroll``)."""

from device.wake.decision import (
    LOWERED_VOICE,
    NOISE_SUPPRESSION_DB,
    OPERATING_POINTS,
    OperatingPoint,
    WakeDecider,
    WakeFire,
    check_prompt,
    confirms_wake,
    heard_too_early,
    operating_point,
)
from device.wake.detector import (
    CHECK_SECONDS,
    RECHECK_S,
    Listener,
    MicroWakeWordDetector,
    Transcribe,
    WakeCheck,
    noise_suppression_db,
    whisper_transcriber,
)
from device.wake.preroll import PreRoll

__all__ = [
    "CHECK_SECONDS",
    "LOWERED_VOICE",
    "NOISE_SUPPRESSION_DB",
    "OPERATING_POINTS",
    "RECHECK_S",
    "Listener",
    "MicroWakeWordDetector",
    "OperatingPoint",
    "PreRoll",
    "Transcribe",
    "WakeCheck",
    "WakeDecider",
    "WakeFire",
    "check_prompt",
    "confirms_wake",
    "heard_too_early",
    "noise_suppression_db",
    "operating_point",
    "whisper_transcriber",
]
