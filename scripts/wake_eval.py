"""Tune and check the wake decision rule offline, from per-frame probabilities cached once per model.

    nice -n 10 .venv/bin/python scripts/wake_data.py               # the clips, once (~5 min CPU)
    nice -n 10 .venv/bin/python scripts/wake_eval.py probs         # per-frame probabilities, once per model
    .venv/bin/python scripts/wake_eval.py sweep [--split tune]     # every cutoff x window: recall and false wakes
    .venv/bin/python scripts/wake_eval.py table [--split held]     # the figures table for the shipped operating points

Each model runs once over every clip and noise condition (``probs``: about 3 ms of CPU per audio second);
every rule is then scored from the cached arrays with the shipping ``WakeDecider`` itself, fed only the frames
near a probability at or above the cutoff (exact: a window average can only reach the cutoff where one of its
frames does). A positive clip counts as woken if the rule fires anywhere in it; a fire in the talk is a false wake.
Kitchen noise for the ``tune`` split comes from the first 80 s of the recording, for ``held`` from the last 40 s.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import numpy.typing as npt

from device.audio.wav import read_wav
from device.protocols import CHUNK_SAMPLES, SAMPLE_RATE, Audio
from device.settings import Sensitivity, WakeModelName
from device.wake import OPERATING_POINTS, MicroWakeWordDetector, WakeDecider
from tests import speech

Probs = npt.NDArray[np.float32]
POS_CONDITIONS = ("clean", "kitchen10", "kitchen5", "brown10", "brown5")
NEG_CONDITIONS = ("clean", "kitchen10", "kitchen5")
KITCHEN_SPLIT_S = 80.0
STEP_S = 0.03  # one probability per 3 feature frames of 10 ms
CUTOFFS = [round(c, 2) for c in np.arange(0.1, 0.96, 0.05)]
WINDOWS = (1, 2, 3, 4, 5)


def frame_times(count: int) -> npt.NDArray[np.float64]:
    """Audio time at the end of each probability frame, as ``MicroWakeWordDetector.frames`` reports it."""
    return np.arange(1, count + 1) * STEP_S + 0.02


def probabilities(model: WakeModelName, audio: Audio) -> Probs:
    detector = MicroWakeWordDetector(model, WakeDecider(cutoff=0.5, window=1, refractory_s=0.0))
    out: list[float] = []
    for start in range(0, len(audio) - CHUNK_SAMPLES + 1, CHUNK_SAMPLES):
        out += detector.probabilities(audio[start : start + CHUNK_SAMPLES])
    return np.asarray(out, dtype=np.float32)


def noisy(audio: Audio, condition: str, split: str, seed: int, kitchen: Audio) -> Audio:
    """The clip under a noise condition; the kitchen segment and offset depend on the split and seed."""
    if condition == "clean":
        return audio
    kind, snr = condition.rstrip("0123456789"), float(condition.lstrip("abcdefghijklmnopqrstuvwxyz"))
    if kind == "brown":
        return speech.mix(audio, speech.brown_noise(len(audio) / SAMPLE_RATE, seed=seed), snr)
    cut = int(KITCHEN_SPLIT_S * SAMPLE_RATE)
    segment = kitchen[:cut] if split == "tune" else kitchen[cut:]
    offset = (seed * 7919) % len(segment)
    return speech.mix(audio, np.roll(segment, -offset), snr)


def cache_path(root: Path, model: str, split: str, kind: str, condition: str) -> Path:
    return root / "probs" / f"{model}-{split}-{kind}-{condition}.npz"


def load_probs(root: Path, model: str, split: str, kind: str, condition: str) -> dict[str, Probs]:
    with np.load(cache_path(root, model, split, kind, condition)) as data:
        return {key: data[key] for key in data.files}


def compute_all(root: Path, models: Iterable[WakeModelName]) -> None:
    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    kitchen, _ = read_wav(speech.KITCHEN_WAV)
    (root / "probs").mkdir(exist_ok=True)
    for model in models:
        for split in ("tune", "held"):
            clips = [c for c in manifest["positives"] if c["model"] == model.value and c["split"] == split]
            talks = [n for n in manifest["negatives"] if n["split"] == split]
            jobs = [("pos", c, clips) for c in POS_CONDITIONS] + [("neg", c, talks) for c in NEG_CONDITIONS]
            for kind, condition, entries in jobs:
                path = cache_path(root, model.value, split, kind, condition)
                if path.exists():
                    continue
                arrays = {}
                for seed, entry in enumerate(entries):
                    audio, _ = read_wav(root / kind / f"{entry['id']}.wav")
                    arrays[entry["id"]] = probabilities(model, noisy(audio, condition, split, seed, kitchen))
                np.savez_compressed(path, **arrays)
                print(f"{path.name}: {len(arrays)} arrays", flush=True)


def fires(probs: Probs, cutoff: float, window: int, refractory_s: float) -> list[float]:
    """Times at which ``WakeDecider`` fires over ``probs``, feeding it only the frames that can matter."""
    hot = probs >= cutoff
    if not hot.any():
        return []
    # reach[j]: some frame in j's window is hot, so frame j may fire
    reach = np.convolve(hot.astype(np.int8), np.ones(window, dtype=np.int8))[: len(probs)] > 0
    edges = np.flatnonzero(np.diff(np.concatenate([[0], reach.astype(np.int8), [0]])))
    times = frame_times(len(probs))
    decider = WakeDecider(cutoff=cutoff, window=window, refractory_s=refractory_s)
    out = []
    for first, stop in zip(edges[::2], edges[1::2], strict=True):
        decider.reset()
        for j in range(max(0, first - window + 1), stop):
            if decider.feed(float(times[j]), float(probs[j])) is not None:
                out.append(float(times[j]))
    return out


def score(
    root: Path, model: str, split: str, cutoff: float, window: int, refractory_s: float
) -> dict[str, float]:
    """Recall per positive condition, false wakes per hour per talk condition, and double fires."""
    result: dict[str, float] = {}
    doubles = 0
    for condition in POS_CONDITIONS:
        clips = load_probs(root, model, split, "pos", condition)
        counts = [len(fires(p, cutoff, window, refractory_s)) for p in clips.values()]
        result[condition] = sum(c > 0 for c in counts) / len(counts)
        doubles += sum(c > 1 for c in counts)
    result["doubles"] = doubles
    for condition in NEG_CONDITIONS:
        talks = load_probs(root, model, split, "neg", condition)
        wakes = sum(len(fires(p, cutoff, window, refractory_s)) for p in talks.values())
        hours = sum(len(p) for p in talks.values()) * STEP_S / 3600
        result[f"fa_{condition}"] = wakes
        result[f"fa_per_h_{condition}"] = wakes / hours
        result["talk_hours"] = hours
    return result


def per_voice(root: Path, model: str, split: str, cutoff: float, window: int, condition: str) -> dict[str, float]:
    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    voice_of = {c["id"]: c["voice"] for c in manifest["positives"]}
    hits: dict[str, list[bool]] = {}
    for clip, p in load_probs(root, model, split, "pos", condition).items():
        hits.setdefault(voice_of[clip], []).append(bool(fires(p, cutoff, window, 1.0)))
    return {voice: sum(h) / len(h) for voice, h in hits.items()}


def sweep(root: Path, models: Iterable[WakeModelName], split: str, refractory_s: float) -> None:
    rows = []
    for model in models:
        for window in WINDOWS:
            for cutoff in CUTOFFS:
                r = score(root, model.value, split, cutoff, window, refractory_s)
                rows.append({"model": model.value, "cutoff": cutoff, "window": window, **r})
                print(
                    f"{model.value:12} c={cutoff:.2f} w={window}  "
                    + "  ".join(f"{c} {r[c]:.2f}" for c in POS_CONDITIONS)
                    + f"  FA clean/k10/k5 {r['fa_clean']:.0f}/{r['fa_kitchen10']:.0f}/{r['fa_kitchen5']:.0f}"
                    f" in {r['talk_hours'] * 60:.0f} min  doubles {r['doubles']:.0f}",
                    flush=True,
                )
    (root / f"sweep-{split}.json").write_text(json.dumps(rows, indent=1), encoding="utf-8")


def table(root: Path, models: Iterable[WakeModelName], split: str, refractory_s: float) -> str:
    """Markdown: per model and sensitivity, recall per noise level and false wakes per hour."""
    lines = [
        "| model | sensitivity (cutoff, window) | clean | kitchen 10 dB | kitchen 5 dB | fan 10 dB | fan 5 dB "
        "| false wakes/h (talk + kitchen 10 dB) | false wakes/h (talk, clean) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for model in models:
        for sensitivity in (Sensitivity.LOW, Sensitivity.NORMAL, Sensitivity.HIGH):
            cutoff, window = OPERATING_POINTS[sensitivity]
            r = score(root, model.value, split, cutoff, window, refractory_s)
            recall = " | ".join(f"{100 * r[c]:.0f}%" for c in POS_CONDITIONS)
            lines.append(
                f"| {model.value} | {sensitivity.value} ({cutoff}, {window}) | {recall} "
                f"| {r['fa_per_h_kitchen10']:.1f} ({r['fa_kitchen10']:.0f}) | {r['fa_per_h_clean']:.1f} "
                f"({r['fa_clean']:.0f}) |"
            )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["probs", "sweep", "table", "voices"])
    parser.add_argument("--root", type=Path, default=Path("/tmp/wake-data"))
    parser.add_argument("--split", choices=["tune", "held"], default="tune")
    parser.add_argument("--model", action="append", choices=[m.value for m in WakeModelName])
    parser.add_argument("--refractory", type=float, default=1.0)
    parser.add_argument("--condition", default="kitchen5", help="for 'voices': the noise condition")
    args = parser.parse_args()
    models = [WakeModelName(m) for m in args.model] if args.model else list(WakeModelName)
    if args.action == "probs":
        compute_all(args.root, models)
    elif args.action == "sweep":
        sweep(args.root, models, args.split, args.refractory)
    elif args.action == "table":
        print(table(args.root, models, args.split, args.refractory))
    else:
        for model in models:
            cutoff, window = OPERATING_POINTS[Sensitivity.NORMAL]
            rates = per_voice(args.root, model.value, args.split, cutoff, window, args.condition)
            print(model.value, {v: round(100 * r) for v, r in rates.items()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
