"""The unit's page in a real browser: Debian's headless Chromium, driven by Selenium through chromedriver.

The in-process tests serve the page from a thread over a real store with the demo data; the last two run the
real pipeline as a person does (``larder listen --web``, ``larder run``) over synthesized speech, the first with
the Deepgram stand-in so words arrive while they are spoken.
"""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from device import __version__
from device.app import Unit
from device.audio.wav import write_wav
from device.intent.command import Action, Command
from device.pipeline import events as ev
from device.protocols import SAMPLE_RATE
from device.web.pin import hash_pin
from tests.web import browser
from tests.web.browser import Larder, PageThread, chromium, close, unlock, wait_for
from tests.web.conftest import PIN, demo_stock, make_unit

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(browser.missing() is not None, reason=browser.missing() or ""),
]
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def unit(tmp_path: Path) -> Iterator[Unit]:
    made = make_unit(tmp_path / "data")
    yield made
    made.close()


@pytest.fixture
def page(unit: Unit) -> Iterator[PageThread]:
    with PageThread(unit) as serving:
        yield serving


@pytest.fixture
def downloads(tmp_path: Path) -> Path:
    folder = tmp_path / "downloads"
    folder.mkdir()
    return folder


@pytest.fixture
def driver(downloads: Path) -> Iterator[Any]:
    made = chromium(downloads)
    yield made
    close(made)


def _text(driver: Any, css: str) -> str:
    """The element's text as shown (read in one step: a live part may be replaced at any moment)."""
    script = "const e = document.querySelector(arguments[0]); return e ? e.innerText : '';"
    return str(driver.execute_script(script, css))


def _fits(driver: Any) -> bool:
    return bool(driver.execute_script("return document.documentElement.scrollWidth <= window.innerWidth + 1"))


@pytest.mark.parametrize(("width", "height"), [(390, 844), (1024, 768)], ids=["phone", "tablet"])
def test_each_page_renders_the_demo_data_on_a_phone_and_a_tablet(
    page: PageThread, width: int, height: int
) -> None:
    driver = chromium(width=width, height=height)
    try:
        driver.get(page.url + "/")
        assert _text(driver, "#state") == "IDLE" and "Nothing heard yet" in _text(driver, "#recent")
        wait_for(
            lambda: driver.execute_script("return document.body.dataset.live") == "up", what="the WebSocket"
        )
        assert _fits(driver)
        driver.get(page.url + "/stock")
        assert "oat milk" in _text(driver, "table.stock") and "walk-in" in _text(driver, "table.stock")
        assert _fits(driver)
        driver.get(page.url + "/journal")
        assert "stocktake demo_stock.csv" in _text(driver, "table.journal") and _fits(driver)
        assert "Nothing thrown away" in _text(driver, "table.waste")
        driver.get(page.url + "/unit")
        assert "Larder" in _text(driver, "main") and __version__ in _text(driver, "main") and _fits(driver)
    finally:
        close(driver)


def test_live_shows_words_as_they_are_heard_and_the_outcome_after(page: PageThread, driver: Any) -> None:
    driver.get(page.url + "/")
    wait_for(lambda: driver.execute_script("return document.body.dataset.live") == "up", what="the WebSocket")
    driver.execute_script("window.notReloaded = true")
    publish = page.unit.bus.publish
    page.call(lambda: publish(ev.StateChanged(state="listening")))
    page.call(lambda: publish(ev.Listening()))
    page.call(lambda: publish(ev.InterimTranscript(text="add three cartons", engine="deepgram")))
    wait_for(lambda: _text(driver, "#heard") == "add three cartons", what="the interim words")
    assert _text(driver, "#state") == "LISTENING" and "Nothing heard yet" in _text(driver, "#recent")
    command = Command(
        Action.ADD, item="oat milk", quantity=3, unit="carton", text="add three cartons of oat milk"
    )
    page.call(lambda: publish(ev.TranscriptReady(text=command.text, engine="deepgram", seconds=0.3)))
    page.call(lambda: publish(ev.CommandResolved(command=command, seconds=0.01)))
    page.call(
        lambda: publish(ev.Outcome(status="applied", reply="Added 3 cartons of oat milk.", event_id="x"))
    )
    wait_for(lambda: "Added 3 cartons of oat milk." in _text(driver, "#recent"), what="the outcome")
    assert "add three cartons of oat milk" in _text(driver, "#recent") and "APPLIED" in _text(
        driver, "#recent"
    )
    assert driver.execute_script("return window.notReloaded") is True


