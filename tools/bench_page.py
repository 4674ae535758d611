"""Benchmark of the unit's page: what it adds to the idle daemon, and how soon a heard command reaches a browser.

    .venv/bin/python tools/bench_page.py [--rounds 2] [--events 200] [--played 1800]

1. The idle daemon's CPU and peak RSS: ``larder run`` playing ``--played`` seconds of kitchen noise (no command
   in it) at full speed, alternately with the page off (``LARDER_WEB_ENABLED=false``) and on with headless
   Chromium on Unit (its WebSocket gets the microphone level for every second of audio). CPU is the daemon's own
   utime+stime from /proc, from its first event (models warm) to its exit, so per second of audio it is what the
   page adds to a unit idling in real time, without the scheduling noise of a real-time run; peak RSS is VmHWM.
2. The page's own work: ``--played`` seconds of the same noise played at full speed through a microphone loop,
   alone and with the level meter, the page and Chromium on Unit showing every level pushed over its WebSocket
   (no models and no clock, so the page's work per second of audio is not lost in the noise of an idle daemon;
   at idle the page runs no timer but its WebSocket heartbeat every 30 s, so this is its idle cost).
3. Transcript to browser: the page served in-process, Chromium on Live; ``--events`` ``transcript`` events are
   published one after another, and the time from publishing to the browser showing the words (a
   MutationObserver's ``Date.now()``; same machine clock) is summarised.
Prints the load average with each part, since other work shares the CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from selenium.common.exceptions import WebDriverException

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from device.audio.wav import write_wav  # noqa: E402
from device.pipeline import events as ev  # noqa: E402
from device.protocols import SAMPLE_RATE  # noqa: E402
from tests import speech  # noqa: E402
from tests.web.browser import Larder, PageThread, chromium, close, missing, wait_for  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def loadavg() -> str:
    return Path("/proc/loadavg").read_text().split(" ", 3)[:3].__str__()


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def daemon_run(scratch: Path, wav: Path, *, page: bool) -> tuple[float, float, int]:
    """``larder run`` playing ``wav`` at full speed, the page off or on with Chromium on Unit: the daemon's CPU
    seconds from its first event (models warm) to its exit, its peak RSS (MB), and the level updates shown."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LARDER_")}
    env |= {
        "LARDER_DATA_DIR": str(scratch / "data"), "LARDER_ENV_FILE": str(scratch / "none.env"),
        "LARDER_WEB_HOST": "127.0.0.1", "LARDER_WEB_PORT": "0", "LARDER_GPIO": "false", "LARDER_STT": "whisper",
        "LARDER_WEB_ENABLED": "true" if page else "false",
    }  # fmt: skip
    daemon = Larder(["run", "--json", "--input", str(wav)], env, cwd=REPO)
    browser = None
    shown = 0
    try:
        if page:
            base = daemon.url(timeout_s=240.0)
            browser = chromium()
            browser.get(base + "/unit")
            browser.execute_script(_COUNT_LEVELS)
        wait_for(lambda: daemon.stdout, 240, "the pipeline")  # its first event: models warm, listening
        start = last = cpu_s(daemon.proc.pid)
        rss = 0.0
        while daemon.proc.poll() is None:
            try:
                last, peak = cpu_s(daemon.proc.pid), peak_rss_mb(daemon.proc.pid)
                rss = max(rss, peak) if peak == peak else rss  # a process that is exiting has no VmHWM
                if browser is not None:
                    shown = int(browser.execute_script("return window.levels"))
            except (FileNotFoundError, ProcessLookupError, WebDriverException):
                break
            time.sleep(0.05)
        return last - start, rss, shown
    finally:
        if browser is not None:
            close(browser)
        daemon.stop()


async def _played(microphone: Any) -> float:
    """Process CPU seconds spent taking every chunk of ``microphone`` as fast as it gives them (the loop turns once
    a chunk, so the page's sockets are served as they would be between real chunks)."""
    started = time.process_time()
    async for _ in microphone.chunks():
        await asyncio.sleep(0)
    return time.process_time() - started


def page_work(wav: Path, *, page: bool) -> tuple[float, int]:
    """CPU seconds to play ``wav`` through a microphone loop alone, or with the page's part in it (the level
    meter, the page served, Chromium on the Unit page showing every level pushed over its WebSocket); and how many
    level updates the browser showed."""
    from device.audio.level import LevelMeter
    from device.audio.wav import WavMicrophone
    from device.web.server import open_page
    from tests.web.conftest import make_unit

    async def run(scratch: Path) -> tuple[float, int]:
        unit = make_unit(scratch / "data")
        microphone: Any = WavMicrophone(wav, tail_silence_s=0.0)
        server = browser = None
        shown = 0
        if page:
            microphone = LevelMeter(microphone, unit.bus)
            server = await open_page(unit)
            assert server is not None and server.url is not None
            browser = await asyncio.to_thread(chromium)
            await asyncio.to_thread(browser.get, server.url + "unit")
            await asyncio.sleep(3.0)
            await asyncio.to_thread(browser.execute_script, _COUNT_LEVELS)
        used = await _played(microphone)
        if browser is not None:
            await asyncio.sleep(2.0)  # the last pushes arrive
            shown = int(await asyncio.to_thread(browser.execute_script, "return window.levels"))
            await asyncio.to_thread(close, browser)
        if server is not None:
            await server.stop()
        unit.close()
        return used, shown

    with tempfile.TemporaryDirectory() as scratch:
        return asyncio.run(run(Path(scratch)))


