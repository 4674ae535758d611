"""Spoken commands through ``larder simulate``'s path (VAD -> Whisper -> grammar), clean and in kitchen noise.

The manifest's held-out commands (34: the splits never tuned on), spoken by Piper joe at its natural rate (a rate
the full evaluation leaves out), clean and with real kitchen noise at 10 dB: all six keys of ``larder parse --json``
(confidence aside) must be right for at least 90% of the clean clips and 80% of the noisy ones. The full run, every
voice and condition, is ``tools/spoken_eval.py``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.spoken import harness

pytestmark = pytest.mark.models
CLEAN, KITCHEN10 = harness.CONDITIONS["clean"], harness.CONDITIONS["kitchen10"]


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> list[harness.Result]:
    lines = [line for line in harness.load() if line.split != "dev"]
    assert len(lines) >= 30 and len({line.expect["action"] for line in lines}) >= 10
    root = Path(tmp_path_factory.getbasetemp()) / "spoken"  # synthesized once per session
    unit = harness.make_unit(tmp_path_factory.mktemp("spoken-unit"))
    try:
        return asyncio.run(harness.run(unit, root, lines, [harness.PIPER_NATURAL], [CLEAN, KITCHEN10]))
    finally:
        unit.close()


def _check(results: list[harness.Result], condition: str, floor: float) -> None:
    part = [r for r in results if r.condition == condition]
    right = sum(r.right for r in part)
    wrong = [(r.line.text, r.transcript, r.wrong) for r in part if not r.right]
    assert part and right / len(part) >= floor, f"{condition}: {right}/{len(part)} right; wrong: {wrong}"


def test_clean_speech_at_least_90_percent_right(results: list[harness.Result]) -> None:
    _check(results, CLEAN.name, 0.9)


def test_kitchen_noise_at_10_db_at_least_80_percent_right(results: list[harness.Result]) -> None:
    _check(results, KITCHEN10.name, 0.8)


def test_every_result_carries_the_seven_keys(results: list[harness.Result]) -> None:
    keys = {*harness.KEYS, "confidence"}
    assert all(r.got is None or set(r.got) == keys for r in results)
    assert any(r.got is not None for r in results)
