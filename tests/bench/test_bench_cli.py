"""`larder bench` end to end in a real process: real models over committed clips, a bad line, a missing file."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from device.audio.wav import write_wav
from device.bench.results import SUMMARY_KEYS
from device.protocols import SAMPLE_RATE

pytestmark = pytest.mark.models
SMALL = Path(__file__).resolve().parents[1] / "data" / "bench"


def test_bench_over_a_few_files(tmp_path: Path) -> None:
    lines = [json.loads(x) for x in (SMALL / "manifest.jsonl").read_text().splitlines()]
    piper_clean = next(x for x in lines if x["cond"] == "piper-clean")
    noisy = next(x for x in lines if x["cond"] == "piper-10dB")
    (tmp_path / "clips").mkdir()
    shutil.copy(SMALL / piper_clean["path"], tmp_path / piper_clean["path"])  # relative to the manifest
    noisy["path"] = str(SMALL / noisy["path"])
    write_wav(tmp_path / "silence.wav", np.zeros(24000, dtype=np.int16), SAMPLE_RATE)
    manifest = tmp_path / "manifest.jsonl"
    manifest.write_text(
        "\n".join(
            [
                json.dumps(piper_clean),
                "{this line is broken",
                json.dumps({"path": "clips/absent.wav", "text": "add milk", "expect": {"action": "add"}}),
                json.dumps(noisy),
                json.dumps({"path": "silence.wav", "text": "how many eggs", "expect": {"action": "query"}}),
            ]
        )
        + "\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("LARDER_")}
    env |= {"LARDER_DATA_DIR": str(tmp_path / "data"), "LARDER_ENV_FILE": str(tmp_path / "none.env")}
    out_dir = tmp_path / "report"
    args = ["--manifest", str(manifest), "--json", "--out", str(out_dir), "--idle-seconds", "3"]
    run = subprocess.run(
        [sys.executable, "-m", "device", "bench", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
    )
    assert run.returncode == 1, run.stderr  # two lines could not be used: reported, the others done
    assert "Traceback" not in run.stderr
    records = [json.loads(line) for line in run.stdout.splitlines()]
    summary = records[-1]
    assert tuple(summary) == SUMMARY_KEYS
    assert summary["files"] == 5
    for key in SUMMARY_KEYS[1:]:
        assert isinstance(summary[key], float), key
    # four lines carry `expect` (the broken line's is unknown); the missing and the silent file are misses
    assert round(summary["accuracy"] * 4, 2) in {0, 1, 2}
    assert 0 < summary["latency_p50_s"] <= summary["latency_p95_s"]
    assert 0 < summary["idle_cpu_fraction"] < 1 and summary["peak_rss_mb"] > 100

    per_file = {r["line"]: r for r in records[:-2]}
    assert "not valid JSON" in per_file[2]["error"]
    assert "absent.wav" in per_file[3]["error"]
    assert "no speech" in per_file[5]["error"]
    for line in (1, 4):
        record = per_file[line]
        assert "error" not in record and record["transcript"] and record["peer_transcript"]
        assert set(record["command"]) == {
            "action",
            "item",
            "quantity",
            "unit",
            "location",
            "to_location",
            "confidence",
        }
        assert record["latency_s"] == pytest.approx(sum(record["stages"].values()), abs=1e-3)
    details = records[-2]
    assert details["details"] and details["failures"] == 3 and details["bad_inputs"] == 2
    assert set(details["conditions"]) == {"piper-clean", "piper-10dB"}

    report = (out_dir / "report.md").read_text()
    assert "Latency per stage" in report and "piper-10dB" in report
    assert (out_dir / "latency.png").stat().st_size > 0
    assert (out_dir / "accuracy.png").stat().st_size > 0


def test_a_missing_manifest_is_one_plain_sentence(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "device", "bench", "--manifest", str(tmp_path / "none.jsonl")],
        capture_output=True,
        text=True,
        env=os.environ | {"LARDER_ENV_FILE": str(tmp_path / "none.env")},
        timeout=60,
    )
    assert run.returncode == 1
    assert run.stderr.startswith("larder: bench error: the manifest") and "Traceback" not in run.stderr


def _bench(tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "device", "bench", "--manifest", str(SMALL / "manifest.jsonl"), *extra],
        capture_output=True,
        text=True,
        env=os.environ | {"LARDER_ENV_FILE": str(tmp_path / "none.env"), "LARDER_DATA_DIR": str(tmp_path)},
        timeout=60,
    )


def test_an_unwritable_report_folder_fails_before_the_run(tmp_path: Path) -> None:
    a_file = tmp_path / "report"
    a_file.write_text("not a folder\n", encoding="utf-8")
    run = _bench(tmp_path, "--out", str(a_file))
    assert run.returncode == 1
    assert run.stderr.startswith(f"larder: bench error: cannot write the report to {a_file}")
    assert "loading models" not in run.stderr and "Traceback" not in run.stderr
    assert a_file.read_text(encoding="utf-8") == "not a folder\n"


@pytest.mark.parametrize("seconds", ["inf", "-1", "nan", "soon"])
def test_idle_seconds_must_be_a_length(tmp_path: Path, seconds: str) -> None:
    run = _bench(tmp_path, "--idle-seconds", seconds)
    assert run.returncode == 2
    assert "--idle-seconds" in run.stderr and "Traceback" not in run.stderr
