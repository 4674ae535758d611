"""Recordings for choosing the wake word's operating point on real talk, and for checking recall end to end.

    .venv/bin/python tools/wake_real.py talk --snr 10 --offset 0 --out /tmp/wake-real/talk-10db-0.wav
    .venv/bin/python tools/wake_real.py sequences --voice piper:1.15 --snr 5 --out /tmp/wake-real/seq.wav
    .venv/bin/python tools/wake_real.py score /tmp/wake-real/talk-10db-0.jsonl [--sequences FILE.json]

``talk``: every clip of the real cafe speech (``../shared/data/cafe_speech``, 305 customers ordering coffee,
about 43 min), each brought to the same speech level and played one after another, over the real kitchen
recording (looped, starting ``--offset`` seconds in) at ``--snr`` dB; a JSON beside the WAV says where each clip
is. Every wake in it is a false wake. ``sequences``: "Okay, Nabu. <command>" in one voice (Piper joe at a
length scale and Piper's natural variation, or an espeak-ng voice), each followed by enough quiet for the
reply to finish, over kitchen noise; the JSON lists each sequence's start. ``score``: reads ``larder listen
--json`` output and prints wakes (woken sequences, or false wakes per hour of talk) and stock changes.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from device.audio.resample import to_mono_16k
from device.audio.wav import read_wav, write_wav
from device.protocols import SAMPLE_RATE, Audio
from tests import speech

CAFE_SPEECH = Path(__file__).resolve().parents[2] / "shared" / "data" / "cafe_speech"
SPEECH_PEAK = 0.5  # every clip's active speech power is brought to that of a sine at this peak
# Commands no wake-word choice was tuned on (tools/wake_data.py uses others), each applied without a question
# on the demo catalogue, so the next sequence finds the unit idle.
SEQUENCE_COMMANDS = [
    "add four cartons of oat milk to the walk-in",
    "how much butter do we have",
    "we used three pounds of flour",
    "add two dozen eggs",
    "how many cartons of oat milk are there",
    "we used one pound of butter",
    "add five pounds of flour to the dry store",
    "how many eggs are left",
    "add one case of whole milk",
    "we used two cartons of oat milk",
    "how much flour is in the dry store",
    "add three pounds of butter",
]
STOCK_CHANGES = {"applied", "undone"}  # outcomes that change stock (a refusal is journalled, changes nothing)
# Quiet after each command: time for a reply, and for a question's reply, the 5 s wait for an answer and "I
# didn't hear a yes", so the unit is idle again when the next sequence starts.
SEQUENCE_GAP_S = 16.0


def level(audio: Audio) -> Audio:
    """The clip with its active speech at the common level (``speech.active_power``)."""
    target = (SPEECH_PEAK * 32767) ** 2 / 2
    gain = np.sqrt(target / max(speech.active_power(audio), 1.0))
    return np.clip(np.round(audio.astype(np.float64) * gain), -32768, 32767).astype(np.int16)


def over_kitchen(audio: Audio, snr_db: float | None, offset_s: float) -> Audio:
    """``audio`` over the kitchen recording (looped from ``offset_s``), its noise level set so the speech is
    ``snr_db`` above it; ``None``: clean."""
    if snr_db is None:
        return audio
    bed = speech.kitchen_noise(len(audio) / SAMPLE_RATE, offset_s=offset_s).astype(np.float64)
    target = (SPEECH_PEAK * 32767) ** 2 / 2
    gain = np.sqrt(target / (float(np.mean(bed**2)) * 10 ** (snr_db / 10)))
    mixed = audio.astype(np.float64) + bed * gain
    return np.clip(np.round(mixed), -32768, 32767).astype(np.int16)


def talk(root: Path, snr_db: float | None, offset_s: float, out: Path) -> None:
    labels = json.loads((root / "labels.json").read_text(encoding="utf-8"))
    parts: list[Audio] = []
    spans = []
    at = 0
    for name in sorted(labels):
        audio, rate = read_wav(root / "clips" / name)
        clip = level(to_mono_16k(audio, rate))
        spans.append({"clip": name, "start_s": at / SAMPLE_RATE, "end_s": (at + len(clip)) / SAMPLE_RATE})
        parts.append(clip)
        at += len(clip)
    mixed = over_kitchen(np.concatenate(parts), snr_db, offset_s)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_wav(out, mixed, SAMPLE_RATE)
    meta = {
        "kind": "talk",
        "snr_db": snr_db,
        "offset_s": offset_s,
        "seconds": at / SAMPLE_RATE,
        "clips": spans,
    }
    out.with_suffix(".json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
    print(f"{out}: {len(spans)} clips, {at / SAMPLE_RATE / 60:.1f} min", flush=True)


def say(voice: str, text: str) -> Audio:
    """``piper:LENGTH`` (Piper joe with its natural variation) or ``espeak:VOICE:SPEED:PITCH``."""
    engine, *args = voice.split(":")
    if engine == "piper":
        return speech.piper(text, length_scale=float(args[0]), noise_scale=0.667)
    name, speed, pitch = args
    return speech.espeak(text, voice=name, speed=int(speed), pitch=int(pitch))


def sequences(voice: str, snr_db: float | None, offset_s: float, out: Path) -> None:
    parts: list[Audio] = []
    starts = []
    at = 0
    for command in SEQUENCE_COMMANDS:
        wake = speech.trim(say(voice, "Okay, Nabu."))
        words = speech.trim(say(voice, command.capitalize() + "."))
        piece = speech.concat(
            speech.silence(1.0), wake, speech.silence(0.3), words, speech.silence(SEQUENCE_GAP_S)
        )
        starts.append(
            {
                "command": command,
                "start_s": at / SAMPLE_RATE,
                "wake_end_s": (at + 16000 + len(wake)) / SAMPLE_RATE,
            }
        )
        parts.append(level(piece))
        at += len(piece)
    mixed = over_kitchen(np.concatenate(parts), snr_db, offset_s)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_wav(out, mixed, SAMPLE_RATE)
    meta = {"kind": "sequences", "voice": voice, "snr_db": snr_db, "offset_s": offset_s, "sequences": starts}
    out.with_suffix(".json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
    print(f"{out}: {len(starts)} sequences, {at / SAMPLE_RATE / 60:.1f} min", flush=True)


def score(events_path: Path, meta_path: Path) -> dict[str, object]:
    """Wakes and stock changes in ``larder listen --json`` output, against the recording's JSON."""
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    events = [
        json.loads(line) for line in events_path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    wakes = [e for e in events if e.get("event") == "wake" and e.get("source") == "wake_word"]
    outcomes = [e for e in events if e.get("event") == "outcome"]
    changes = [e for e in outcomes if e["status"] in STOCK_CHANGES]
    heard = [e["text"] for e in events if e.get("event") == "transcript"]
    result: dict[str, object] = {
        "file": str(events_path),
        "wakes": len(wakes),
        "stock_changes": len(changes),
        "outcomes": [f"{e['status']}: {e['reply']}" for e in outcomes],
    }
    if meta["kind"] == "talk":
        hours = meta["seconds"] / 3600
        result.update(hours=round(hours, 3), per_hour=round(len(wakes) / hours, 2), heard=heard)
    else:
        woken = [
            any(s["start_s"] <= w["audio_s"] <= s["wake_end_s"] + 2.0 for w in wakes)
            for s in meta["sequences"]
        ]
        stray = [  # wakes near no sequence's wake word: false wakes in the noise between commands
            w["audio_s"]
            for w in wakes
            if not any(s["start_s"] <= w["audio_s"] <= s["wake_end_s"] + 2.0 for s in meta["sequences"])
        ]
        result.update(
            woken=sum(woken),
            sequences=len(woken),
            missed=[s["command"] for s, ok in zip(meta["sequences"], woken, strict=True) if not ok],
            stray_wakes=stray,
        )
    return result


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("action", choices=["talk", "sequences", "score"])
    parser.add_argument("events", nargs="?", type=Path, help="for 'score': a `larder listen --json` output")
    parser.add_argument(
        "--meta", type=Path, help="for 'score': the recording's JSON (default: beside the events)"
    )
    parser.add_argument("--snr", type=float, help="dB of speech over kitchen noise (default: clean)")
    parser.add_argument("--offset", type=float, default=0.0, help="seconds into the kitchen recording")
    parser.add_argument("--voice", default="piper:1.15", help="piper:LENGTH or espeak:VOICE:SPEED:PITCH")
    parser.add_argument("--root", type=Path, default=CAFE_SPEECH, help="the cafe speech folder")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.action == "talk":
        talk(args.root, args.snr, args.offset, args.out)
    elif args.action == "sequences":
        sequences(args.voice, args.snr, args.offset, args.out)
    else:
        meta = args.meta or args.events.with_suffix(".json")
        print(json.dumps(score(args.events, meta)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
