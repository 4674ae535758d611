"""Finding sound devices by name fragment or index, with plain-words errors naming what exists.

sounddevice is imported lazily: on Linux its wheel carries no PortAudio, and ``import sounddevice`` raises
``OSError`` when Debian's ``libportaudio2`` is missing (NOTES.md section 2).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from device.errors import AudioError

Kind = Literal["input", "output"]
_NOUN = {"input": "microphone", "output": "speaker"}


def sounddevice() -> Any:
    """The sounddevice module, or an ``AudioError`` saying how to get PortAudio."""
    try:
        import sounddevice as sd
    except OSError as exc:
        raise AudioError(
            f"the PortAudio sound library is missing ({exc})",
            hint="install it: sudo apt-get install libportaudio2",
        ) from None
    return sd


@dataclass(frozen=True)
class DeviceInfo:
    index: int
    name: str
    channels: int  # input or output channels, by kind
    default_rate: int

    def describe(self) -> str:
        return f"{self.index}: {self.name} ({self.channels} ch, {self.default_rate} Hz)"


def list_devices(kind: Kind) -> list[DeviceInfo]:
    """Devices with at least one channel of ``kind``."""
    sd = sounddevice()
    try:
        raw = list(sd.query_devices())
    except sd.PortAudioError as exc:
        raise AudioError(f"cannot list sound devices: {exc}") from None
    key = "max_input_channels" if kind == "input" else "max_output_channels"
    return [
        DeviceInfo(int(d["index"]), str(d["name"]), int(d[key]), int(d["default_samplerate"]))
        for d in raw
        if int(d[key]) > 0
    ]


def missing(kind: Kind, wanted: str, present: list[DeviceInfo], why: str = "") -> AudioError:
    """The error for a device that cannot be found or opened, naming the one wanted and those present."""
    names = "; ".join(d.describe() for d in present) or "none"
    noun = _NOUN[kind]
    setting = "LARDER_MIC_DEVICE" if kind == "input" else "LARDER_SPEAKER_DEVICE"
    detail = f" ({why})" if why else ""
    return AudioError(
        f"no {noun} '{wanted or 'default'}'{detail}; devices present: {names}",
        hint=f"plug the {noun} in, or set {setting} to a name fragment or index from that list",
    )


def find_device(kind: Kind, wanted: str) -> DeviceInfo:
    """The device named by ``wanted``: an index, a case-insensitive name fragment, or "" for the default."""
    present = list_devices(kind)
    wanted = wanted.strip()
    if wanted.isdigit():
        for info in present:
            if info.index == int(wanted):
                return info
        raise missing(kind, wanted, present)
    if wanted:
        for info in present:
            if wanted.lower() in info.name.lower():
                return info
        raise missing(kind, wanted, present)
    sd = sounddevice()
    try:
        default = sd.query_devices(kind=kind)
    except (sd.PortAudioError, ValueError):
        raise missing(kind, wanted, present, "there is no default device") from None
    for info in present:
        if info.name == default["name"]:
            return info
    raise missing(kind, wanted, present, "the default device has no channels of that kind")
