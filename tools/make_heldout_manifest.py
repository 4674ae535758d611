"""A bench manifest of the spoken evaluation's held-out commands (no choice was tuned on them): by default the
``heldout2`` split (written last) in every voice of ``tests/spoken/harness.py`` x clean / kitchen 10 dB / kitchen
5 dB, 270 files. Clips are made once in the spoken evaluation's cache; ``speech_end_s`` is the clean clip's last
10 ms frame above -45 dBFS.

``--pause`` makes each command with a pause of 0.35-0.5 s inside it, where a cook stops to think: before its
"of" ("add four cartons ... of soy milk to the walk-in"), else after its first number ("add eighteen ... eggs"),
else after its first word; commands of fewer than four words are left out. Each half is spoken by Piper on its
own and the halves are joined with the pause; the noise covers the whole clip.

    .venv/bin/python tools/make_heldout_manifest.py /tmp/heldout2.jsonl
    .venv/bin/python tools/make_heldout_manifest.py /tmp/heldout-piper.jsonl --splits heldout,heldout2 \\
        --voices piper-0.9,piper-1.15 --conditions clean,kitchen10 [--pause]
    .venv/bin/larder bench --manifest /tmp/heldout2.jsonl --out /tmp/heldout2-bench
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import zlib
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from device.audio.wav import read_wav, write_wav
from device.intent.numbers import ONES, TEENS, TENS
from device.protocols import SAMPLE_RATE
from tests import speech
from tests.spoken import harness

_NUMBER_WORDS = frozenset([*ONES, *TEENS, *TENS, "a", "dozen"])


def speech_end_s(path: Path) -> float:
    audio = read_wav(path)[0].astype(np.float32) / 32768.0
    frames = audio[: audio.size // 160 * 160].reshape(-1, 160)
    loud = np.nonzero(np.sqrt((frames**2).mean(axis=1)) > 10 ** (-45 / 20))[0]
    return round(float((loud[-1] + 1) * 0.01), 2) if loud.size else 0.0


def pause_point(text: str) -> int | None:
    """Index of the word a thinking pause comes before (see the module docstring); None: too short."""
    words = text.split()
    if len(words) < 4:
        return None
    if "of" in words[1:]:
        return words.index("of", 1)
    numbers = [i for i, word in enumerate(words[:-1]) if word in _NUMBER_WORDS and i > 0]
    return numbers[0] + 1 if numbers else 1


def pause_s(text: str) -> float:
    """0.35, 0.40, 0.45 or 0.50 s, the same for a command on every run."""
    return 0.35 + 0.05 * (zlib.crc32(text.encode()) % 4)


def paused_clip(root: Path, line: harness.Line, voice: harness.Voice, condition: harness.Condition) -> Path:
    """The WAV of ``line`` said with a pause inside it, synthesized on first use."""
    words = line.text.split()
    at = pause_point(line.text)
    assert at is not None
    key = f"pause|{line.text}|{voice}|{condition}|{harness.noise_seed(line.text)}"
    slug = "".join(c if c.isalnum() else "-" for c in line.text)[:40]
    path = root / "pause" / voice.name / condition.name / f"{slug}-{zlib.crc32(key.encode()):08x}.wav"
    if path.is_file():
        return path
    halves = [
        speech.trim(speech.say(" ".join(part), voice=voice.engine, length_scale=voice.length_scale))
        for part in (words[:at], words[at:])
    ]
    audio = speech.concat(
        speech.silence(0.8), halves[0], speech.silence(pause_s(line.text)), halves[1], speech.silence(1.5)
    )
    start, end = speech.speech_bounds(audio)
    u = condition.apply(speech.Utterance(audio, start, end, 0.8), harness.noise_seed(line.text))
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.tmp")
    write_wav(partial, u.audio, SAMPLE_RATE)
    partial.replace(path)
    return path


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out", type=Path, help="the manifest to write (JSON lines)")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/spoken-cache"), help="where clips are kept")
    parser.add_argument("--splits", default="heldout2", help="comma-separated splits (default heldout2)")
    parser.add_argument("--voices", default=",".join(harness.VOICES), help="comma-separated voice names")
    parser.add_argument(
        "--conditions", default=",".join(harness.CONDITIONS), help="comma-separated conditions"
    )
    parser.add_argument("--pause", action="store_true", help="each command with a 0.35-0.5 s pause inside")
    args = parser.parse_args()
    voices = [harness.VOICES[name] for name in args.voices.split(",")]
    conditions = [harness.CONDITIONS[name] for name in args.conditions.split(",")]
    lines = []
    for split in args.splits.split(","):
        for line in harness.load(split):
            if args.pause and pause_point(line.text) is None:
                continue
            make = paused_clip if args.pause else harness.clip
            for voice in voices:
                end = speech_end_s(make(args.cache, line, voice, harness.CONDITIONS["clean"]))
                for condition in conditions:
                    lines.append(
                        {
                            "path": str(make(args.cache, line, voice, condition)),
                            "text": ("okay nabu " if line.wake else "") + line.text,
                            "speech_end_s": end,
                            "cond": f"{voice.name}-{condition.name}" + ("-pause" if args.pause else ""),
                            "expect": {k: line.expect[k] for k in harness.KEYS},
                        }
                    )
    args.out.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    print(f"{len(lines)} lines -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
