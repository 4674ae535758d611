"""Tune and check the wake decision rule offline, from per-frame probabilities cached once per model.

    nice -n 10 .venv/bin/python tools/wake_data.py               # the clips, once (~5 min CPU)
    nice -n 10 .venv/bin/python tools/wake_eval.py probs         # per-frame probabilities, once per model
    .venv/bin/python tools/wake_eval.py sweep [--split tune]     # every cutoff x window: recall and false wakes
    .venv/bin/python tools/wake_eval.py table [--split held]     # the figures table for the shipped operating points
    nice -n 10 .venv/bin/python tools/wake_eval.py probs --listener lowered   # the lowered listener's, once
    .venv/bin/python tools/wake_eval.py lowered                  # what it adds to normal, per cutoff

Each model runs once over every clip and noise condition (``probs``: about 3 ms of CPU per audio second);
every rule is then scored from the cached arrays with the shipping ``WakeDecider`` itself, fed only the frames
near a probability at or above the cutoff (exact: a window average can only reach the cutoff where one of its
frames does). A positive clip counts as woken if the rule fires anywhere in it; a fire in the talk is a false wake.
Kitchen noise for the ``tune`` split comes from the first 80 s of the recording, for ``held`` from the last 40 s.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Iterable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import numpy.typing as npt

from device.audio.wav import read_wav
from device.protocols import CHUNK_SAMPLES, SAMPLE_RATE, Audio
from device.settings import Sensitivity, Settings, WakeModelName
from device.wake import (
    LOWERED_VOICE,
    OPERATING_POINTS,
    MicroWakeWordDetector,
    WakeDecider,
    whisper_transcriber,
)
from device.wake import NOISE_SUPPRESSION_DB as MODEL_SUPPRESSION
from tests import speech

Probs = npt.NDArray[np.float32]
POS_CONDITIONS = ("clean", "kitchen10", "kitchen5", "brown10", "brown5")
NEG_CONDITIONS = ("clean", "kitchen10")
NEG_KINDS = ("talk", "hard")  # ordinary cafe talk; phrases that sound like a wake word
KITCHEN_SPLIT_S = 80.0
STEP_S = 0.03  # one probability per 3 feature frames of 10 ms
# Speex noise suppression in front of the model (dB, 0 = off): --noise-suppression, else each model's shipped
# choice. Each level has its own probability cache.
NOISE_SUPPRESSION_DB: int | None = None


LISTENER = "main"  # --listener: which listener's probabilities ``probs`` caches


def suppression(model: WakeModelName) -> int:
    return NOISE_SUPPRESSION_DB if NOISE_SUPPRESSION_DB is not None else MODEL_SUPPRESSION[model]


CUTOFFS = [0.05, 0.07, *(round(c, 2) for c in np.arange(0.1, 0.96, 0.05))]
WINDOWS = (1, 2, 3, 4, 5)


def frame_times(count: int) -> npt.NDArray[np.float64]:
    """Audio time at the end of each probability frame, as ``MicroWakeWordDetector.frames`` reports it."""
    return (np.arange(1, count + 1) * STEP_S + 0.02).astype(np.float64)


def probabilities(model: WakeModelName, audio: Audio, listener: str = "main") -> Probs:
    """One listener's per-frame probabilities (the lowered listener's frames come 19/16 as often)."""
    detector = MicroWakeWordDetector(
        model,
        WakeDecider(cutoff=0.5, window=1, refractory_s=0.0),
        noise_suppression_db=suppression(model),
        lowered=WakeDecider(cutoff=0.5, window=1, refractory_s=0.0) if listener == "lowered" else None,
    )
    index = detector.listeners.index(listener)
    out: list[float] = []
    for start in range(0, len(audio) - CHUNK_SAMPLES + 1, CHUNK_SAMPLES):
        out += detector.probabilities(audio[start : start + CHUNK_SAMPLES], index)
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


def probs_dir(root: Path, model: WakeModelName, listener: str = "main") -> Path:
    """Where a model's probabilities are cached, per suppression level and listener."""
    level = suppression(model)
    name = "probs" if level == 0 else f"probs-ns{-level}"
    return root / (name if listener == "main" else f"{name}-{listener}")


