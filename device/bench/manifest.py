"""The benchmark manifest: one JSON object per line, read into checked ``Entry`` values.

Each line has ``path`` (a 16 kHz WAV, relative paths resolve against the manifest's folder) and optionally
``text`` (what was said), ``speech_end_s`` (where speech ends in the file), ``expect`` (some or all of the seven
keys of ``larder parse --json``), ``cond`` (a condition label such as ``piper-10dB``) and ``catalog`` (a
catalogue CSV for this file). A line that cannot be used becomes a ``LineError`` naming the line and the
problem; the lines around it are still read. Blank lines and lines starting with ``#`` are skipped.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from device.bench.metrics import SEVEN_KEYS
from device.errors import BenchError

_KNOWN = {"path", "text", "speech_end_s", "expect", "cond", "catalog", "id"}
_STRING_KEYS = ("action", "item", "unit", "location", "to_location")


class ManifestError(BenchError):
    """The manifest itself cannot be read (missing, unreadable, not UTF-8)."""


@dataclass(frozen=True)
class Entry:
    """One usable manifest line."""

    line: int
    path: Path
    text: str | None = None
    speech_end_s: float | None = None
    expect: dict[str, Any] | None = None
    cond: str | None = None
    catalog: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"line {self.line} ({self.path.name})"


@dataclass(frozen=True)
class LineError:
    """A manifest line that could not be used, and why (in plain words)."""

    line: int
    message: str
    cond: str | None = None
    has_expect: bool = False
    text: str | None = None


def read_manifest(path: Path) -> tuple[list[Entry], list[LineError]]:
    """Every usable entry and every bad line of the manifest at ``path``, in file order."""
    path = Path(path)
    try:
        content = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ManifestError(f"the manifest {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestError(f"cannot read the manifest {path}: {exc}") from None
    return parse_manifest(content, path.resolve().parent)


def parse_manifest(content: str, base: Path) -> tuple[list[Entry], list[LineError]]:
    """Parse manifest text; relative ``path`` and ``catalog`` values resolve against ``base``."""
    entries: list[Entry] = []
    errors: list[LineError] = []
    for number, raw in enumerate(content.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(
                LineError(number, f"line {number} is not valid JSON ({exc.msg} at column {exc.colno})")
            )
            continue
        if not isinstance(data, dict):
            errors.append(LineError(number, f"line {number} is not a JSON object"))
            continue
        try:
            entries.append(_entry(number, data, base))
        except ValueError as exc:
            errors.append(
                LineError(
                    number,
                    f"line {number}: {exc}",
                    cond=data.get("cond") if isinstance(data.get("cond"), str) else None,
                    has_expect=isinstance(data.get("expect"), dict),
                    text=data.get("text") if isinstance(data.get("text"), str) else None,
                )
            )
    return entries, errors


def _entry(number: int, data: dict[str, Any], base: Path) -> Entry:
    path = data.get("path")
    if not isinstance(path, str) or not path.strip():
        raise ValueError('needs "path": the WAV file, as a string')
    text = data.get("text")
    if text is not None and not isinstance(text, str):
        raise ValueError('"text" must be a string')
    end = data.get("speech_end_s")
    if end is not None:
        if isinstance(end, bool) or not isinstance(end, int | float) or not math.isfinite(end) or end < 0:
            raise ValueError(f'"speech_end_s" must be a number of seconds (0 or more), got {end!r}')
        end = float(end)
    cond = data.get("cond")
    if cond is not None and not isinstance(cond, str):
        raise ValueError('"cond" must be a string')
    catalog = data.get("catalog")
    if catalog is not None and not isinstance(catalog, str):
        raise ValueError('"catalog" must be the path of a catalogue CSV, as a string')
    return Entry(
        line=number,
        path=_resolve(path, base),
        text=text,
        speech_end_s=end,
        expect=_expect(data.get("expect")),
        cond=cond,
        catalog=_resolve(catalog, base) if catalog else None,
        extra={k: v for k, v in data.items() if k not in _KNOWN},
    )


def _resolve(value: str, base: Path) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path


def _expect(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ValueError('"expect" must be an object with the keys of `larder parse --json`')
    unknown = sorted(set(value) - set(SEVEN_KEYS))
    if unknown:
        raise ValueError(f'"expect" has unknown keys {", ".join(unknown)} (allowed: {", ".join(SEVEN_KEYS)})')
    if not value:
        raise ValueError('"expect" is empty: give at least "action"')
    for key in _STRING_KEYS:
        if key in value and value[key] is not None and not isinstance(value[key], str):
            raise ValueError(f'"expect.{key}" must be a string or null, got {value[key]!r}')
    for key in ("quantity", "confidence"):
        number = value.get(key)
        if number is not None and (isinstance(number, bool) or not isinstance(number, int | float)):
            raise ValueError(f'"expect.{key}" must be a number or null, got {number!r}')
    return dict(value)
