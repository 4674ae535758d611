"""Make test speech: one synthesized "okay nabu, <command>" WAV, or the bundled demo recording.

    .venv/bin/python tools/make_speech.py say "add three cartons of oat milk" -o /tmp/c.wav --noise kitchen
    .venv/bin/python tools/make_speech.py say "how many eggs" --voice en-us+m3 --no-wake -o /tmp/plain.wav
    .venv/bin/python tools/make_speech.py demo            # writes device/data/demo.wav and checks it wakes

Voices: ``piper`` (the joe voice) or an espeak-ng voice such as ``en-us``, ``en-us+m3``, ``en-gb-x-rp``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from device.audio.wav import write_wav
from device.pipeline.endpointing import EndpointConfig, Endpointer
from device.protocols import CHUNK_SAMPLES, CHUNK_SECONDS, SAMPLE_RATE, Audio
from device.settings import Sensitivity, Settings
from device.vad import SileroVad
from device.wake import MicroWakeWordDetector
from tests import speech

ROOT = Path(__file__).resolve().parents[1]
DEMO_WAV = ROOT / "device" / "data" / "demo.wav"
DEMO_COMMANDS = (
    "add three cartons of oat milk to the walk-in",
    "how many eggs do we have",
    "we used two pounds of butter",
)
DEMO_WAKE = "Okay, Nabu."


def make_demo(noise_snr_db: float = 20.0) -> tuple[Audio, list[tuple[float, float]]]:
    """The demo: each command after the wake word, with room for the reply, over light kitchen noise.

    Returns the audio and, per command, where its words start and end (seconds).
    """
    parts: list[Audio] = [speech.silence(0.8)]
    spans = []
    for command in DEMO_COMMANDS:
        u = speech.utterance(command, wake=DEMO_WAKE, lead_s=0.0, tail_s=7.0, gap_s=0.35)
        offset = sum(len(p) for p in parts) / SAMPLE_RATE
        spans.append((offset + u.command_start_s, offset + u.speech_end_s))
        parts.append(u.audio)
    clean = speech.concat(*parts)
    noise = speech.kitchen_noise(len(clean) / SAMPLE_RATE, offset_s=31.0)
    return speech.mix(clean, noise, noise_snr_db), spans


def check(audio: Audio, sensitivity: Sensitivity = Sensitivity.NORMAL) -> list[str]:
    """Run wake + VAD + endpointer over the audio as the runner would; one line per wake."""
    settings = Settings(wake_sensitivity=sensitivity)
    detector = MicroWakeWordDetector.from_settings(settings)
    vad = SileroVad()
    lines: list[str] = []
    endpointer: Endpointer | None = None
    for start in range(0, len(audio) - CHUNK_SAMPLES + 1, CHUNK_SAMPLES):
        chunk = audio[start : start + CHUNK_SAMPLES]
        at = (start + CHUNK_SAMPLES) / SAMPLE_RATE
        hit = detector.process(chunk)
        if endpointer is not None:
            end = endpointer.feed_probability(CHUNK_SECONDS, vad.speech_probability(chunk))
            if end is not None:
                base = at - end.decided_at_s
                lines[-1] += f", {end.reason} at {at:.2f} s (speech {base + (end.speech_start_s or 0):.2f}-"
                lines[-1] += f"{base + (end.speech_end_s or 0):.2f} s)"
                endpointer = None
        elif hit is not None:
            lines.append(f"wake at {hit.at_s:.2f} s (score {hit.score:.2f})")
            vad.reset()
            endpointer = Endpointer(EndpointConfig.from_settings(settings))
    return lines


def main(argv: list[str] | None = None) -> int:
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=raw)
    sub = parser.add_subparsers(dest="command", required=True)
    say = sub.add_parser("say", help="synthesize one command")
    say.add_argument("text")
    say.add_argument("-o", "--out", type=Path, required=True)
    say.add_argument("--voice", default="piper")
    say.add_argument("--wake", default=DEMO_WAKE)
    say.add_argument("--no-wake", action="store_true")
    say.add_argument("--length-scale", type=float, default=1.0, help="Piper speed (>1 slower)")
    say.add_argument("--noise", choices=["kitchen", "brown"])
    say.add_argument("--snr", type=float, default=10.0)
    say.add_argument("--seed", type=int, default=0)
    demo = sub.add_parser("demo", help="write device/data/demo.wav")
    demo.add_argument("-o", "--out", type=Path, default=DEMO_WAV)
    args = parser.parse_args(argv)

    if args.command == "say":
        wake = None if args.no_wake else args.wake
        u = speech.utterance(args.text, wake=wake, voice=args.voice, length_scale=args.length_scale)
        if args.noise:
            u = speech.in_noise(u, args.noise, args.snr, seed=args.seed)
        write_wav(args.out, u.audio, SAMPLE_RATE)
        print(f"{args.out}: {u.seconds:.2f} s, speech {u.speech_start_s:.2f}-{u.speech_end_s:.2f} s")
        return 0

    audio, spans = make_demo()
    lines = check(audio)
    write_wav(args.out, audio, SAMPLE_RATE)
    peak = float(np.max(np.abs(audio.astype(np.float64)))) / 32768
    size_kb = args.out.stat().st_size // 1024
    print(f"{args.out}: {len(audio) / SAMPLE_RATE:.1f} s, {size_kb} KB, peak {peak:.2f}")
    for (start, end), command in zip(spans, DEMO_COMMANDS, strict=True):
        print(f"  command {start:.2f}-{end:.2f} s: {command}")
    for line in lines:
        print(f"  {line}")
    if len(lines) != len(DEMO_COMMANDS):
        print(f"expected {len(DEMO_COMMANDS)} wakes, got {len(lines)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
