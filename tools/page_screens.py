"""Screenshots of the unit's page, taken in headless Chromium against the demo, into docs/screens/.

    .venv/bin/python tools/page_screens.py [--out docs/screens]

Counts the demo's opening stock into a fresh data folder, runs ``larder run --input demo --stay`` (the README's
demo, page on 127.0.0.1), lets its three spoken commands play, then says a few more with ``larder say`` beside it
(a waste, and a risky one that waits for an answer), unlocks the page with a PIN and photographs each page on a
tablet and Live on a phone too. Needs Debian's chromium and chromium-driver (``scripts/setup.sh --dev``).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from device.web.pin import hash_pin  # noqa: E402
from tests.web.browser import Larder, chromium, close, missing, unlock, wait_for  # noqa: E402

PIN = "2468"
SAID = ["throw away three croissants", "we used a pound of butter", "eighty six the oat milk"]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screens")
    args = parser.parse_args()
    if missing():
        print(f"page_screens: {missing()}", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="larder-screens-") as scratch:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LARDER_")}
        env |= {
            "LARDER_DATA_DIR": f"{scratch}/data", "LARDER_ENV_FILE": f"{scratch}/none.env",
            "LARDER_WEB_HOST": "127.0.0.1", "LARDER_WEB_PORT": "0", "LARDER_GPIO": "false",
            "LARDER_SCREEN_PIN_HASH": hash_pin(PIN), "LARDER_CONFIRM_WINDOW_S": "600",
        }  # fmt: skip
        larder_cli = [sys.executable, "-m", "device"]
        stock = REPO / "device" / "data" / "demo_stock.csv"
        subprocess.run([*larder_cli, "count", str(stock)], env=env, check=True, capture_output=True)
        demo = Larder(["run", "--input", "demo", "--stay", "--replies", f"{scratch}/replies"], env, cwd=REPO)
        try:
            base = demo.url()
            wait_for(
                lambda: sum("applied" in s or "answered" in s for s in demo.stdout) >= 3, 300, "the demo"
            )
            for words in SAID:
                subprocess.run([*larder_cli, "say", words], env=env, check=True, capture_output=True)
            shoot(base, args.out)
        finally:
            demo.stop()
    print(f"page_screens: wrote {', '.join(sorted(p.name for p in args.out.glob('*.png')))} to {args.out}")
    return 0


def shoot(base: str, out: Path) -> None:
    tablet = chromium(width=1024, height=900)
    try:
        unlock(tablet, base, PIN)
        for name, path in (("live", "/"), ("stock", "/stock"), ("journal", "/journal"), ("unit", "/unit")):
            tablet.get(base + path)
            wait_for(lambda: tablet.execute_script("return document.body.dataset.live") == "up", what="live")
            for _ in range(
                120
            ):  # the Unit page runs the doctor's checks in the background on its first visit
                if name != "unit" or "s ago" in tablet.page_source:
                    break
                time.sleep(1.0)
                tablet.refresh()
            height = tablet.execute_script("return document.documentElement.scrollHeight")
            tablet.set_window_size(1024, min(max(int(height) + 120, 700), 2400))
            time.sleep(0.3)
            tablet.save_screenshot(str(out / f"{name}.png"))
    finally:
        close(tablet)
    phone = chromium(width=390, height=844)
    try:
        phone.get(base + "/")
        wait_for(lambda: phone.execute_script("return document.body.dataset.live") == "up", what="live")
        phone.save_screenshot(str(out / "live-phone.png"))
    finally:
        close(phone)


if __name__ == "__main__":
    sys.exit(main())
