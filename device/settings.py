"""The one settings object for Larder, loaded once at start and passed down.

Every field reads from an environment variable named ``LARDER_<FIELD>`` (upper case) and, when it exists and can
be read, from the env file ``/etc/larder/larder.env`` (or the file named by ``LARDER_ENV_FILE``). Environment
variables win over the file. A bad value raises ``ConfigError`` naming the variable, the value given and the form
expected, never a pydantic traceback.
"""

from __future__ import annotations

import os
import unicodedata
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from device.errors import ConfigError

DEFAULT_ENV_FILE = Path("/etc/larder/larder.env")
SERVICE_DATA_DIR = Path("/var/lib/larder")


def default_data_dir() -> Path:
    """Where the store lives when ``LARDER_DATA_DIR`` is not set.

    Under systemd (``StateDirectory=larder`` sets ``STATE_DIRECTORY``) it is ``/var/lib/larder``; for a person
    running the CLI it is ``$XDG_DATA_HOME/larder`` (``~/.local/share/larder``).
    """
    state = os.environ.get("STATE_DIRECTORY")
    if state:
        return Path(state.split(":")[0])
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "share"
    return base / "larder"


class SttEngine(StrEnum):
    """Which speech-to-text engine answers."""

    AUTO = "auto"  # Deepgram when a key is set, else Whisper
    DEEPGRAM = "deepgram"
    WHISPER = "whisper"


class WhisperModelName(StrEnum):
    """Offline Whisper models that ship inside registry packages."""

    TINY_EN = "tiny.en"
    BASE = "base"


class WakeModelName(StrEnum):
    """The built-in microWakeWord models."""

    OKAY_NABU = "okay_nabu"
    HEY_JARVIS = "hey_jarvis"
    HEY_MYCROFT = "hey_mycroft"
    ALEXA = "alexa"


