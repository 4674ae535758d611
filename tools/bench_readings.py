"""What scoring readings costs: Whisper's CPU and wall time per command for the hearing alone (features, encoder,
greedy decoding), for the second guess alone (a beam search when the hearing is no command), and for the readings
step that replaces it (the same, plus the grammar's proposals, one batched forced decoder pass over them and the
choice), over the files of a bench manifest.

    .venv/bin/python tools/bench_readings.py /tmp/heldout2.jsonl [--limit 60]

CPU is the process's (every thread); run it on a quiet machine and say the load average with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from device.audio.wav import WavMicrophone
from device.intent.readings import GrammarReadings
from device.inventory.catalog import demo_catalogue
from device.settings import load_settings
from device.stt.prompt import initial_prompt
from device.stt.whisper import WhisperEngine


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("manifest", type=Path)
    parser.add_argument("--limit", type=int, default=0, help="only the first N files")
    args = parser.parse_args()
    lines = [json.loads(x) for x in args.manifest.read_text(encoding="utf-8").splitlines() if x.strip()]
    lines = lines[: args.limit or None]
    engine = WhisperEngine.from_settings(load_settings())
    catalogue = demo_catalogue()
    prompt = initial_prompt(catalogue, count_tokens=engine.count_tokens)
    readings = GrammarReadings(catalogue)
    engine.warm_up()
    hear_cpu, hear_wall, extra_cpu, extra_wall, old_cpu, scored = [], [], [], [], [], []
    for line in lines:
        path = Path(line["path"])
        audio = WavMicrophone(path if path.is_absolute() else args.manifest.parent / path).load()
        cpu, wall = time.process_time(), time.perf_counter()
        hearing = engine.hear(audio, prompt=prompt)
        hear_cpu.append(time.process_time() - cpu)
        hear_wall.append(time.perf_counter() - wall)
        cpu = time.process_time()
        engine.second_guess(
            hearing, readings.accept
        )  # without readings: a beam search only for a non-command
        old_cpu.append(time.process_time() - cpu)
        cpu, wall = time.process_time(), time.perf_counter()
        engine.second_guess(hearing, readings.accept, readings)
        extra_cpu.append(time.process_time() - cpu)
        extra_wall.append(time.perf_counter() - wall)
        scored.append(1 + len(readings.propose([hearing.transcript.text])) if hearing.transcript.text else 0)

    def ms(values: list[float], q: float) -> str:
        ordered = sorted(values)
        return f"{ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000:.0f} ms"

    print(f"{len(lines)} files, load average {os.getloadavg()[0]:.2f}")
    print(f"hearing:  CPU p50 {ms(hear_cpu, 0.5)} p95 {ms(hear_cpu, 0.95)}; wall p50 {ms(hear_wall, 0.5)}")
    print(
        f"readings (scoring, and a beam search when the hearing is no command): CPU p50 {ms(extra_cpu, 0.5)} "
        f"p95 {ms(extra_cpu, 0.95)}; wall p50 {ms(extra_wall, 0.5)} p95 {ms(extra_wall, 0.95)}"
    )
    print(
        f"the same step without readings (the second guess alone): CPU p50 {ms(old_cpu, 0.5)} p95 {ms(old_cpu, 0.95)}"
    )
    extra = [new - old for new, old in zip(extra_cpu, old_cpu, strict=True)]
    print(
        f"scoring's own CPU per command: mean {statistics.mean(extra) * 1000:.0f} ms, p95 {ms(extra, 0.95)}"
    )
    print(f"readings scored per command: mean {statistics.mean(scored):.1f}, max {max(scored)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
