"""The grammar stays light: importing it must not pull in numpy or the speech libraries (``larder parse`` starts
fast). Checked in a fresh interpreter, so other tests' imports don't hide a regression."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HEAVY = (
    "numpy",
    "onnxruntime",
    "faster_whisper",
    "ctranslate2",
    "sounddevice",
    "piper",
    "httpx",
    "sqlite_utils",
)


def test_grammar_import_is_light() -> None:
    code = f"import sys, device.intent.grammar; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == ""