_COUNT_LEVELS = """window.levels = 0;
new MutationObserver(() => { window.levels += 1; })
  .observe(document.getElementById("mic"), {childList: true, characterData: true, subtree: true});"""


def transcript_latency(events: int) -> list[float]:
    from tests.web.conftest import make_unit

    with tempfile.TemporaryDirectory() as scratch:
        unit = make_unit(Path(scratch) / "data")
        with PageThread(unit) as page:
            browser = chromium()
            try:
                browser.get(page.url + "/")
                wait_for(
                    lambda: browser.execute_script("return document.body.dataset.live") == "up", what="live"
                )
                browser.execute_script(
                    """window.shown = {};
                    const heard = document.getElementById("heard");
                    new MutationObserver(() => {  // the frame that paints the words
                      const text = heard.textContent;
                      requestAnimationFrame(() => { window.shown[text] = Date.now(); });
                    })
                      .observe(heard, {childList: true, characterData: true, subtree: true});"""
                )
                sent: dict[str, float] = {}
                for n in range(events):
                    text = f"add {n} cartons of oat milk"

                    def publish(text: str = text) -> None:
                        sent[text] = time.time() * 1000.0
                        unit.bus.publish(ev.TranscriptReady(text=text, engine="bench", seconds=0.0))

                    page.call(publish)
                    wait_for(
                        lambda text=text: browser.execute_script(f"return window.shown[{text!r}]"), 5, text
                    )
                shown = browser.execute_script("return window.shown")
            finally:
                close(browser)
        unit.close()
    return [shown[t] - sent[t] for t in sent]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument(
        "--played", type=float, default=1800.0, help="seconds of audio for the page's own work"
    )
    args = parser.parse_args()
    if missing():
        print(f"bench_page: {missing()}", file=sys.stderr)
        return 1

    latencies = transcript_latency(args.events)
    q = statistics.quantiles(latencies, n=100)
    print(f"transcript event -> browser shows it, {len(latencies)} events (load average {loadavg()}):")
    print(f"  p50 {q[49]:.1f} ms   p95 {q[94]:.1f} ms   max {max(latencies):.1f} ms")

    with tempfile.TemporaryDirectory(prefix="larder-bench-page-") as scratch_name:
        scratch = Path(scratch_name)
        played = scratch / "played.wav"
        write_wav(played, speech.kitchen_noise(args.played), SAMPLE_RATE)
        work: dict[bool, list[float]] = {False: [], True: []}
        shown = 0
        for _ in range(args.rounds):
            for page in (False, True):
                used, levels = page_work(played, page=page)
                work[page].append(used)
                shown = max(shown, levels)
        added = (statistics.mean(work[True]) - statistics.mean(work[False])) / args.played
        print(
            f"the page's own work: {args.played:g} s of microphone audio played at full speed, alone vs through the "
            f"level meter, the page and Chromium on Unit ({shown} level updates shown; load average {loadavg()}):"
        )
        print(
            f"  {statistics.mean(work[False]):.3f} s vs {statistics.mean(work[True]):.3f} s of CPU: the page adds "
            f"{added * 1e3:.3f} ms per second of audio, {added * 100:.3f}% of a core"
        )
        daemon: dict[bool, list[tuple[float, float, int]]] = {False: [], True: []}
        for n in range(args.rounds):
            for page in (False, True):
                used, rss, levels = daemon_run(scratch / f"{n}-{page}", played, page=page)
                daemon[page].append((used, rss, levels))
                print(
                    f"  round {n + 1}, page {'on ' if page else 'off'}: {used:.2f} s of CPU"
                    f"{f', {levels} level updates shown' if page else ''}, peak RSS {rss:.0f} MB "
                    f"(load average {loadavg()})",
                    flush=True,
                )
    off = [u for u, _, _ in daemon[False]]
    on = [u for u, _, _ in daemon[True]]
    pairs = [(b - a) / args.played for a, b in zip(off, on, strict=True)]
    rss_off = statistics.mean(r for _, r, _ in daemon[False])
    rss_on = statistics.mean(r for _, r, _ in daemon[True])
    print(
        f"the idle daemon over {args.played:g} s of kitchen noise at full speed, {args.rounds} rounds each:"
    )
    print(
        f"  CPU: page off {statistics.mean(off):.2f} s, on {statistics.mean(on):.2f} s: the page adds "
        f"{statistics.mean(pairs) * 100:+.3f}% of a core (rounds {', '.join(f'{d * 100:+.3f}' for d in pairs)})"
    )
    print(
        f"  peak RSS: page off {rss_off:.0f} MB, on {rss_on:.0f} MB: the page adds {rss_on - rss_off:+.0f} MB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