class Sensitivity(StrEnum):
    """Wake-word sensitivity, mapped to measured operating points."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"


class LedKind(StrEnum):
    """How the status light is wired."""

    NONE = "none"
    SINGLE = "single"
    RGB = "rgb"


_FORMS = {
    "int_parsing": "a whole number",
    "float_parsing": "a number",
    "bool_parsing": "true or false",
    "enum": "one of the listed choices",
    "greater_than": "a larger number",
    "greater_than_equal": "a larger number",
    "less_than": "a smaller number",
    "less_than_equal": "a smaller number",
    "url_parsing": "a URL",
}


class Settings(BaseSettings):
    """Everything a technician can set. Field docs are the reference (`larder config` prints them)."""

    model_config = SettingsConfigDict(
        env_prefix="LARDER_",
        env_file_encoding="utf-8",
        extra="ignore",
        validate_default=True,
    )

    # --- unit identity and storage ---
    data_dir: Path = Field(default_factory=default_data_dir, description="Folder for the store and state.")
    device_id: str = Field(
        default="", description="This unit's id; empty means one is made and kept in the store."
    )
    site: str = Field(default="demo", description="Site (kitchen) this unit belongs to.")
    log_level: str = Field(default="INFO", description="Log level: DEBUG, INFO, WARNING or ERROR.")

    # --- audio ---
    mic_device: str = Field(default="", description="Microphone by name fragment or index; empty = default.")
    mic_channel: int = Field(
        default=0, ge=0, description="Input channel of a multi-channel mic array (0-based)."
    )
    speaker_device: str = Field(default="", description="Speaker by name fragment or index; empty = default.")
    mic_retry_s: float = Field(
        default=5.0, gt=0, description="Seconds between tries to reopen a lost microphone."
    )

    # --- wake word ---
    wake_model: WakeModelName = Field(
        default=WakeModelName.OKAY_NABU, description="Built-in wake word model."
    )
    wake_sensitivity: Sensitivity = Field(
        default=Sensitivity.HIGH,
        description="low, normal or high: measured operating points (docs/wake.md). high wakes for the most "
        "cooks in noise; pick a lower one where `larder wake test --input` on a site recording (or `larder "
        "doctor`) finds more than 1 false wake an hour.",
    )
    wake_threshold: float | None = Field(
        default=None, gt=0, lt=1, description="Override the sensitivity's probability cutoff (0-1)."
    )
    wake_refractory_s: float = Field(
        default=2.0,
        ge=0,
        description="Seconds after a wake when no new wake counts (after one the check turned down, only a "
        "higher score does).",
    )
    wake_confirm: bool = Field(
        default=True,
        description="Check a borderline wake word with a short Whisper transcript before waking.",
    )
    wake_noise_suppression_db: int | None = Field(
        default=None,
        ge=-60,
        le=0,
        description="Speex noise suppression (dB) on the audio the wake word model hears; 0 turns it off, "
        "unset = the model's measured choice (okay_nabu -20, the others off). Speech-to-text always gets the "
        "microphone's own audio.",
    )
    wake_lowered_voice: bool = Field(
        default=True,
        description="Also run the wake model on the audio with voices lowered (pitch and formants x 16/19), "
        "checking each of its fires with Whisper: it catches high voices in noise. Only where measured "
        "(okay_nabu at normal and high sensitivity) and with wake_confirm on; ~0.6% of a core.",
    )
    preroll_s: float = Field(
        default=0.3, ge=0, le=3, description="Audio kept from before the wake (seconds)."
    )

    # --- endpointing ---
    vad_threshold: float = Field(
        default=0.5, gt=0, lt=1, description="Silero speech probability that starts a command."
    )
    vad_hold_threshold: float = Field(
        default=0.7,
        gt=0,
        lt=1,
        description="Silero probability a chunk needs to keep a started command going (clatter scores lower).",
    )
    vad_gate: int | None = Field(
        default=1,
        ge=0,
        le=3,
        description="WebRTC VAD aggressiveness (0-3) of the cheap gate that spares Silero clear silence "
        "(halves its CPU, same endpoints on the bench set); 'off': Silero scores every chunk.",
    )
    end_silence_s: float = Field(default=0.5, gt=0, description="Silence that ends a command (seconds).")
    draft_after_s: float = Field(
        default=0.05,
        ge=0,
        description="Pause after which Whisper starts on the words so far, to be ready at the end (0: off); "
        "a draft the cook speaks past is dropped after Whisper's encoder.",
    )
    semantic_endpointing: bool = Field(
        default=True,
        description="End the turn once the words heard so far (Whisper's draft, Deepgram's interim) close a "
        "confident command, after semantic_hold_s instead of end_silence_s; words that stop mid-phrase "
        "('add three cartons of') wait up to semantic_open_silence_s. Off: end_silence_s alone ends a command.",
    )
    semantic_pause_s: float = Field(
        default=0.1,
        gt=0,
        description="Pause at which Deepgram is asked for the final transcript of the words so far (seconds), "
        "unless they stop mid-phrase; its answer, judged in turn, ends the turn or holds it open.",
    )
    semantic_hold_s: float = Field(
        default=0.35,
        gt=0,
        description="Pause after a complete command that ends the turn (seconds); speech that resumes before "
        "then joins the same command, so nothing half-said is applied.",
    )
    semantic_open_silence_s: float = Field(
        default=1.0,
        gt=0,
        description="Silence that ends words which stop mid-phrase ('move the oat milk to') (seconds).",
    )
    min_command_s: float = Field(
        default=0.25, ge=0, description="Shortest speech that counts as a command (a quick 'no' is 0.3 s)."
    )
    max_command_s: float = Field(
        default=10.0, gt=0, description="Longest command before it is cut (seconds)."
    )
    no_speech_timeout_s: float = Field(
        default=4.0, gt=0, description="Give up when no speech follows the wake."
    )

    # --- speech to text ---
    stt: SttEngine = Field(default=SttEngine.AUTO, description="auto, deepgram or whisper.")
    whisper_model: WhisperModelName = Field(default=WhisperModelName.TINY_EN, description="tiny.en or base.")
    whisper_threads: int = Field(default=2, ge=1, le=16, description="CPU threads for Whisper.")
    models_dir: Path | None = Field(default=None, description="Where joined model files live (base model).")
    deepgram_url: str = Field(
        default="wss://api.deepgram.com/v1/listen", description="Deepgram live endpoint."
    )
    deepgram_api_key: SecretStr | None = Field(default=None, description="Deepgram API key (secret).")
    deepgram_model: str = Field(default="nova-3", description="Deepgram model name.")
    deepgram_timeout_s: float = Field(
        default=1.5, gt=0, description="Wait for a final transcript after Finalize."
    )

    # --- language ---
    llm_base_url: str = Field(default="", description="OpenAI-compatible base URL; empty disables the LLM.")
    llm_model: str = Field(default="gpt-4o-mini", description="LLM model name.")
    llm_api_key: SecretStr | None = Field(default=None, description="LLM API key (secret).")
    llm_timeout_s: float = Field(default=2.5, gt=0, description="Time box for one LLM call (seconds).")
    min_confidence: float = Field(
        default=0.6, ge=0, le=1, description="Below this a parse counts as unclear."
    )
    apply_confidence: float = Field(
        default=0.85,
        ge=0,
        le=1,
        description="A stock change read with less confidence than this asks first (a number heard as a "
        "sound-alike, a unit or item matched by sound, words the grammar could not place).",
    )
    score_readings: bool = Field(
        default=True,
        description="Offline Whisper scores readings near each hearing (sound-alike numbers and units) on the "
        "encoded audio; a close rival that means another change is asked about, never applied silently.",
    )

    # --- dialogue ---
    confirm_window_s: float = Field(default=8.0, gt=0, description="Time to confirm or cancel (seconds).")
    followup_s: float = Field(default=5.0, gt=0, description="Listening for an answer without the wake word.")
    large_quantity_factor: float = Field(
        default=3.0, gt=0, description="A change above this many times par (or stock) asks first."
    )
    max_quantity: float = Field(default=10000, gt=0, description="Quantities above this are refused.")

    # --- replies ---
    tts_cache_dir: Path | None = Field(
        default=None, description="Pre-rendered phrases; default under data_dir."
    )
    volume: float = Field(default=1.0, ge=0, le=2, description="Reply loudness factor.")

    # --- GPIO ---
    gpio: bool = Field(default=True, description="Use buttons and LEDs when the board has GPIO.")
    confirm_pin: int = Field(default=17, ge=0, description="BCM pin of the confirm button.")
    cancel_pin: int = Field(default=27, ge=0, description="BCM pin of the cancel button.")
    led: LedKind = Field(default=LedKind.SINGLE, description="none, single or rgb.")
    led_pins: str = Field(default="22", description="LED pin, or red,green,blue pins for rgb.")
    long_press_s: float = Field(default=2.0, gt=0, description="Hold cancel this long to mute.")
    mute_s: float = Field(default=900.0, gt=0, description="How long a long press mutes the microphone.")

    # --- cloud sync ---
    supabase_url: str = Field(default="", description="Supabase project URL; empty disables sync.")
    supabase_key: SecretStr | None = Field(
        default=None, description="Publishable (anon) key; never service_role."
    )
    provisioning_code: SecretStr | None = Field(
        default=None, description="One-time code for device credentials."
    )
    sync_batch: int = Field(default=500, ge=1, le=5000, description="Events per upload batch.")
    sync_interval_s: float = Field(default=5.0, gt=0, description="Seconds between sync passes.")

    # --- the unit's web page ---
    web_enabled: bool = Field(default=True, description="Serve the unit's page (live feed, stock, journal).")
    web_host: str = Field(default="0.0.0.0", description="Address the page listens on (0.0.0.0: every one).")
    web_port: int = Field(default=8080, ge=0, le=65535, description="Port of the page (0: any free port).")
    screen_pin_hash: SecretStr | None = Field(
        default=None,
        description="Salted scrypt hash of the PIN for changes made on the page (install.sh --screen-pin); "
        "unset: the page is read-only.",
    )

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("one of DEBUG, INFO, WARNING, ERROR")
        return level

    @field_validator("vad_gate", mode="before")
    @classmethod
    def _gate_off(cls, value: object) -> object:
        return None if isinstance(value, str) and value.strip().lower() in {"", "off", "none"} else value

    @field_validator("data_dir", mode="before")
    @classmethod
    def _default_when_blank(cls, value: object) -> object:
        return default_data_dir() if isinstance(value, str) and not value.strip() else value

    @field_validator("device_id", "site", "mic_device")
    @classmethod
    def _plain_text(cls, value: str) -> str:
        if any(unicodedata.category(c) in ("Cc", "Cs") for c in value):
            raise ValueError("plain text (no control characters or undecodable bytes)")
        return value

    @field_validator("deepgram_url", "llm_base_url", "supabase_url")
    @classmethod
    def _tls(cls, value: str) -> str:
        return require_tls(value)

    @property
    def db_path(self) -> Path:
        return self.data_dir / "larder.db"

    def secrets(self) -> list[str]:
        """Every secret value set, so logs and the journal can scrub them."""
        values = [self.deepgram_api_key, self.llm_api_key, self.supabase_key, self.provisioning_code]
        return [v.get_secret_value() for v in values if v is not None and v.get_secret_value()]


def require_tls(url: str) -> str:
    """Cloud endpoints must use TLS unless they are on this machine (loopback)."""
    if not url:
        return url
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme not in {"http", "https", "ws", "wss"} or not parts.hostname:
        raise ValueError("a URL such as https://host/path")
    loopback = parts.hostname in {"localhost", "::1"} or parts.hostname.startswith("127.")
    if parts.scheme in {"http", "ws"} and not loopback:
        raise ValueError("an https:// or wss:// URL (plain http is allowed only on 127.0.0.1)")
    return url


def env_file() -> Path | None:
    """The env file to read, if there is one this process may read."""
    path = Path(os.environ.get("LARDER_ENV_FILE", str(DEFAULT_ENV_FILE)))
    try:  # the service user may not even look inside /etc/larder (0700): systemd hands it the values
        readable = path.is_file() and os.access(path, os.R_OK)
    except OSError:
        return None
    return path if readable else None


def _explain(error: ValidationError) -> str:
    lines = []
    for err in error.errors():
        field = str(err["loc"][0]) if err["loc"] else "?"
        given = err.get("input")
        if isinstance(given, str | int | float | bool) and field not in _SECRET_FIELDS:
            shown = repr(given)
        else:
            shown = "the value given"
        ctx = err.get("ctx") or {}
        if err["type"] == "enum" and "expected" in ctx:
            form = f"one of {ctx['expected']}"
        elif err["type"] == "value_error":
            form = str(ctx.get("error", err["msg"]))
        else:
            form = _FORMS.get(err["type"], err["msg"])
            if "gt" in ctx:
                form += f" above {ctx['gt']}"
            if "ge" in ctx:
                form += f" of at least {ctx['ge']}"
            if "lt" in ctx:
                form += f" below {ctx['lt']}"
            if "le" in ctx:
                form += f" of at most {ctx['le']}"
        lines.append(f"LARDER_{field.upper()}: got {shown}, expected {form}")
    return "; ".join(lines)


_SECRET_FIELDS = {"deepgram_api_key", "llm_api_key", "supabase_key", "provisioning_code"}


def load_settings(**overrides: Any) -> Settings:
    """Load the settings once (environment, then env file); a bad value becomes a ``ConfigError``."""
    path = env_file()
    where = path or Path(os.environ.get("LARDER_ENV_FILE", str(DEFAULT_ENV_FILE)))
    try:
        return Settings(_env_file=path, **overrides)  # type: ignore[call-arg]
    except ValidationError as exc:
        raise ConfigError(
            f"invalid setting: {_explain(exc)}", hint=f"fix it in {where} or the environment"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the env file {where}: {exc}") from None
