"""Benchmark: CPU seconds per audio second for wake word + VAD on kitchen noise (the unit's idle load).

    .venv/bin/python tools/bench_idle.py [--seconds 60] [--noise kitchen|brown] [--sensitivity high]

Measures process CPU time (not wall time) of each stage over the same chunks, as the runner feeds them. The
wake word's figure is split into the models (both listeners, noise suppression) and Whisper's check of
borderline scores, which runs only when the noise makes the model fire.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from device.bench.idle import cpu_per_audio_second
from device.protocols import Audio
from device.settings import Sensitivity, Settings
from device.vad import SileroVad
from device.wake import MicroWakeWordDetector, whisper_transcriber
from tests import speech


def main() -> int:
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=raw)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--noise", choices=["kitchen", "brown"], default="kitchen")
    parser.add_argument("--sensitivity", choices=[s.value for s in Sensitivity], help="default: the setting")
    args = parser.parse_args()
    audio = (
        speech.kitchen_noise(args.seconds)
        if args.noise == "kitchen"
        else speech.brown_noise(args.seconds, seed=1)
    )

    settings = Settings()
    if args.sensitivity is not None:
        settings = settings.model_copy(update={"wake_sensitivity": Sensitivity(args.sensitivity)})
    whisper = whisper_transcriber(settings)
    whisper(audio[:16000], "")  # load the model outside the measurement
    check_cpu_s, checks = 0.0, 0

    def timed_check(clip: Audio, prompt: str) -> str:
        nonlocal check_cpu_s, checks
        checks += 1
        started = time.process_time()
        try:
            return whisper(clip, prompt)
        finally:
            check_cpu_s += time.process_time() - started

    detector = MicroWakeWordDetector.from_settings(settings, timed_check)
    wake = cpu_per_audio_second(audio, detector.process)
    check = check_cpu_s / args.seconds
    silero = cpu_per_audio_second(audio, SileroVad().speech_probability)
    gated_vad = SileroVad(webrtc_gate=1)
    gated = cpu_per_audio_second(audio, gated_vad.speech_probability)
    share = gated_vad.gated / max(1, gated_vad.gated + gated_vad.scored)

    print(f"{args.seconds:g} s of {args.noise} noise, CPU seconds per audio second:")
    print(f"  wake word ({settings.wake_model.value}, {settings.wake_sensitivity.value}): {wake:.4f}")
    print(f"    models ({len(detector.listeners)} listeners):      {wake - check:.4f}")
    print(f"    Whisper's check:           {check:.4f}  ({checks} checks)")
    print(f"  Silero VAD:                  {silero:.4f}")
    print(f"  Silero behind WebRTC gate:   {gated:.4f}  (gate skipped Silero on {share:.0%} of chunks)")
    print(f"  wake + Silero:               {wake + silero:.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
