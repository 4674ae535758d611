"""A bench manifest of the spoken evaluation's ``heldout2`` commands (written last; no choice was tuned on them):
every voice of ``tests/spoken/harness.py`` x clean / kitchen 10 dB / kitchen 5 dB, 270 files. Clips are made once
in the spoken evaluation's cache; ``speech_end_s`` is the clean clip's last 10 ms frame above -45 dBFS.

    .venv/bin/python tools/make_heldout_manifest.py /tmp/heldout2.jsonl
    .venv/bin/larder bench --manifest /tmp/heldout2.jsonl --out /tmp/heldout2-bench
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from device.audio.wav import read_wav
from tests.spoken import harness


def speech_end_s(path: Path) -> float:
    audio = read_wav(path)[0].astype(np.float32) / 32768.0
    frames = audio[: audio.size // 160 * 160].reshape(-1, 160)
    loud = np.nonzero(np.sqrt((frames**2).mean(axis=1)) > 10 ** (-45 / 20))[0]
    return round(float((loud[-1] + 1) * 0.01), 2) if loud.size else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out", type=Path, help="the manifest to write (JSON lines)")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/spoken-cache"), help="where clips are kept")
    args = parser.parse_args()
    lines = []
    for line in harness.load("heldout2"):
        for voice in harness.VOICES.values():
            end = speech_end_s(harness.clip(args.cache, line, voice, harness.CONDITIONS["clean"]))
            for condition in harness.CONDITIONS.values():
                lines.append(
                    {
                        "path": str(harness.clip(args.cache, line, voice, condition)),
                        "text": ("okay nabu " if line.wake else "") + line.text,
                        "speech_end_s": end,
                        "cond": f"{voice.name}-{condition.name}",
                        "expect": {k: line.expect[k] for k in harness.KEYS},
                    }
                )
    args.out.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    print(f"{len(lines)} lines -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
