"""Benchmark: CPU seconds per audio second for wake word + VAD on kitchen noise (the unit's idle load).

    .venv/bin/python tools/bench_idle.py [--seconds 60] [--noise kitchen|brown]

Measures process CPU time (not wall time) of each stage over the same chunks, as the runner feeds them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from device.bench.idle import cpu_per_audio_second
from device.settings import Settings
from device.vad import SileroVad
from device.wake import MicroWakeWordDetector
from tests import speech


def main() -> int:
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=raw)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--noise", choices=["kitchen", "brown"], default="kitchen")
    args = parser.parse_args()
    audio = (
        speech.kitchen_noise(args.seconds)
        if args.noise == "kitchen"
        else speech.brown_noise(args.seconds, seed=1)
    )

    settings = Settings()
    detector = MicroWakeWordDetector.from_settings(settings)
    wake = cpu_per_audio_second(audio, detector.process)
    silero = cpu_per_audio_second(audio, SileroVad().speech_probability)
    gated_vad = SileroVad(webrtc_gate=1)
    gated = cpu_per_audio_second(audio, gated_vad.speech_probability)
    share = gated_vad.gated / max(1, gated_vad.gated + gated_vad.scored)

    print(f"{args.seconds:g} s of {args.noise} noise, CPU seconds per audio second:")
    print(f"  wake word ({settings.wake_model.value}):       {wake:.4f}")
    print(f"  Silero VAD:                  {silero:.4f}")
    print(f"  Silero behind WebRTC gate:   {gated:.4f}  (gate skipped Silero on {share:.0%} of chunks)")
    print(f"  wake + Silero:               {wake + silero:.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
