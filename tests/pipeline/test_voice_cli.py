"""`larder transcribe`, `simulate`, `listen`, `wake test` and `run --input demo` as a person runs them: real
processes."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from device.audio.wav import write_wav
from device.protocols import SAMPLE_RATE
from tests.speech import concat, in_noise, piper, silence, trim

pytestmark = pytest.mark.models
SEVEN = {"action", "item", "quantity", "unit", "location", "to_location", "confidence"}
LATENCY = {
    "endpoint_delay_s",
    "speech_end_to_transcript_s",
    "transcript_to_command_s",
    "command_to_first_audio_s",
}


#: the unit's page, on by default, listens on 127.0.0.1 at a free port in tests
PAGE_ON_LOOPBACK = {"LARDER_WEB_HOST": "127.0.0.1", "LARDER_WEB_PORT": "0"}


def larder(
    tmp_path: Path, *args: str, timeout: float = 300, extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LARDER_")}
    env |= {"LARDER_DATA_DIR": str(tmp_path / "data"), "LARDER_ENV_FILE": str(tmp_path / "none.env")}
    env |= PAGE_ON_LOOPBACK | (extra or {})
    return subprocess.run(
        [sys.executable, "-m", "device", *args], capture_output=True, text=True, env=env, timeout=timeout
    )


def test_transcribe_and_simulate(tmp_path: Path, speech) -> None:
    clean = speech.utterance("we used two pounds of butter", wake=None)
    noisy = in_noise(speech.utterance("how many eggs do we have", wake=None), "kitchen", 10)
    a, b = tmp_path / "butter.wav", tmp_path / "eggs.wav"
    write_wav(a, clean.audio, SAMPLE_RATE)
    write_wav(b, noisy.audio, SAMPLE_RATE)
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF nonsense")

    out = larder(tmp_path, "transcribe", str(a), str(bad), "--json")
    lines = [json.loads(x) for x in out.stdout.splitlines()]
    assert out.returncode == 1  # one unreadable file, reported, the others still done
    assert set(lines[0]) == {"file", "text", "seconds"} and "butter" in lines[0]["text"].lower()
    assert "error" in lines[1] and "Traceback" not in out.stderr

    out = larder(tmp_path, "simulate", str(a), str(b), "--json")
    assert out.returncode == 0, out.stderr
    first, second = (json.loads(x) for x in out.stdout.splitlines())
    assert set(first["command"]) == SEVEN and set(first["latency"]) == LATENCY
    assert (first["command"]["action"], first["command"]["item"], first["command"]["quantity"]) == (
        "use",
        "butter",
        2,
    )
    assert (second["command"]["action"], second["command"]["item"]) == ("query", "eggs")
    stock = json.loads(larder(tmp_path, "stock", "--json").stdout)
    assert {(r["item"], r["quantity"]) for r in stock} == {("butter", -2)}


def test_a_command_read_from_a_runner_up_hearing_waits_for_a_yes(tmp_path: Path) -> None:
    """tiny.en hears "Roll away six avocados" in this noisy clip; its runner-up "Throw away ..." is used, and
    since the unit is less sure of it, nothing changes until the cook confirms."""
    clip = Path(__file__).resolve().parents[1] / "data" / "bench" / "clips" / "05-joe-10dB.wav"
    out = larder(tmp_path, "simulate", str(clip), "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert "throw away" in result["transcript"].lower()
    assert (result["command"]["action"], result["command"]["item"], result["command"]["quantity"]) == (
        "waste",
        "avocados",
        6,
    )
    assert "confirm" in result["reply"].lower() or "yes" in result["reply"].lower()
    assert json.loads(larder(tmp_path, "stock", "--json").stdout) == []
    journal = larder(tmp_path, "say", "yes")
    assert journal.returncode == 0, journal.stderr
    stock = json.loads(larder(tmp_path, "stock", "--json").stdout)
    assert {(r["item"], r["quantity"]) for r in stock} == {("avocados", -6)}


def test_listen_demo_prints_events_and_writes_replies(tmp_path: Path) -> None:
    out = larder(tmp_path, "listen", "--input", "demo", "--json", "--replies", str(tmp_path / "replies"))
    assert out.returncode == 0, out.stderr
    events = [json.loads(x) for x in out.stdout.splitlines()]
    assert sum(e["event"] == "wake" for e in events) == 3
    assert all("at" in e for e in events)
    outcomes = [e for e in events if e["event"] == "outcome"]
    assert [o["status"] for o in outcomes] == ["applied", "answered", "applied"]
    assert len(list((tmp_path / "replies").glob("*.wav"))) >= 3


def test_wake_test_prints_each_detection_and_each_check(tmp_path: Path, speech) -> None:
    chatter = trim(piper("Okay, thanks, see you tomorrow."))  # the model alone takes its "okay" for a wake
    wav = tmp_path / "site.wav"
    wake = speech.utterance("how many eggs do we have").audio
    write_wav(wav, concat(silence(0.5), chatter, silence(1.0), wake), SAMPLE_RATE)
    out = larder(tmp_path, "wake", "test", "--input", str(wav), "--json")
    assert out.returncode == 0, out.stderr
    records = [json.loads(x) for x in out.stdout.splitlines()]
    summary = next(r for r in records if r["event"] == "summary")  # a file is heard at every sensitivity
    configured = [r for r in records if r.get("sensitivity") == summary["configured"]]
    checks = [r for r in configured if r["event"] == "check"]
    wakes = [r for r in configured if r["event"] == "wake"]
    assert checks and not any(c["woke"] for c in checks[:1])  # the chatter: checked, heard, ignored
    assert "thank" in checks[0]["heard"].lower() and checks[0]["listener"] in {"main", "lowered"}
    assert len(wakes) == 1 and wakes[0]["model"] == "okay_nabu" and 0 < wakes[0]["score"] <= 1
    assert wakes[0]["at_s"] > 0.5 + len(chatter) / SAMPLE_RATE + 1.0  # in the second part, the real wake word
    text = larder(tmp_path, "wake", "test", "--input", str(wav))
    assert "Whisper heard" in text.stdout and "1 false wake(s)" in text.stdout
    (tmp_path / "data" / "wake_site_test.json").unlink()
    demo = larder(tmp_path, "wake", "test", "--input", "demo")  # real wake words: the configured point only
    assert "3 detection(s) in" in demo.stdout and not (tmp_path / "data" / "wake_site_test.json").exists()


def test_run_demo_is_the_main_job_and_tells_systemd(tmp_path: Path) -> None:
    demo_stock = Path(__file__).resolve().parents[2] / "device" / "data" / "demo_stock.csv"
    counted = larder(tmp_path, "count", str(demo_stock))  # as scripts/demo.sh does
    assert counted.returncode == 0, counted.stderr
    sock_path = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(sock_path))
        out = larder(
            tmp_path,
            "run",
            "--input",
            "demo",
            extra={"NOTIFY_SOCKET": str(sock_path), "WATCHDOG_USEC": "400000", "WATCHDOG_PID": ""},
        )
        sock.setblocking(False)
        messages = []
        with contextlib.suppress(BlockingIOError):
            while True:
                messages.append(sock.recv(4096).decode())
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("woke") == 3  # each wake word comes after the reply before it has been spoken
    assert "Added 3 cartons of oat milk to the walk-in. 27 in stock." in out.stdout
    assert "We have 30 eggs" in out.stdout and "Used 2 pounds of butter. 8 left." in out.stdout
    ready = [i for i, m in enumerate(messages) if "READY=1" in m]
    assert len(ready) == 1, messages
    assert any("STOPPING=1" in m for m in messages[ready[0] :])
    assert "larder: the unit's page is at http://127.0.0.1:" in out.stderr  # the demo serves the page too


def test_daemon_without_a_microphone_keeps_retrying_and_stops_cleanly(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LARDER_")}
    env |= {
        "LARDER_DATA_DIR": str(tmp_path / "data"),
        "LARDER_MIC_RETRY_S": "0.2",
        "LARDER_MIC_DEVICE": "ReSpeaker",
    } | PAGE_ON_LOOPBACK
    proc = subprocess.Popen(
        [sys.executable, "-m", "device", "run"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stderr is not None
    seen = ""
    deadline = time.monotonic() + 240  # start-up loads the models: slow on a busy machine
    while "no microphone" not in seen and time.monotonic() < deadline and proc.poll() is None:
        seen += proc.stderr.readline()
    time.sleep(1.0)  # several retries at 0.2 s, each of which must stay quiet
    assert proc.poll() is None, proc.communicate()
    proc.send_signal(signal.SIGTERM)
    _, rest = proc.communicate(timeout=30)
    err = seen + rest
    assert proc.returncode == 0, err
    assert "ReSpeaker" in err and "Traceback" not in err
    assert err.count("no microphone") == 1


def test_a_reader_that_leaves_early_gets_no_tracebacks(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LARDER_")}
    env |= {"LARDER_DATA_DIR": str(tmp_path / "data"), "LARDER_ENV_FILE": str(tmp_path / "none.env")}
    env |= PAGE_ON_LOOPBACK
    proc = subprocess.Popen(
        [sys.executable, "-m", "device", "listen", "--input", "demo", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()  # as `| head -1` does
    errors = proc.stderr.read().decode()
    assert proc.wait(timeout=300) == 0
    assert json.loads(first)["event"] == "state"
    assert "Traceback" not in errors and "subscriber failed" not in errors


def test_bad_inputs_and_reply_folders_are_one_sentence(tmp_path: Path) -> None:
    empty = larder(tmp_path, "listen", "--input", "", timeout=60)
    assert empty.returncode == 2 and "needs a WAV file or 'demo'" in empty.stderr
    a_file = tmp_path / "replies"
    a_file.write_text("mine\n", encoding="utf-8")
    out = larder(tmp_path, "listen", "--input", "demo", "--replies", str(a_file), timeout=120)
    assert out.returncode != 0
    assert f"cannot write replies to {a_file}: it is a file, not a folder" in out.stderr
    assert "Traceback" not in out.stderr and a_file.read_text(encoding="utf-8") == "mine\n"
