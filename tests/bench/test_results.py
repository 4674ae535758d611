"""Aggregating a run: failures count against accuracy and WER, latency sums the stages, the summary's shape."""

from __future__ import annotations

import pytest

from device.bench.results import STAGES, SUMMARY_KEYS, BenchResult, FileResult, IdleResult

ADD = {"action": "add", "item": "oat milk", "quantity": 3}


def timed(*values: float) -> dict[str, float]:
    return dict(zip(STAGES, values, strict=True))


def test_accuracy_wer_latency_and_ratio() -> None:
    right = FileResult(
        line=1,
        path="a.wav",
        cond="clean",
        text="add three oat milk",
        expect=ADD,
        transcript="Add 3 oat milk.",
        command=dict(ADD, quantity=3.0, confidence=0.9),
        stages=timed(0.5, 0.6, 0.01, 0.2),
        stt_seconds=0.6,
        peer_transcript="add three oak milk",
        peer_seconds=1.2,
        peer_command={"action": "unknown"},
    )
    wrong = FileResult(
        line=2,
        path="b.wav",
        cond="noisy",
        text="add three oat milk",
        expect=ADD,
        transcript="add tree oat milk",
        command=dict(ADD, quantity=None),
        stages=timed(0.7, 0.8, 0.01, 0.3),
        stt_seconds=0.8,
        peer_transcript="add three oat milk",
        peer_seconds=0.8,
        peer_command=dict(ADD),
    )
    missing = FileResult(
        line=3, path="c.wav", cond="noisy", text="how many eggs", expect={"action": "query"}, error="gone"
    )
    unscored = FileResult(line=4, path="d.wav", stages=timed(0.5, 0.5, 0.0, 0.1), transcript="hello")
    result = BenchResult(
        files=[right, wrong, missing, unscored],
        idle=IdleResult("noise.wav", 60.0, 0.003, 0.04, 0.004, 0),
        peak_rss_mb=400.5,
        peer={"engine": "peer"},
    )
    assert right.latency_s == pytest.approx(1.31)
    assert missing.latency_s is None and missing.correct is False
    assert unscored.correct is None
    assert result.accuracy() == pytest.approx(1 / 3)
    assert result.accuracy(peer=True) == pytest.approx(1 / 3)
    assert result.accuracy(cond="noisy") == 0.0
    # Larder: 0 + 1 + 3 (the failed file heard nothing) edits over 4 + 4 + 3 words; the peer: 1 + 0 + 3
    assert result.wer() == pytest.approx(4 / 11)
    assert result.wer(peer=True) == pytest.approx(4 / 11)
    assert result.stt_time_ratio() == pytest.approx((0.6 + 0.8) / (1.2 + 0.8))
    summary = result.summary()
    assert tuple(summary) == SUMMARY_KEYS
    assert summary["files"] == 4
    assert summary["latency_p50_s"] == pytest.approx(1.31)
    assert summary["idle_cpu_fraction"] == 0.04
    assert summary["peak_rss_mb"] == 400.5
    details = result.details()
    assert details["failures"] == 1
    assert details["stages"]["total"]["max"] == pytest.approx(1.81)
    assert set(details["conditions"]) == {"clean", "noisy"}
    assert details["conditions"]["noisy"]["files"] == 2


def test_without_peer_or_expectations_the_figures_are_null() -> None:
    result = BenchResult(files=[FileResult(line=1, path="a.wav", stages=timed(0.1, 0.2, 0.0, 0.1))])
    summary = result.summary()
    assert summary["accuracy"] is None and summary["wer"] is None and summary["peer_wer"] is None
    assert summary["stt_time_ratio_vs_peer"] is None and summary["idle_cpu_fraction"] is None
    assert summary["latency_p95_s"] == pytest.approx(0.4)