def cache_path(root: Path, model: str, split: str, kind: str, condition: str, listener: str = "main") -> Path:
    return probs_dir(root, WakeModelName(model), listener) / f"{model}-{split}-{kind}-{condition}.npz"


def load_probs(
    root: Path, model: str, split: str, kind: str, condition: str, listener: str = "main"
) -> dict[str, Probs]:
    with np.load(cache_path(root, model, split, kind, condition, listener)) as data:
        return {key: data[key] for key in data.files}


def compute_all(root: Path, models: Iterable[WakeModelName]) -> None:
    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    kitchen, _ = read_wav(speech.KITCHEN_WAV)
    for model in models:
        probs_dir(root, model, LISTENER).mkdir(exist_ok=True)
        for split in ("tune", "held"):
            clips = [c for c in manifest["positives"] if c["model"] == model.value and c["split"] == split]
            jobs = [("pos", c, clips) for c in POS_CONDITIONS]
            for kind in NEG_KINDS:
                talks = [n for n in manifest["negatives"] if n["split"] == split and n["kind"] == kind]
                jobs += [(kind, c, talks) for c in NEG_CONDITIONS]
            for kind, condition, entries in jobs:
                path = cache_path(root, model.value, split, kind, condition, LISTENER)
                if path.exists():
                    continue
                arrays = {}
                for seed, entry in enumerate(entries):
                    audio, _ = read_wav(root / ("pos" if kind == "pos" else "neg") / f"{entry['id']}.wav")
                    clip = noisy(audio, condition, split, seed, kitchen)
                    arrays[entry["id"]] = probabilities(model, clip, LISTENER)
                np.savez_compressed(path, **arrays)  # type: ignore[arg-type]
                print(f"{path.name}: {len(arrays)} arrays", flush=True)


def fires(
    probs: Probs, cutoff: float, window: int, refractory_s: float, sure: float | None = None
) -> list[tuple[float, bool]]:
    """``(time, borderline)`` of each ``WakeDecider`` fire over ``probs``, fed only the frames that can matter."""
    hot = probs >= cutoff
    if not hot.any():
        return []
    # reach[j]: some frame in j's window is hot (or a held score may still be waiting), so frame j may fire
    hold = round(WakeDecider.HOLD_S / STEP_S) + 1 if sure is not None else 0
    span = np.ones(window + hold, dtype=np.int8)
    reach = np.convolve(hot.astype(np.int8), span)[: len(probs)] > 0
    edges = np.flatnonzero(np.diff(np.concatenate([[0], reach.astype(np.int8), [0]])))
    times = frame_times(len(probs))
    decider = WakeDecider(cutoff=cutoff, window=window, refractory_s=refractory_s, sure=sure)
    out = []
    for first, stop in zip(edges[::2], edges[1::2], strict=True):
        decider.reset()
        for j in range(max(0, first - window + 1), stop):
            fire = decider.feed(float(times[j]), float(probs[j]))
            if fire is not None:
                out.append((float(times[j]), fire.borderline))
    return out


def score(
    root: Path,
    model: str,
    split: str,
    cutoff: float,
    window: int,
    refractory_s: float,
    sure: float | None = None,
) -> dict[str, float]:
    """Recall per positive condition, false wakes per talk kind and condition, and double fires.

    With ``sure``: ``<condition>_sure`` is the share woken without needing the transcript check, and
    ``<kind>_<condition>_sure`` the false wakes that would skip it."""
    result: dict[str, float] = {}
    doubles = 0
    for condition in POS_CONDITIONS:
        clips = load_probs(root, model, split, "pos", condition)
        found = [fires(p, cutoff, window, refractory_s, sure) for p in clips.values()]
        result[condition] = sum(bool(f) for f in found) / len(found)
        result[f"{condition}_sure"] = sum(any(not b for _, b in f) for f in found) / len(found)
        doubles += sum(len(f) > 1 for f in found)
    result["doubles"] = doubles
    for kind in NEG_KINDS:
        for condition in NEG_CONDITIONS:
            talks = load_probs(root, model, split, kind, condition)
            wakes = [f for p in talks.values() for f in fires(p, cutoff, window, refractory_s, sure)]
            hours = sum(len(p) for p in talks.values()) * STEP_S / 3600
            result[f"{kind}_{condition}"] = len(wakes)
            result[f"{kind}_{condition}_sure"] = sum(not b for _, b in wakes)
            result[f"{kind}_{condition}_per_h"] = len(wakes) / hours
            result[f"{kind}_hours"] = hours
    return result


