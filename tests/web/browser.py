"""Headless Chromium from Debian's packages, driven through chromedriver by Selenium, and the page served from a
thread of its own (so the blocking browser calls and the page's event loop run side by side).

``tools/page_screens.py`` uses these too, for the screenshots in docs/screens/.
"""

from __future__ import annotations

import asyncio
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
)  # fmt: skip
T = TypeVar("T")


def missing() -> str | None:
    """Why the browser tests cannot run here, or ``None``."""
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not path.exists():
            return f"{path} is missing: install Debian's {package} (scripts/setup.sh --dev does)"
    return None


def chromium(downloads: Path | None = None, *, width: int = 1024, height: int = 768) -> Any:
    """A fresh headless Chromium (its own profile folder), downloading into ``downloads``."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    profile = tempfile.mkdtemp(prefix="larder-chromium-")
    for flag in (*FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}"):
        options.add_argument(flag)
    if downloads is not None:
        options.add_experimental_option(
            "prefs", {"download.default_directory": str(downloads), "download.prompt_for_download": False}
        )
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.larder_profile = profile
    return driver


def close(driver: Any) -> None:
    driver.quit()
    shutil.rmtree(driver.larder_profile, ignore_errors=True)


class PageThread:
    """The unit's page on 127.0.0.1 (port 0), served by an event loop in its own thread."""

    def __init__(self, unit: Any) -> None:
        self.unit = unit
        self.loop = asyncio.new_event_loop()
        self.server: Any = None
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> PageThread:
        from device.web.server import open_page

        self._thread.start()
        self.server = self.run(open_page(self.unit))
        assert self.server is not None, "the page did not start"
        return self

    @property
    def url(self) -> str:
        return str(self.server.url).rstrip("/")

    def run(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(30)

    def call(self, function: Callable[[], T]) -> T:
        """Run ``function`` on the page's loop (as the daemon's own code runs) and return what it returns."""
        done: Future[T] = Future()

        def work() -> None:
            try:
                done.set_result(function())
            except BaseException as exc:
                done.set_exception(exc)

        self.loop.call_soon_threadsafe(work)
        return done.result(30)

    def __exit__(self, *exc: object) -> None:
        self.run(self.server.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


def wait_for(check: Callable[[], T], timeout_s: float = 10.0, what: str = "the page") -> T:
    """Poll ``check`` (a browser read) until it gives a true value."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def unlock(driver: Any, base: str, pin: str) -> None:
    """Unlock changes through the page's own form, as a person does."""
    from selenium.webdriver.common.by import By

    driver.get(base + "/unlock?to=/")
    driver.find_element(By.NAME, "pin").send_keys(pin)
    driver.find_element(By.CSS_SELECTOR, "form button").click()
    wait_for(lambda: "Unlocked" in driver.page_source, what="the unlocked page")


class Larder:
    """A ``larder`` process with the page on 127.0.0.1 at a free port; ``url`` once it says where."""

    def __init__(self, args: list[str], env: dict[str, str], *, cwd: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "device", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, env=env, cwd=cwd,
        )  # fmt: skip
        self.lines: queue.Queue[str] = queue.Queue()
        self.stderr: list[str] = []
        self.stdout: list[str] = []
        for stream, kept in ((self.proc.stderr, self.stderr), (self.proc.stdout, self.stdout)):
            threading.Thread(target=self._read, args=(stream, kept), daemon=True).start()

    def _read(self, stream: Any, kept: list[str]) -> None:
        for line in stream:
            kept.append(line)
            self.lines.put(line)

    def url(self, timeout_s: float = 240.0) -> str:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=1.0)
            except queue.Empty:
                assert self.proc.poll() is None, "".join(self.stderr)
                continue
            found = re.search(r"the unit's page is at (http://127\.0\.0\.1:\d+)/", line)
            if found:
                return found.group(1)
        raise AssertionError("the page never started: " + "".join(self.stderr))

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
        return self.proc.wait(60)