def test_live_shows_offline_while_a_cloud_part_does_not_answer(page: PageThread, driver: Any) -> None:
    driver.get(page.url + "/")
    wait_for(lambda: driver.execute_script("return document.body.dataset.live") == "up", what="the WebSocket")
    publish = page.unit.bus.publish
    page.call(lambda: publish(ev.StateChanged(state="idle")))
    page.call(lambda: publish(ev.Connectivity(part="sync", online=False, reason="the cloud did not answer")))
    wait_for(lambda: _text(driver, "#state") == "OFFLINE", what="the offline state")
    wait_for(lambda: "kept on the unit" in _text(driver, "#panel"), what="why it is offline")
    page.call(lambda: publish(ev.StateChanged(state="listening")))
    wait_for(lambda: _text(driver, "#state") == "LISTENING", what="listening while offline")
    page.call(lambda: publish(ev.StateChanged(state="idle")))
    page.call(lambda: publish(ev.Connectivity(part="sync", online=True)))
    wait_for(lambda: _text(driver, "#state") == "IDLE", what="back online")
    wait_for(lambda: "Offline" not in _text(driver, "#panel"), what="the offline note gone")
    page.call(lambda: publish(ev.Connectivity(part="speech", online=False, reason="dns")))
    driver.get(page.url + "/")  # a page opened while offline shows it from the server's render
    assert _text(driver, "#state") == "OFFLINE"
    assert "Deepgram does not answer (dns)" in _text(driver, "#panel")


def test_confirm_on_a_pending_question_applies_it(page: PageThread, driver: Any) -> None:
    unit = page.unit
    turn = page.call(lambda: unit.dialogue.handle(unit.grammar.parse("eighty six the oat milk"), time.time()))
    page.call(lambda: unit.bus.publish(ev.Outcome(status=turn.status, reply=turn.reply)))
    unlock(driver, page.url, PIN)
    assert "Mark oat milk as out?" in _text(driver, "#question")
    driver.execute_script("document.getElementById('confirm').click()")
    wait_for(lambda: "CONFIRMED" in _text(driver, "#recent"), what="the confirmed change")
    assert "#question" not in driver.page_source and unit.store.quantity("oat milk") == 0
    assert unit.store.journal()[-1].action == "out"


def test_a_change_without_the_pin_is_refused(page: PageThread, driver: Any) -> None:
    driver.get(page.url + "/stock")
    assert "Unlock to correct" in driver.page_source and not driver.find_elements("css selector", "#correct")
    status, text = driver.execute_async_script(
        """const done = arguments[arguments.length - 1];
        fetch("/stock/correct", {method: "POST", body: new URLSearchParams({item: "oat milk", quantity: "1"})})
          .then(async r => done([r.status, await r.text()]));"""
    )
    assert status == 403 and "unlock the page first" in text
    assert page.unit.store.quantity("oat milk") == 24


def test_a_forged_csrf_token_is_refused(page: PageThread, driver: Any) -> None:
    from selenium.webdriver.common.by import By

    unlock(driver, page.url, PIN)

    def correct(quantity: str, forge: bool) -> str:
        driver.get(page.url + "/stock")
        form = driver.find_element(By.ID, "correct")
        if forge:
            driver.execute_script("arguments[0].elements.csrf.value = 'forged-' + Date.now()", form)
        driver.execute_script("arguments[0].elements.item.value = 'oat milk'", form)
        form.find_element(By.NAME, "quantity").send_keys(quantity)
        form.find_element(By.TAG_NAME, "button").click()
        return str(wait_for(lambda: _text(driver, "#message") or _text(driver, ".flash"), what="an answer"))

    assert "did not come from this page" in correct("5", forge=True)
    assert page.unit.store.quantity("oat milk") == 24
    assert "now 5" in correct("5", forge=False)
    assert page.unit.store.quantity("oat milk") == 5


def test_csv_downloads_parse(page: PageThread, driver: Any, downloads: Path) -> None:
    from selenium.webdriver.common.by import By

    def download(path: str, link: str, name: str) -> list[dict[str, str]]:
        driver.get(page.url + path)
        driver.find_element(By.CSS_SELECTOR, link).click()
        done = wait_for(lambda: [p for p in downloads.glob(f"{name}-*.csv")], what=f"the {name} CSV")
        text = done[0].read_text(encoding="utf-8")
        done[0].unlink()
        return list(csv.DictReader(io.StringIO(text)))

    stock = download("/stock?q=milk", "a[href^='/stock.csv']", "stock")
    assert {r["item"] for r in stock} >= {"oat milk", "whole milk"} and all(r["quantity"] for r in stock)
    journal = download("/journal", "#journal-csv", "journal")
    assert len(journal) == len(page.unit.store.journal()) and journal[0]["action"] == "set"


# --- the real pipeline, as a person runs it ---


