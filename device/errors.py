"""The one error tree for Larder.

Every failure a user or technician can see is a ``LarderError`` with a stable ``code``: the stage that failed
(``config``, ``store``, ``catalog``, ``audio``, ``wake``, ``vad``, ``stt``, ``intent``, ``dialogue``, ``tts``,
``gpio``, ``sync``, ``install``) and a plain-words ``message``. The CLI prints ``message`` (never a traceback) and
exits with ``exit_code``; the daemon logs it and keeps going where it can.
"""

from __future__ import annotations


class LarderError(Exception):
    """Base of every error Larder reports to a person."""

    code = "larder"
    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class ConfigError(LarderError):
    """A setting has a value of the wrong form, or the env file cannot be read."""

    code = "config"
    exit_code = 2


class StoreError(LarderError):
    """The local SQLite store cannot be opened, migrated or written."""

    code = "store"
    exit_code = 3


class CatalogError(LarderError):
    """A catalogue file has bad rows, or the catalogue is unusable."""

    code = "catalog"
    exit_code = 4


class AudioError(LarderError):
    """A microphone or speaker cannot be opened or stopped working."""

    code = "audio"
    exit_code = 5


class WakeError(LarderError):
    """The wake-word model cannot be loaded or run."""

    code = "wake"


class VadError(LarderError):
    """The voice-activity detector cannot be loaded or run."""

    code = "vad"


class SttError(LarderError):
    """Speech-to-text failed (a model that won't load, a cloud engine that didn't answer)."""

    code = "stt"


class IntentError(LarderError):
    """A transcript could not be resolved to a command (LLM errors, refused answers)."""

    code = "intent"


class DialogueError(LarderError):
    """A confirmation or undo could not be carried out."""

    code = "dialogue"


class TtsError(LarderError):
    """The reply voice cannot be loaded or run."""

    code = "tts"


class GpioError(LarderError):
    """Buttons or LEDs cannot be set up."""

    code = "gpio"


class SyncError(LarderError):
    """Talking to the cloud store failed."""

    code = "sync"


class BenchError(LarderError):
    """``larder bench`` cannot read its manifest or write its report."""

    code = "bench"


class StageTimeout(LarderError):
    """A pipeline stage ran past its time box."""

    code = "timeout"

    def __init__(self, stage: str, seconds: float) -> None:
        super().__init__(f"the {stage} stage took longer than {seconds:g} s")
        self.stage = stage
        self.seconds = seconds
