"""Silent wrong changes: a stock change applied without a question that is not what was said."""

from __future__ import annotations

import pytest

from device.bench import trust
from device.bench.results import BenchResult, FileResult

TWO_CASES = {"action": "add", "item": "lemons", "quantity": 2, "unit": "case"}
ORDER = {"action": "unknown", "item": None}


def heard(line: int, cond: str, expect: dict, status: str, **got: object) -> FileResult:
    command = {**expect, **got, "confidence": 0.9}
    return FileResult(
        line=line,
        path=f"{line}.wav",
        cond=cond,
        text="said",
        expect=expect,
        command=command,
        status=status,
        transcript="heard",
    )


@pytest.mark.parametrize(
    ("expect", "status", "got", "wrong", "non_command"),
    [
        (TWO_CASES, "applied", {}, False, False),  # right, applied
        (TWO_CASES, "applied", {"quantity": 1}, True, False),  # "few cases" applied as one case
        (TWO_CASES, "pending", {"quantity": 1}, False, False),  # the same, asked about: nothing changed
        (TWO_CASES, "refused", {"unit": "tray"}, False, False),
        (TWO_CASES, "unknown", {"action": "unknown"}, False, False),  # "Sorry, I didn't catch that"
        (ORDER, "applied", {"action": "add", "item": "oat milk"}, True, True),  # an order changed stock
        (ORDER, "unknown", {}, False, False),
        ({"action": "cancel"}, "undone", {}, False, False),  # "cancel that" undid the last change: as said
        ({"action": "query", "item": "bacon"}, "undone", {"action": "undo", "item": None}, True, True),
    ],
)
def test_silent_wrong_table(expect: dict, status: str, got: dict, wrong: bool, non_command: bool) -> None:
    f = heard(1, "piper-kitchen10", expect, status, **got)
    assert trust.silent_wrong(f) is wrong
    assert trust.non_command_changed(f) is non_command


def test_a_failed_file_or_one_without_expect_changed_nothing_we_can_judge() -> None:
    failed = heard(1, "x-clean", TWO_CASES, "applied", quantity=1)
    failed.error = "line 1: transcribe failed"
    assert trust.silent_wrong(failed) is False
    assert trust.silent_wrong(FileResult(line=2, path="b.wav", status="applied")) is None


def test_tally_by_noise_and_condition_and_the_report_section() -> None:
    files = [
        heard(1, "piper-0.9-clean", TWO_CASES, "applied"),
        heard(2, "piper-0.9-kitchen10", TWO_CASES, "applied", quantity=1),
        heard(3, "espeak-us-kitchen10", TWO_CASES, "pending", quantity=1),
        heard(4, "espeak-us-kitchen10", ORDER, "applied", action="add", item="oat milk"),
    ]
    found = trust.trust(files)
    assert found["all"] == {
        "files": 4,
        "right": 1,
        "silent_wrong": 2,
        "non_command_changed": 1,
        "asked": 1,
        "accuracy": 0.25,
        "silent_wrong_rate": 0.5,
        "non_command_changed_rate": 0.25,
        "asked_rate": 0.25,
    }
    assert list(found["by_noise"]) == ["clean", "kitchen10"]
    assert found["by_noise"]["kitchen10"]["silent_wrong"] == 2
    assert found["by_condition"]["espeak-us-kitchen10"]["asked"] == 1
    assert found["silent_wrong_files"] == [2, 4]
    details = BenchResult(files=files).details()
    assert details["trust"]["all"]["silent_wrong"] == 2
    assert files[1].to_json()["silent_wrong"] is True
    section = "\n".join(trust.markdown(files))
    assert "| noise kitchen10 | 3 | 0.0% | 2 (66.7%) | 1 | 1 (33.3%) |" in section
    assert "line 2 (piper-0.9-kitchen10)" in section
