"""Make the benchmark set: spoken kitchen commands in several voices, clean and in kitchen noise, + a manifest.

    .venv/bin/python tools/make_bench_set.py                   # the small committed set in tests/data/bench/
    .venv/bin/python tools/make_bench_set.py --full /tmp/bench # every command x voice x noise (96 files)

Voices: Piper joe at two speaking rates, two espeak-ng voices. Noise: none, or the real kitchen recording
(tests/data/noise/kitchen.wav) at 10 dB and 5 dB SNR over the whole clip, silences included. The small set says
each command once per voice, the noise level rotating, so it stays under 3 MB. Each manifest line carries the
text, where speech ends (measured on the clean clip), the condition and the expected command, written by hand.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from device.audio.wav import write_wav
from device.protocols import SAMPLE_RATE
from tests import speech

ROOT = Path(__file__).resolve().parents[1]
SMALL_DIR = ROOT / "tests" / "data" / "bench"


def _cmd(
    action: str, item: str | None, quantity: float | None = None, unit: str | None = None, **more: str
) -> dict:
    return {
        "action": action,
        "item": item,
        "quantity": quantity,
        "unit": unit,
        "location": more.get("location"),
        "to_location": more.get("to_location"),
    }


#: (what is said, what `larder parse --json` should make of it; confidence is not compared)
COMMANDS = (
    ("add three cases of oat milk to the walk-in", _cmd("add", "oat milk", 3, "case", location="walk-in")),
    ("we used two pounds of butter", _cmd("use", "butter", 2, "pound")),
    ("how many bagels do we have", _cmd("query", "bagels")),
    (
        "move one case of croissants from the freezer to the walk-in",
        _cmd("move", "croissants", 1, "case", location="freezer", to_location="walk-in"),
    ),
    ("throw away six avocados", _cmd("waste", "avocados", 6)),
    ("we're out of almond milk", _cmd("out", "almond milk")),
    ("set whole milk to four gallons", _cmd("set", "whole milk", 4, "gallon")),
    (
        "add five bottles of vanilla syrup to the bar",
        _cmd("add", "vanilla syrup", 5, "bottle", location="bar"),
    ),
)
#: name -> (family for the condition label, speech.say keyword arguments)
VOICES = {
    "joe": ("piper", {"voice": "piper", "length_scale": 1.0}),
    "joe-slow": ("piper", {"voice": "piper", "length_scale": 1.25}),
    "espeak-us-m3": ("espeak", {"voice": "en-us+m3", "speed": 150}),
    "espeak-gb-rp": ("espeak", {"voice": "en-gb-x-rp", "speed": 140}),
}
NOISES = (("clean", None), ("10dB", 10.0), ("5dB", 5.0))
LEAD_S, TAIL_S = 0.25, 0.8  # the tail is longer than the endpointer's 0.5 s of silence, in the same noise


def make(out: Path, *, full: bool) -> int:
    clips = out / "clips"
    clips.mkdir(parents=True, exist_ok=True)
    lines = []
    for c, (text, expect) in enumerate(COMMANDS):
        for v, (voice, (family, kwargs)) in enumerate(VOICES.items()):
            clean = speech.utterance(text, wake=None, lead_s=LEAD_S, tail_s=TAIL_S, **kwargs)
            noises = NOISES if full else (NOISES[(c + v) % len(NOISES)],)
            for label, snr in noises:
                clip = clean if snr is None else speech.in_noise(clean, "kitchen", snr, seed=c * 7 + v)
                name = f"{c + 1:02d}-{voice}-{label}.wav"
                write_wav(clips / name, clip.audio, SAMPLE_RATE)
                lines.append(
                    {
                        "path": f"clips/{name}",
                        "text": text,
                        "speech_end_s": round(clip.speech_end_s, 3),
                        "cond": f"{family}-{label}",
                        "voice": voice,
                        "expect": expect,
                    }
                )
    manifest = out / "manifest.jsonl"
    manifest.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    size = sum(p.stat().st_size for p in clips.glob("*.wav"))
    print(f"wrote {len(lines)} clips ({size / 1e6:.1f} MB) and {manifest}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--full", type=Path, metavar="DIR", help="write the full grid into DIR instead")
    args = parser.parse_args()
    if args.full is not None:
        return make(args.full, full=True)
    return make(SMALL_DIR, full=False)


if __name__ == "__main__":
    raise SystemExit(main())
