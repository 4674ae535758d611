"""Benchmark offline speech to text and reply speech on this machine.

Speaks 20 kitchen commands with the Piper voice (joe) at three speaking rates (``tests/speech.py``: 16 kHz),
and transcribes each with Whisper with and without the catalogue prompt: mean/p90 latency per command, WER,
RSS. Then times Piper to the first clause of a typical reply. Optional: kitchen noise mixed in at a given SNR.

    .venv/bin/python tools/bench_stt.py [--model tiny.en|base] [--snr 10] [--threads 2] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from device.bench.metrics import peak_rss_mib
from device.inventory.catalog import demo_catalogue
from device.settings import Settings, WhisperModelName
from device.stt.prompt import initial_prompt
from device.stt.whisper import WhisperEngine
from device.tts import PiperTts, split_clauses
from tests import speech
from tests.stt.wer import word_errors

COMMANDS = [
    "add three cartons of oat milk to the walk-in",
    "we used two pounds of butter",
    "move one case of croissants from the freezer to the walk-in",
    "how many bagels do we have",
    "we're out of almond milk",
    "throw away six avocados",
    "set whole milk to four gallons",
    "add two cases of takeaway cups to the dry store",
    "what's running low",
    "we used a dozen eggs",
    "add five bottles of vanilla syrup to the bar",
    "waste one pound of smoked salmon",
    "how many bags of coffee beans are in the dry store",
    "add twelve pints of blueberries",
    "we have ten bags of frozen berries in the freezer",
    "add one tub of ice cream",
    "we used three heads of lettuce",
    "add four loaves of sourdough to the dry store",
    "what's expiring this week",
    "undo that",
]
REPLY = (
    "Added 3 cases of oat milk to the walk-in, that's 36 cartons. You're now above par, "
    "with 12 more than you need for the week."
)


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=["tiny.en", "base"], default="tiny.en")
    parser.add_argument("--models-dir", type=Path, default=None, help="folder holding whisper-base/")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--snr", type=float, default=None, help="mix kitchen noise at this SNR (dB)")
    parser.add_argument("--scales", default="0.85,1.0,1.2", help="Piper length_scale values")
    parser.add_argument("--pad", type=float, default=0.3, help="silence around each command (s)")
    parser.add_argument("--out", type=Path, help="also write the report as JSON here")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    rss0 = rss_mib()
    started = time.perf_counter()
    tts = PiperTts()
    piper_load = time.perf_counter() - started
    settings = Settings(
        whisper_model=WhisperModelName(args.model), whisper_threads=args.threads, models_dir=args.models_dir
    )
    rss1 = rss_mib()
    engine = WhisperEngine.from_settings(settings)
    rss_after_load = rss_mib()
    engine.warm_up()
    prompt = initial_prompt(demo_catalogue())

    clips = []
    for scale in (float(s) for s in args.scales.split(",")):
        for index, text in enumerate(COMMANDS):
            # Piper's default noise: every rendering differs a little, like a person saying it twice.
            audio = speech.concat(
                speech.silence(args.pad),
                speech.piper(text, length_scale=scale, noise_scale=0.667),
                speech.silence(args.pad),
            )
            if args.snr is not None:
                audio = speech.mix(
                    audio, speech.kitchen_noise(len(audio) / 16000, offset_s=3.1 * index), args.snr
                )
            clips.append((text, scale, audio))

    results: dict[str, dict[str, float]] = {}
    for label, use in (("no prompt", None), ("catalogue prompt", prompt)):
        errors = words = 0
        times = []
        for text, scale, audio in clips:
            t0 = time.perf_counter()
            heard = engine.transcribe(audio, prompt=use).text
            times.append(time.perf_counter() - t0)
            wrong, count = word_errors(text, heard)
            errors += wrong
            words += count
            if wrong and not args.json:
                print(f"  [{label}, x{scale}] {text!r} -> {heard!r}")
        results[label] = {
            "mean_s": float(np.mean(times)),
            "p90_s": float(np.percentile(times, 90)),
            "wer": errors / words,
        }
    peak = peak_rss_mib()

    tts.render("Warming up the voice.")
    first_clause = split_clauses(REPLY)[0]
    t0 = time.perf_counter()
    tts.render(first_clause)
    first_audio = time.perf_counter() - t0
    t0 = time.perf_counter()
    whole = tts.synthesize(REPLY)  # uncached: the whole reply in one synthesis
    whole_s = time.perf_counter() - t0

    report = {
        "model": engine.name,
        "threads": args.threads,
        "snr_db": args.snr,
        "clips": len(clips),
        "mean_clip_s": float(np.mean([len(a) / 16000 for _, _, a in clips])),
        "whisper_load_s": engine.load_seconds,
        "rss_piper_mib": rss1 - rss0,
        "rss_whisper_mib": rss_after_load - rss1,
        "rss_after_load_mib": rss_after_load,
        "peak_rss_mib": peak,
        "results": results,
        "piper_load_s": piper_load,
        "piper_first_clause_s": first_audio,
        "piper_whole_reply_s": whole_s,
        "reply_audio_s": len(whole) / tts.sample_rate,
        "prompt_chars": len(prompt),
    }
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n")
    if args.json:
        print(json.dumps(report))
        return
    print(
        f"{engine.name}, {args.threads} threads, {len(clips)} clips of {report['mean_clip_s']:.2f} s mean"
        + (f", kitchen noise at {args.snr:g} dB" if args.snr is not None else "")
    )
    for label, r in results.items():
        print(
            f"  {label:17s} mean {r['mean_s'] * 1000:.0f} ms  p90 {r['p90_s'] * 1000:.0f} ms"
            f"  WER {r['wer']:.1%}"
        )
    print(
        f"  load {engine.load_seconds:.2f} s; Whisper adds {report['rss_whisper_mib']:.0f} MiB RSS "
        f"(Piper {report['rss_piper_mib']:.0f} MiB); process {rss_after_load:.0f} MiB after load, "
        f"peak {peak:.0f} MiB"
    )
    print(
        f"Piper: load {piper_load:.2f} s; first clause ({len(first_clause)} chars) "
        f"in {first_audio * 1000:.0f} ms; "
        f"whole reply ({report['reply_audio_s']:.1f} s of audio) in {whole_s * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