def false_wakes(
    root: Path, model: str, split: str, cutoff: float, window: int, refractory_s: float
) -> list[str]:
    """Each false wake in the talk: condition, block, time and the sentence being said (or under it)."""
    out = []
    for kind in NEG_KINDS:
        for condition in NEG_CONDITIONS:
            for block, p in load_probs(root, model, split, kind, condition).items():
                spans = json.loads((root / "neg" / f"{block}.json").read_text(encoding="utf-8"))
                for at, _ in fires(p, cutoff, window, refractory_s):
                    said = [s["text"] for s in spans if s["start_s"] - 0.2 <= at <= s["end_s"] + 1.0]
                    out.append(f"{condition:9} {block} {at:7.2f}s {said}")
    return out


def per_voice(
    root: Path, model: str, split: str, cutoff: float, window: int, condition: str
) -> dict[str, float]:
    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    voice_of = {c["id"]: c["voice"] for c in manifest["positives"]}
    hits: dict[str, list[bool]] = {}
    for clip, p in load_probs(root, model, split, "pos", condition).items():
        hits.setdefault(voice_of[clip], []).append(bool(fires(p, cutoff, window, 2.0)))
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
                    + f"  talk FA clean/k10 {r['talk_clean']:.0f}/{r['talk_kitchen10']:.0f}"
                    f" in {r['talk_hours'] * 60:.0f} min  hard {r['hard_clean']:.0f}/{r['hard_kitchen10']:.0f}"
                    f"  doubles {r['doubles']:.0f}",
                    flush=True,
                )
    (root / f"sweep-{split}.json").write_text(json.dumps(rows, indent=1), encoding="utf-8")


