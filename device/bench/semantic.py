"""Semantic endpointing on against off, over the same files in one run (pure aggregation of ``FileResult``s).

Per side: accuracy, latency p50 / p95 (end of speech -> first reply audio), the early-end rate (turns ended by
the words, ``endpoint == "semantic"``), the cut-too-soon rate (turns that ended while the file still had more
than ``CUT_TOLERANCE_S`` of speech to come: the cook was mid-command) and how many of those were applied (a
half command changed stock). Files that failed count in every rate's denominator. Where the time went: p50 /
p95 of each stage (``results.STAGES``) and of each step of the final pause (``results.MARKS``, seconds after
the end of speech), over the files that reached it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from device.bench import metrics
from device.bench.results import MARKS, STAGES

#: speech left after the endpoint's end of speech beyond this means the turn was closed mid-command
CUT_TOLERANCE_S = 0.2


def cut_short(record: Any) -> bool:
    return record.speech_left_s is not None and record.speech_left_s > CUT_TOLERANCE_S


def side(files: Sequence[Any]) -> dict[str, Any]:
    """The figures of one side (``files`` are ``FileResult``s)."""
    count = len(files)
    scored = [f for f in files if f.expect is not None]
    latencies = [x for x in (f.latency_s for f in files) if x is not None]
    cut = [f for f in files if cut_short(f)]

    def rate(n: int, of: int) -> float | None:
        return round(n / of, 4) if of else None

    def rounded(value: float | None) -> float | None:
        return None if value is None else round(value, 4)

    def spread(values: list[float]) -> dict[str, float | None]:
        return {
            "n": len(values),
            "p50": rounded(metrics.percentile(values, 50)),
            "p95": rounded(metrics.percentile(values, 95)),
        }

    timed = [f for f in files if f.latency_s is not None]
    return {
        "files": count,
        "accuracy": rate(sum(bool(f.correct) for f in scored), len(scored)),
        "latency_p50_s": rounded(metrics.percentile(latencies, 50)),
        "latency_p95_s": rounded(metrics.percentile(latencies, 95)),
        "early_end_rate": rate(sum(f.endpoint == "semantic" for f in files), count),
        "cut_short_rate": rate(len(cut), count),
        "cut_short_applied": sum(f.status == "applied" for f in cut),
        "stages": {stage: spread([f.stages[stage] for f in timed]) for stage in STAGES},
        "marks": {mark: spread([f.marks[mark] for f in timed if mark in f.marks]) for mark in MARKS},
    }


def compare(files: Sequence[Any], other: Sequence[Any]) -> dict[str, Any]:
    """``on`` and ``off`` figures over the same files, whichever side the settings made the main run."""
    everything = [*files, *other]
    on = [f for f in everything if f.semantic]
    off = [f for f in everything if f.semantic is False]
    return {"on": side(on), "off": side(off)}