def _env(tmp_path: Path, **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LARDER_")}
    env |= {
        "LARDER_DATA_DIR": str(tmp_path / "data"), "LARDER_ENV_FILE": str(tmp_path / "none.env"),
        "LARDER_WEB_HOST": "127.0.0.1", "LARDER_WEB_PORT": "0", "LARDER_GPIO": "false",
        "LARDER_SCREEN_PIN_HASH": hash_pin(PIN),
    }  # fmt: skip
    env |= {f"LARDER_{k.upper()}": v for k, v in settings.items()}
    counted = subprocess.run(
        [sys.executable, "-m", "device", "count", str(demo_stock())], env=env, capture_output=True, text=True
    )
    assert counted.returncode == 0, counted.stderr
    return env


TIMELINE = """
window.timeline = [];
const note = () => window.timeline.push({t: performance.now(), heard: document.getElementById("heard").textContent,
  final: document.getElementById("heard").dataset.final, recent: document.getElementById("recent").textContent,
  state: document.getElementById("state").textContent});
new MutationObserver(note).observe(document.body, {subtree: true, childList: true, characterData: true,
  attributes: true});
"""


@pytest.mark.models
def test_a_command_through_larder_listen_shows_live_while_heard_and_confirm_applies_it(
    tmp_path: Path, driver: Any
) -> None:
    from tests.speech import utterance
    from tests.standins.deepgram import API_KEY, DeepgramStandIn, Script

    wav = tmp_path / "eighty-six.wav"
    write_wav(wav, utterance("eighty six the oat milk", lead_s=8.0, tail_s=2.0).audio, SAMPLE_RATE)
    with DeepgramStandIn() as deepgram:
        deepgram.script = Script(segments=("eighty six the oat milk",), word_every_s=0.25)
        env = _env(
            tmp_path,
            stt="deepgram",
            deepgram_url=deepgram.url,
            deepgram_api_key=API_KEY,
            confirm_window_s="300",
        )
        larder = Larder(["listen", "--web", "--realtime", "--input", str(wav)], env, cwd=REPO)
        try:
            base = larder.url()
            driver.get(base + "/")
            wait_for(lambda: driver.execute_script("return document.body.dataset.live") == "up", what="live")
            driver.execute_script(TIMELINE)
            wait_for(lambda: "Mark oat milk as out?" in _text(driver, "#question"), 60, "the question")
            timeline = driver.execute_script("return window.timeline")
            asked = next(n for n, s in enumerate(timeline) if "PENDING" in s["recent"].upper())
            heard = [s for s in timeline[:asked] if s["heard"] and s["final"] == "false"]
            assert heard, "no words showed while the command was being spoken"
            assert len(heard[0]["heard"]) < len("eighty six the oat milk")  # a part, before the whole
            assert any(s["state"] == "listening" for s in timeline[:asked])
            assert timeline[asked - 1]["heard"] == "eighty six the oat milk"
            unlock(driver, base, PIN)
            driver.execute_script("document.getElementById('confirm').click()")
            wait_for(lambda: "CONFIRMED" in _text(driver, "#recent"), 30, "the confirmed change")
            driver.get(base + "/stock?q=oat")
            assert re.search(r"oat milk\s+walk-in\s+0\b", _text(driver, "table.stock")), _text(
                driver, "table.stock"
            )
        finally:
            assert larder.stop() == 0, "".join(larder.stderr)
    assert "Traceback" not in "".join(larder.stderr)


@pytest.mark.models
def test_a_catalogue_import_while_larder_run_plays_a_file_is_followed(tmp_path: Path, driver: Any) -> None:
    from tests.speech import utterance

    wav = tmp_path / "rice.wav"
    write_wav(wav, utterance("add two bags of rice", lead_s=10.0, tail_s=2.0).audio, SAMPLE_RATE)
    menu = tmp_path / "menu.csv"
    demo = (REPO / "device" / "data" / "demo_catalog.csv").read_text(encoding="utf-8")
    menu.write_text(demo.rstrip("\n") + "\nrice,,bag,dry store,4\n", encoding="utf-8")
    env = _env(tmp_path, stt="whisper")
    larder = Larder(["run", "--realtime", "--input", str(wav)], env, cwd=REPO)
    try:
        base = larder.url()
        driver.get(base + "/stock?q=rice")
        wait_for(lambda: driver.execute_script("return document.body.dataset.live") == "up", what="live")
        assert "No items match" in _text(driver, "table.stock")
        imported = subprocess.run(
            [sys.executable, "-m", "device", "catalog", "import", str(menu)],
            env=env,
            capture_output=True,
            text=True,
        )
        assert imported.returncode == 0, imported.stderr
        started = time.monotonic()
        wait_for(lambda: "rice" in _text(driver, "table.stock"), 2.0, "the page to follow the import")
        followed_s = time.monotonic() - started
        assert followed_s < 2.0
        assert larder.proc.wait(120) == 0, "".join(larder.stderr)
    finally:
        larder.stop()
    said = "".join(larder.stdout)
    assert "Added 2 bags of rice" in said, said