def table(root: Path, models: Iterable[WakeModelName], split: str, refractory_s: float) -> str:
    """Markdown: per model and sensitivity, the plain rule's recall per noise level and false wakes per hour,
    and what the transcript check would be left with (false wakes scoring above ``sure`` skip it)."""
    lines = [
        "| model | sensitivity (cutoff, window, sure) | clean | kitchen 10 dB | kitchen 5 dB | fan 10 dB | fan 5 dB "
        "| false wakes/h: talk + kitchen 10 dB | talk, clean | wake-like phrases | talk above sure (clean + 10 dB) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for model in models:
        for sensitivity in (Sensitivity.LOW, Sensitivity.NORMAL, Sensitivity.HIGH):
            point = OPERATING_POINTS[model][sensitivity]
            r = score(root, model.value, split, point.cutoff, point.window, refractory_s, point.sure)
            recall = " | ".join(f"{100 * r[c]:.0f}%" for c in POS_CONDITIONS)
            hard = (r["hard_clean"] + r["hard_kitchen10"]) / (2 * r["hard_hours"])
            above = (r["talk_clean_sure"] + r["talk_kitchen10_sure"]) / (2 * r["talk_hours"])
            lines.append(
                f"| {model.value} | {sensitivity.value} ({point.cutoff}, {point.window}, {point.sure}) | {recall} "
                f"| {r['talk_kitchen10_per_h']:.1f} | {r['talk_clean_per_h']:.1f} | {hard:.0f} | {above:.1f} |"
            )
    return "\n".join(lines)


def lowered(root: Path, model: WakeModelName, split: str, refractory_s: float) -> None:
    """What the lowered listener adds to the main one at normal, per cutoff: clips woken by either (before the
    transcript check), and the extra candidates it hands the check in talk (fires more than 1 s from any of
    the main listener's)."""
    point = OPERATING_POINTS[model][Sensitivity.NORMAL]
    stretch = float(LOWERED_VOICE)  # the lowered listener's frames are 30 ms of stretched audio

    def main_fires(p: Probs) -> list[float]:
        return [t for t, _ in fires(p, point.cutoff, point.window, refractory_s, point.sure)]

    def lowered_fires(p: Probs, cutoff: float) -> list[float]:
        return [t * stretch for t, _ in fires(p, cutoff, 1, refractory_s / stretch, math.inf)]

    for cutoff in (0.05, 0.1, 0.15, 0.2, 0.3):
        row = [f"{model.value} {split} lowered cutoff {cutoff:.2f}:"]
        for condition in POS_CONDITIONS:
            main = load_probs(root, model.value, split, "pos", condition)
            low = load_probs(root, model.value, split, "pos", condition, "lowered")
            alone = sum(bool(main_fires(p)) for p in main.values()) / len(main)
            either = sum(bool(main_fires(main[k]) or lowered_fires(low[k], cutoff)) for k in main) / len(main)
            row.append(f"{condition} {100 * alone:.0f}->{100 * either:.0f}%")
        for kind in NEG_KINDS:
            for condition in NEG_CONDITIONS:
                main = load_probs(root, model.value, split, kind, condition)
                low = load_probs(root, model.value, split, kind, condition, "lowered")
                hours = sum(len(p) for p in main.values()) * STEP_S / 3600
                base = sum(len(main_fires(p)) for p in main.values())
                extra = sum(
                    all(abs(t - u) > 1.0 for u in main_fires(main[k]))
                    for k in main
                    for t in lowered_fires(low[k], cutoff)
                )
                row.append(f"{kind} {condition} {base / hours:.0f}+{extra / hours:.0f}/h")
        print("  ".join(row), flush=True)


def shipped(model: WakeModelName, sensitivity: Sensitivity, *, confirm: bool) -> Settings:
    """The unit's settings for this model and sensitivity (one Whisper thread: the runs go side by side)."""
    return Settings(
        wake_model=model,
        wake_sensitivity=sensitivity,
        wake_confirm=confirm,
        whisper_threads=1,
        wake_noise_suppression_db=NOISE_SUPPRESSION_DB,
    )


def system(
    root: Path,
    model: WakeModelName,
    split: str,
    sensitivity: Sensitivity,
    lowered_cutoff: float | None = None,
) -> None:
    """The shipped detector, transcript check included (Whisper on each borderline wake), over the split;
    with ``lowered_cutoff``, the lowered listener fires at that instead (to measure other points)."""
    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    kitchen, _ = read_wav(speech.KITCHEN_WAV)
    settings = shipped(model, sensitivity, confirm=True)
    transcribe = whisper_transcriber(settings)

    def make() -> MicroWakeWordDetector:
        if lowered_cutoff is None:
            return MicroWakeWordDetector.from_settings(settings, transcribe)
        lowered = WakeDecider(
            cutoff=lowered_cutoff, window=1, refractory_s=settings.wake_refractory_s, sure=math.inf
        )
        return MicroWakeWordDetector(
            model,
            WakeDecider.from_settings(settings),
            transcribe,
            noise_suppression_db=suppression(model),
            lowered=lowered,
        )

    def run(audio: Audio) -> tuple[int, int]:
        detector = make()
        wakes = sum(
            detector.process(audio[i : i + CHUNK_SAMPLES]) is not None
            for i in range(0, len(audio) - CHUNK_SAMPLES + 1, CHUNK_SAMPLES)
        )
        return wakes, sum(not c.accepted for c in detector.checks)

    clips = [c for c in manifest["positives"] if c["model"] == model.value and c["split"] == split]
    for condition in ("clean", "kitchen10", "kitchen5"):
        results = []
        for seed, clip in enumerate(clips):
            audio, _ = read_wav(root / "pos" / f"{clip['id']}.wav")
            results.append(run(noisy(audio, condition, split, seed, kitchen)))
        woke = sum(w > 0 for w, _ in results) / len(results)
        rejected = sum(r for _, r in results)
        print(
            f"{condition:9} woken {100 * woke:.0f}% of {len(results)}; checks that said no: {rejected}",
            flush=True,
        )
    for kind in NEG_KINDS:
        talks = [n for n in manifest["negatives"] if n["split"] == split and n["kind"] == kind]
        for condition in NEG_CONDITIONS:
            wakes = rejected = 0
            for seed, entry in enumerate(talks):
                audio, _ = read_wav(root / "neg" / f"{entry['id']}.wav")
                w, r = run(noisy(audio, condition, split, seed, kitchen))
                wakes, rejected = wakes + w, rejected + r
            minutes = len(talks) * float(talks[0]["seconds"]) / 60
            print(
                f"{kind} {condition:9} {wakes} false wakes in {minutes:.0f} min; {rejected} stopped by the check"
            )


def harness(model: WakeModelName, sensitivity: Sensitivity, confirm: bool) -> None:
    """Recordings made as the tests make them (``tests/speech.utterance``, ``in_noise``): three voices, ten
    commands, clean and kitchen noise at 10 and 5 dB, through the shipped detector."""
    from tools.wake_data import HELD_COMMANDS, TUNE_COMMANDS, WAKE_PHRASES

    settings = shipped(model, sensitivity, confirm=confirm)
    transcribe = whisper_transcriber(settings) if confirm else None
    commands = (TUNE_COMMANDS + HELD_COMMANDS)[:10]
    for voice in ("piper", "en-us", "en-us+m3"):
        clips = [speech.utterance(c, voice=voice, wake=WAKE_PHRASES[model.value]) for c in commands]
        row = []
        for snr in (None, 10.0, 5.0):
            woken = 0
            for seed, u in enumerate(clips):
                audio = u.audio if snr is None else speech.in_noise(u, "kitchen", snr, seed=seed).audio
                detector = MicroWakeWordDetector.from_settings(settings, transcribe)
                woken += any(
                    detector.process(audio[i : i + CHUNK_SAMPLES]) is not None
                    for i in range(0, len(audio) - CHUNK_SAMPLES + 1, CHUNK_SAMPLES)
                )
            row.append(f"{'clean' if snr is None else f'{snr:.0f} dB'} {woken}/{len(clips)}")
        print(f"{voice:9}", "  ".join(row), flush=True)


def main() -> int:
    global NOISE_SUPPRESSION_DB, LISTENER
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "action", choices=["probs", "sweep", "table", "voices", "system", "harness", "lowered"]
    )
    parser.add_argument("--sensitivity", choices=[x.value for x in Sensitivity], default="normal")
    parser.add_argument("--root", type=Path, default=Path("/tmp/wake-data"))
    parser.add_argument("--split", choices=["tune", "held"], default="tune")
    parser.add_argument("--model", action="append", choices=[m.value for m in WakeModelName])
    parser.add_argument("--refractory", type=float, default=2.0)
    parser.add_argument(
        "--no-confirm", action="store_true", help="for 'harness': without the transcript check"
    )
    parser.add_argument("--condition", default="kitchen5", help="for 'voices': the noise condition")
    parser.add_argument(
        "--noise-suppression",
        type=int,
        metavar="DB",
        help="speex noise suppression in front of the model (0 = off); default: each model's shipped choice",
    )
    parser.add_argument(
        "--listener", choices=["main", "lowered"], default="main", help="for 'probs': which listener's"
    )
    parser.add_argument(
        "--lowered-cutoff",
        type=float,
        help="for 'system': the lowered listener's cutoff instead of the shipped",
    )
    args = parser.parse_args()
    NOISE_SUPPRESSION_DB = args.noise_suppression
    LISTENER = args.listener
    models = [WakeModelName(m) for m in args.model] if args.model else list(WakeModelName)
    if args.action == "probs":
        compute_all(args.root, models)
    elif args.action == "sweep":
        sweep(args.root, models, args.split, args.refractory)
    elif args.action == "table":
        print(table(args.root, models, args.split, args.refractory))
    elif args.action == "harness":
        for model in models:
            harness(model, Sensitivity(args.sensitivity), not args.no_confirm)
    elif args.action == "lowered":
        for model in models:
            lowered(args.root, model, args.split, args.refractory)
    elif args.action == "system":
        for model in models:
            system(args.root, model, args.split, Sensitivity(args.sensitivity), args.lowered_cutoff)
    else:
        for model in models:
            point = OPERATING_POINTS[model][Sensitivity.NORMAL]
            cutoff, window = point.cutoff, point.window
            rates = per_voice(args.root, model.value, args.split, cutoff, window, args.condition)
            print(model.value, {v: round(100 * r) for v, r in rates.items()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
