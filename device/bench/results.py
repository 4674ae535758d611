"""What a benchmark run found: one ``FileResult`` per manifest line, the idle and memory figures, and the
summary the CLI prints as its last JSON line. Aggregation only (pure): the runner fills these in.

Counting rules: a line that could not be run (bad JSON, missing WAV, a stage that failed) is a failure. Among
lines with ``expect`` it counts as a miss for accuracy; among lines with ``text`` it counts as an empty
transcript for both engines' WER. Latency percentiles cover the files that got a reply.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from device.bench import metrics, trust

STAGES = (
    "endpoint_delay_s",
    "speech_end_to_transcript_s",
    "transcript_to_command_s",
    "command_to_first_audio_s",
)
#: when the steps of the cook's final pause happened, seconds after the end of speech in the file (real-time runs):
#: the endpointer's end of speech (the VAD's lag), Whisper starting on the draft, the words first judged (a
#: draft ready, an interim, an early final), Deepgram's Finalize sent early, and the reply's first clause
#: started rendering before the turn ended
MARKS = ("vad_end_s", "draft_started_s", "words_judged_s", "final_asked_s", "reply_prepared_s")
SUMMARY_KEYS = (
    "files",
    "accuracy",
    "wer",
    "peer_wer",
    "stt_time_ratio_vs_peer",
    "latency_p50_s",
    "latency_p95_s",
    "idle_cpu_fraction",
    "peak_rss_mb",
)


@dataclass
class FileResult:
    """One manifest line: what Larder heard and did, how long each stage took, and what the peer heard."""

    line: int
    path: str
    cond: str | None = None
    text: str | None = None
    expect: dict[str, Any] | None = None
    transcript: str | None = None
    command: dict[str, Any] | None = None
    reply: str | None = None
    status: str | None = None
    endpoint: str | None = None
    stages: dict[str, float] = field(default_factory=dict)
    #: ``MARKS`` this file reached (a step that did not happen is absent)
    marks: dict[str, float] = field(default_factory=dict)
    #: Whisper's compute time for this file (the stage above can be shorter: a draft overlaps the pause)
    stt_seconds: float | None = None
    error: str | None = None
    #: the line or its files could not be used (as opposed to a stage that failed on good input)
    bad_input: bool = False
    #: Piper synthesised part of the reply (False: every clause came from the phrase cache)
    reply_rendered: bool | None = None
    peer_transcript: str | None = None
    peer_seconds: float | None = None
    peer_command: dict[str, Any] | None = None
    peer_error: str | None = None
    #: semantic endpointing was on for this run of the file
    semantic: bool | None = None
    #: speech in the file after the end of speech the endpointer settled on (``speech_end_s`` minus it)
    speech_left_s: float | None = None

    @property
    def latency_s(self) -> float | None:
        """End of speech -> first reply audio: the four stages added up."""
        if self.error is not None or any(stage not in self.stages for stage in STAGES):
            return None
        return sum(self.stages[stage] for stage in STAGES)

    @property
    def wrong_keys(self) -> list[str] | None:
        return None if self.expect is None else metrics.mismatches(self.expect, self.command)

    @property
    def correct(self) -> bool | None:
        """All expected keys match (None: nothing expected; a file that failed is never correct)."""
        wrong = self.wrong_keys
        return None if wrong is None else not wrong and self.error is None

    @property
    def peer_correct(self) -> bool | None:
        if self.expect is None:
            return None
        ran = self.error is None or self.peer_transcript is not None
        return ran and not metrics.mismatches(self.expect, self.peer_command)

    def to_json(self) -> dict[str, Any]:
        latency = self.latency_s
        record: dict[str, Any] = {
            "line": self.line,
            "file": self.path,
            "cond": self.cond,
            "transcript": self.transcript,
            "command": self.command,
            "reply": self.reply,
            "status": self.status,
            "match": self.correct,
            "wrong_keys": self.wrong_keys,
            "endpoint": self.endpoint,
            "latency_s": _round(latency),
            "stages": {k: _round(v) for k, v in self.stages.items()},
            "marks": {k: _round(v) for k, v in self.marks.items()},
            "reply_rendered": self.reply_rendered,
            "silent_wrong": trust.silent_wrong(self),
            "peer_transcript": self.peer_transcript,
            "peer_seconds": _round(self.peer_seconds),
            "semantic": self.semantic,
            "speech_left_s": _round(self.speech_left_s),
        }
        if self.error is not None:
            record["error"] = self.error
        if self.peer_error is not None:
            record["peer_error"] = self.peer_error
        return record


@dataclass(frozen=True)
class IdleResult:
    """CPU seconds per second of audio while listening for the wake word, over ``audio_s`` of noise."""

    source: str
    audio_s: float
    wake_only: float
    wake_and_vad: float
    pipeline_idle: float
    false_wakes: int


@dataclass
class BenchResult:
    files: list[FileResult]
    idle: IdleResult | None = None
    peak_rss_mb: float | None = None
    peer: dict[str, Any] | None = None
    machine: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    #: the same files with semantic endpointing the other way (None: not compared)
    semantic_other: list[FileResult] | None = None

    def semantic(self) -> dict[str, Any] | None:
        """Semantic endpointing on against off over the same files (``device.bench.semantic``)."""
        from device.bench.semantic import compare

        return None if self.semantic_other is None else compare(self.files, self.semantic_other)

    @property
    def bad_inputs(self) -> list[FileResult]:
        return [f for f in self.files if f.bad_input]

    @property
    def failures(self) -> list[FileResult]:
        return [f for f in self.files if f.error is not None]

    def latencies(self) -> list[float]:
        return [x for x in (f.latency_s for f in self.files) if x is not None]

    def accuracy(self, *, peer: bool = False, cond: str | None = None) -> float | None:
        scored = [f for f in self.files if f.expect is not None and (cond is None or f.cond == cond)]
        if not scored:
            return None
        return sum(bool(f.peer_correct if peer else f.correct) for f in scored) / len(scored)

    def wer(self, *, peer: bool = False, cond: str | None = None) -> float | None:
        if peer and self.peer is None:
            return None
        pairs = [
            (f.text, (f.peer_transcript if peer else f.transcript) or "")
            for f in self.files
            if f.text is not None and (cond is None or f.cond == cond)
        ]
        return metrics.corpus_wer(pairs)

    def stt_time_ratio(self) -> float | None:
        """Larder's transcription time over the peer's, summed over files both transcribed (< 1: faster)."""
        both = [
            (f.stt_seconds, f.peer_seconds)
            for f in self.files
            if f.stt_seconds is not None and f.peer_seconds is not None
        ]
        peer_total = sum(p for _, p in both)
        return sum(o for o, _ in both) / peer_total if both and peer_total > 0 else None

    def conditions(self) -> list[str]:
        """Condition labels in the order the manifest first names them."""
        return list(dict.fromkeys(f.cond for f in self.files if f.cond is not None))

    def by_condition(self) -> dict[str, dict[str, Any]]:
        rows: dict[str, dict[str, Any]] = {}
        for cond in self.conditions():
            members = [f for f in self.files if f.cond == cond]
            rows[cond] = {
                "files": len(members),
                "accuracy": _round(self.accuracy(cond=cond)),
                "peer_accuracy": _round(self.accuracy(peer=True, cond=cond)) if self.peer else None,
                "wer": _round(self.wer(cond=cond)),
                "peer_wer": _round(self.wer(peer=True, cond=cond)),
                "latency_p50_s": _round(metrics.percentile(_lat(members), 50)),
            }
        return rows

    def stage_spread(self) -> dict[str, dict[str, float | None]]:
        per_stage: dict[str, list[float]] = defaultdict(list)
        for f in self.files:
            if f.latency_s is None:
                continue
            for stage in STAGES:
                per_stage[stage].append(f.stages[stage])
            per_stage["total"].append(f.latency_s)
        return {
            k: {n: _round(v) for n, v in metrics.spread(per_stage[k]).items()} for k in (*STAGES, "total")
        }

    def rendered_first_audio(self) -> dict[str, Any]:
        """The first-reply-audio stage over replies Piper synthesised at least in part (not all from the cache)."""
        cold = [f.stages[STAGES[-1]] for f in self.files if f.latency_s is not None and f.reply_rendered]
        return {"files": len(cold), **{k: _round(v) for k, v in metrics.spread(cold).items()}}

    def peer_spread(self) -> dict[str, float | None]:
        """The peer's transcription time per file."""
        times = [f.peer_seconds for f in self.files if f.peer_seconds is not None]
        return {k: _round(v) for k, v in metrics.spread(times).items()}

    def summary(self) -> dict[str, Any]:
        """The nine figures of the last JSON line, in order."""
        latencies = self.latencies()
        values = {
            "files": len(self.files),
            "accuracy": self.accuracy(),
            "wer": self.wer(),
            "peer_wer": self.wer(peer=True),
            "stt_time_ratio_vs_peer": self.stt_time_ratio(),
            "latency_p50_s": metrics.percentile(latencies, 50),
            "latency_p95_s": metrics.percentile(latencies, 95),
            "idle_cpu_fraction": self.idle.wake_and_vad if self.idle else None,
            "peak_rss_mb": self.peak_rss_mb,
        }
        return {k: values[k] if k == "files" else _round(values[k]) for k in SUMMARY_KEYS}

    def details(self) -> dict[str, Any]:
        """Everything behind the summary (the line before it in ``--json`` output, and report.md)."""
        return {
            "details": True,
            "failures": len(self.failures),
            "bad_inputs": len(self.bad_inputs),
            "peer_accuracy": _round(self.accuracy(peer=True)) if self.peer else None,
            "stages": self.stage_spread(),
            "first_audio_rendered": self.rendered_first_audio(),
            "peer_transcribe": self.peer_spread(),
            "conditions": self.by_condition(),
            "trust": trust.trust(self.files),
            "idle": None if self.idle is None else {k: _round(v) for k, v in vars(self.idle).items()},
            "peer": self.peer,
            "machine": self.machine,
            "config": self.config,
            "semantic": self.semantic(),
        }


def _lat(files: list[FileResult]) -> list[float]:
    return [x for x in (f.latency_s for f in files) if x is not None]


def _round(value: Any, digits: int = 4) -> Any:
    return round(value, digits) if isinstance(value, float) else value
