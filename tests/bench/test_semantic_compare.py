"""Semantic endpointing on against off in a bench run: the rates and latencies of each side, from FileResults."""

from __future__ import annotations

from device.bench.results import STAGES, BenchResult, FileResult
from device.bench.runner import default_first

ADD = {"action": "add", "item": "oat milk", "quantity": 3}


def run(line: int, *, semantic: bool, endpoint: str, left: float, right: bool, total: float) -> FileResult:
    return FileResult(
        line=line,
        path=f"{line}.wav",
        expect=ADD,
        command=dict(ADD, confidence=0.97) if right else dict(ADD, item=None, confidence=0.35),
        status="applied" if right or left > 0.2 else "refused",
        endpoint=endpoint,
        stages=dict(zip(STAGES, (total, 0.0, 0.0, 0.0), strict=True)),
        marks={"vad_end_s": 0.05, "words_judged_s": total - 0.1} if semantic else {"vad_end_s": 0.07},
        semantic=semantic,
        speech_left_s=left,
    )


def test_each_side_over_the_same_files() -> None:
    on = [
        run(1, semantic=True, endpoint="semantic", left=0.0, right=True, total=0.4),
        run(2, semantic=True, endpoint="silence", left=0.0, right=True, total=0.6),
    ]
    off = [
        run(1, semantic=False, endpoint="silence", left=0.0, right=True, total=0.6),
        # ended in the cook's pause with 1.2 s of speech to come; the first half was applied
        run(2, semantic=False, endpoint="silence", left=1.2, right=False, total=0.6),
    ]
    comparison = BenchResult(files=on, semantic_other=off).semantic()
    assert comparison is not None
    assert comparison["on"] == {
        "files": 2,
        "accuracy": 1.0,
        "latency_p50_s": 0.5,
        "latency_p95_s": 0.59,
        "early_end_rate": 0.5,
        "cut_short_rate": 0.0,
        "cut_short_applied": 0,
        "stages": {
            "endpoint_delay_s": {"n": 2, "p50": 0.5, "p95": 0.59},
            "speech_end_to_transcript_s": {"n": 2, "p50": 0.0, "p95": 0.0},
            "transcript_to_command_s": {"n": 2, "p50": 0.0, "p95": 0.0},
            "command_to_first_audio_s": {"n": 2, "p50": 0.0, "p95": 0.0},
        },
        "marks": {
            "vad_end_s": {"n": 2, "p50": 0.05, "p95": 0.05},
            "draft_started_s": {"n": 0, "p50": None, "p95": None},
            "words_judged_s": {"n": 2, "p50": 0.4, "p95": 0.49},
            "final_asked_s": {"n": 0, "p50": None, "p95": None},
            "reply_prepared_s": {"n": 0, "p50": None, "p95": None},
        },
    }
    assert comparison["off"]["accuracy"] == 0.5 and comparison["off"]["early_end_rate"] == 0.0
    assert comparison["off"]["marks"]["vad_end_s"] == {"n": 2, "p50": 0.07, "p95": 0.07}
    assert (comparison["off"]["cut_short_rate"], comparison["off"]["cut_short_applied"]) == (0.5, 1)
    # the same whichever side the settings made the main run
    assert BenchResult(files=off, semantic_other=on).semantic() == comparison
    assert BenchResult(files=on).semantic() is None and "semantic" in BenchResult(files=on).details()


def test_the_side_that_runs_first_alternates_by_command_not_by_file() -> None:
    # the files of one command follow each other (two voices, clean and noisy): only the first of them finds its
    # reply missing from the phrase cache, so alternating by file would hand every render to the same side
    commands: dict[str, int] = {}
    texts = [
        "add four eggs",
        "add four eggs",
        "add four eggs",
        "toss the salmon",
        "toss the salmon",
        "undo",
        None,
    ]
    assert [default_first(commands, text) for text in texts] == [True, True, True, False, False, True, False]
