"""`larder doctor` on this machine (no sound card, no GPIO, no systemd): real checks, real files, real pins."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from gpiozero import Device
from gpiozero.pins.mock import MockFactory

from device import __version__
from device.doctor import CheckSpec, Status, _guarded, exit_code, format_report, regressions, run_checks
from device.doctor.data import check_store
from device.doctor.hardware import check_gpio
from device.inventory.store import Store
from device.settings import Settings, load_settings


@pytest.fixture(autouse=True)
def unit_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Settings from the environment only (never this machine's /etc/larder), data in a temporary folder."""
    for name in (
        "LARDER_MIC_CHANNEL",
        "LARDER_SUPABASE_URL",
        "LARDER_DEEPGRAM_API_KEY",
        "GPIOZERO_PIN_FACTORY",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LARDER_ENV_FILE", str(tmp_path / "no-such.env"))
    monkeypatch.setenv("LARDER_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def by_name(results: list) -> dict:
    return {r.name: r for r in results}


def test_no_sound_card_fails_the_microphone_with_the_devices_named() -> None:
    results = run_checks(only=["config", "microphone", "speaker", "store", "sync", "llm", "supabase"])
    got = by_name(results)
    assert got["config"].status is Status.PASS
    mic = got["microphone"]
    assert mic.status is Status.FAIL
    assert "devices present: none" in mic.message
    assert mic.hint and "LARDER_MIC_DEVICE" in mic.hint
    assert got["speaker"].status is Status.FAIL and "LARDER_SPEAKER_DEVICE" in (got["speaker"].hint or "")
    assert got["store"].status is Status.WARN  # no store yet: the service makes it
    assert exit_code(results) == 1
    report = format_report(results)
    assert "FAIL  microphone  no microphone 'default'" in report
    assert "hint: plug the microphone in" in report
    assert report.splitlines()[-1].startswith("2 FAIL, 1 WARN, 4 PASS")


def test_the_version_line_names_the_release_and_its_store_schema() -> None:
    from device.inventory.migrations import SCHEMA_VERSION

    result = by_name(run_checks(only=["version"]))["version"]
    assert result.status is Status.PASS
    assert f"Larder {__version__} (store schema {SCHEMA_VERSION})" in result.message
    assert sys.prefix in result.message


def test_regressions_are_only_the_checks_that_newly_fail() -> None:
    now = run_checks(only=["config", "microphone", "speaker"])  # no sound card here: both FAIL
    assert regressions(now, [r.to_json() for r in now]) == []
    before = [{"name": "config", "status": "PASS"}, {"name": "microphone", "status": "FAIL"}]
    assert [r.name for r in regressions(now, before)] == ["speaker"]  # passed or absent before
    assert [r.name for r in regressions(now, [])] == ["microphone", "speaker"]


def test_doctor_with_a_baseline_fails_only_on_new_failures(tmp_path: Path) -> None:
    def doctor(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "device", "doctor", *args],
            capture_output=True,
            text=True,
            env=dict(os.environ),
            timeout=300,
            check=False,
        )

    first = doctor("--json")
    assert first.returncode == 1  # the microphone fails on this machine
    baseline = tmp_path / "before.json"
    baseline.write_text(first.stdout)
    same = doctor("--baseline", str(baseline))
    assert same.returncode == 0, same.stdout + same.stderr
    rows = json.loads(first.stdout)
    baseline.write_text(json.dumps([r for r in rows if r["name"] != "microphone"]))
    worse = doctor("--baseline", str(baseline))
    assert worse.returncode == 1 and "failing now and not in" in worse.stderr and "microphone" in worse.stderr
    baseline.write_text("{not json")
    bad = doctor("--baseline", str(baseline))
    assert bad.returncode == 2 and "cannot read the doctor baseline" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_a_corrupt_store_fails_and_is_left_alone(unit_env: Path) -> None:
    unit_env.mkdir()
    db = unit_env / "larder.db"
    db.write_bytes(b"SQLite format 3\x00" + b"\x13" * 4096)
    result = by_name(run_checks(only=["store"]))["store"]
    assert result.status is Status.FAIL
    assert "damaged" in result.message and result.hint and "moves the damaged file aside" in result.hint
    assert db.read_bytes().startswith(b"SQLite format 3\x00\x13")  # the doctor never moves or rewrites it
    assert not list(unit_env.glob("*.corrupt-*"))


def test_a_healthy_store_passes_with_its_event_count(unit_env: Path) -> None:
    settings = load_settings()
    Store.open(settings.db_path).close()
    result = check_store(settings)
    assert result.status is Status.PASS and result.message.startswith("0 events, integrity ok"), result


def test_a_config_error_fails_and_skips_what_needs_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LARDER_MIC_CHANNEL", "left")
    results = run_checks(only=["config", "microphone", "clock"])
    got = by_name(results)
    assert got["config"].status is Status.FAIL
    assert "LARDER_MIC_CHANNEL: got 'left', expected a whole number" in got["config"].message
    assert got["microphone"].status is Status.WARN and "skipped" in got["microphone"].message
    assert got["clock"].status in (Status.PASS, Status.WARN)  # runs anyway: it needs no settings
    assert exit_code(results) == 1


def test_secrets_never_reach_the_report(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secret = "dg_live_q8Zk2"
    monkeypatch.setenv("LARDER_DEEPGRAM_API_KEY", secret)
    monkeypatch.setenv("LARDER_DATA_DIR", str(tmp_path / secret))  # so a check message would carry it
    results = run_checks(only=["config", "store"])
    report = format_report(results)
    assert secret not in report and "***" in report


def hold_low(pin: Any) -> None:
    """Press a button once the check has opened it (opening sets the pull-up, which reads released). gpiozero
    listens to the pin a moment before its hold machinery exists: an edge in between fails in gpiozero's thread,
    so press 50 ms after it listens (the check reads the buttons 300 ms after opening them)."""
    deadline = time.monotonic() + 5
    while (pin.pull != "up" or pin.when_changed is None) and time.monotonic() < deadline:
        time.sleep(0.001)
    time.sleep(0.05)
    pin.drive_low()


def test_gpio_on_mock_pins() -> None:
    settings = Settings(confirm_pin=5, cancel_pin=6, led_pins="13")
    factory = MockFactory()
    result = check_gpio(settings, pin_factory=factory)
    assert result.status is Status.PASS and "confirm pin 5, cancel pin 6, LED pins [13]" in result.message
    fresh = MockFactory()
    held = threading.Thread(target=hold_low, args=(fresh.pin(6),))  # cancel held down while the check runs
    held.start()
    stuck = check_gpio(settings, pin_factory=fresh)
    held.join()
    assert stuck.status is Status.WARN and "cancel reads pressed" in stuck.message
    clash = check_gpio(Settings(confirm_pin=5, cancel_pin=5), pin_factory=MockFactory())
    assert clash.status is Status.FAIL and "share a pin" in clash.message
    assert check_gpio(Settings(gpio=False)).status is Status.PASS


def test_gpio_on_a_machine_without_gpio_warns() -> None:
    saved = Device.pin_factory
    Device.pin_factory = None  # let gpiozero look for a real pin library, as on a unit
    try:
        result = by_name(run_checks(only=["gpio"]))["gpio"]
    finally:
        Device.pin_factory = saved
    assert result.status is Status.WARN and "no GPIO" in result.message


def crashes(settings: Settings) -> None:
    raise KeyError("oops")


def hangs(settings: Settings) -> None:
    time.sleep(3)


def not_shipped(settings: Settings) -> None:
    import device.no_such_component  # noqa: F401  (a part not in this build)


def test_a_check_can_crash_hang_or_be_missing_without_stopping_the_report() -> None:
    settings = Settings()
    crashed = _guarded(CheckSpec("x", crashes), settings)
    assert crashed.status is Status.FAIL and "KeyError" in crashed.message
    hung = _guarded(CheckSpec("y", hangs, timeout_s=0.2), settings)
    assert hung.status is Status.FAIL and "no answer within 0.2 s" in hung.message
    missing = _guarded(CheckSpec("z", not_shipped), settings)
    assert missing.status is Status.WARN and "not available in this build" in missing.message
    assert "not available in this build: z" in format_report([missing])


ASOUNDRC = """
pcm.noisefile {{ type file slave.pcm "null" file "/dev/null" infile "{raw}" format "raw" }}
pcm.kitchen {{
    type plug
    slave {{ pcm "noisefile" format S16_LE rate 16000 channels 1 }}
    hint {{ show on description "noise played from a file" }}
}}
pcm.silent {{ type null hint {{ show on description "a muted microphone" }} }}
"""
REPORT = (
    "import json; from device.doctor import run_checks; "
    "print(json.dumps([r.to_json() for r in run_checks(only={})]))"
)


def doctor_with_alsa(home: Path, only: list[str], **env: str) -> dict:
    """The checks in a fresh process whose ALSA (and so PortAudio) sees the devices in ``home/.asoundrc``."""
    result = subprocess.run(
        [sys.executable, "-c", REPORT.format(only)],
        capture_output=True,
        text=True,
        env={**os.environ, "HOME": str(home), **env},
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return {r["name"]: r for r in json.loads(result.stdout)}


def test_microphone_hears_signal_and_speaker_plays_through_alsa(tmp_path: Path) -> None:
    raw = tmp_path / "noise.raw"
    noise = np.random.default_rng(7).normal(0, 1500, 16000 * 10).astype("<i2")  # about -27 dBFS of hiss
    raw.write_bytes(noise.tobytes())
    (tmp_path / ".asoundrc").write_text(ASOUNDRC.format(raw=raw))
    got = doctor_with_alsa(
        tmp_path, ["microphone", "speaker"], LARDER_MIC_DEVICE="kitchen", LARDER_SPEAKER_DEVICE="silent"
    )
    assert (
        got["microphone"]["status"] == "PASS"
        and "kitchen channel 0: level -2" in got["microphone"]["message"]
    )
    assert got["speaker"]["status"] == "PASS" and "silent" in got["speaker"]["message"]
    muted = doctor_with_alsa(tmp_path, ["microphone"], LARDER_MIC_DEVICE="silent")["microphone"]
    assert (
        muted["status"] == "FAIL" and "digital silence" in muted["message"] and "alsamixer" in muted["hint"]
    )
    wrong = doctor_with_alsa(tmp_path, ["microphone"], LARDER_MIC_DEVICE="ReSpeaker")["microphone"]
    assert wrong["status"] == "FAIL" and "kitchen" in wrong["message"] and "silent" in wrong["message"]


@pytest.mark.models
def test_every_check_runs_on_this_machine() -> None:
    results = run_checks()
    assert [r.name for r in results] == [
        "version", "config", "service", "microphone", "speaker", "gpio", "models", "wake",
        "store", "sync", "clock", "deepgram", "llm", "supabase",
    ]  # fmt: skip
    got = by_name(results)
    assert got["models"].status is Status.PASS, got["models"]
    assert got["microphone"].status is Status.FAIL
    assert exit_code(results) == 1
    assert all(r.status is not Status.FAIL or r.hint for r in results)
