"""Benchmark of the command grammar: the speed figures live here, not in the tests.

Measures, and prints:
- importing ``device.intent.grammar`` in a fresh interpreter (and that no heavy library such as numpy comes with it);
- ``Grammar(catalogue)`` on a catalogue of about 200 items (target: under 50 ms);
- parsing 100 kitchen commands in-process (target: under 2 ms a line);
- ``larder parse --json`` answering the same 100 lines on stdin, start-up included (target: well under a second),
  when ``.venv/bin/larder`` exists; the CLI runs against a throw-away data folder holding the evaluation catalogue.

Run: ``.venv/bin/python tools/bench_parse.py``
"""

from __future__ import annotations

import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from device.intent.grammar import Grammar  # noqa: E402
from device.inventory.catalog import Catalogue, Item, demo_catalogue, load_csv  # noqa: E402

EVAL_CATALOGUE = ROOT / "tests" / "data" / "eval_catalog.csv"
EVAL_COMMANDS = ROOT / "tests" / "data" / "eval_commands.jsonl"
HEAVY = ("numpy", "onnxruntime", "faster_whisper", "sounddevice", "piper", "ctranslate2")


def _import_cost() -> tuple[float, list[str]]:
    code = (
        "import sys, time; t = time.perf_counter(); import device.intent.grammar; "
        f"print(time.perf_counter() - t); print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split("\n")
    return float(out[0]), [m for m in out[1].split(",") if m]


def big_catalogue(size: int = 200) -> Catalogue:
    """The evaluation and demo items, topped up with made-up ones, to about ``size`` items."""
    items: dict[str, Item] = {}
    for source in (load_csv(EVAL_CATALOGUE), demo_catalogue()):
        for item in source.items:
            items.setdefault(item.name, item)
    adjectives = [
        "smoked",
        "organic",
        "frozen",
        "spicy",
        "roasted",
        "pickled",
        "dried",
        "fresh",
        "wild",
        "aged",
    ]
    nouns = [
        "paprika",
        "cumin",
        "hazelnuts",
        "pistachios",
        "lentils",
        "chickpeas",
        "oats",
        "capers",
        "anchovies",
    ]
    nouns += ["walnuts", "almonds", "raisins", "sesame", "fennel", "saffron"]
    for adjective, noun in itertools.product(adjectives, nouns):
        if len(items) >= size:
            break
        name = f"{adjective} {noun}"
        items[name] = Item(name=name, unit="kg", aliases=(f"{noun} {adjective}",), location="dry storage")
    locations = tuple(dict.fromkeys(i.location for i in items.values() if i.location))
    return Catalogue(items=tuple(items.values()), locations=locations)


def _lines(count: int = 100) -> list[str]:
    texts = [json.loads(line)["text"] for line in EVAL_COMMANDS.read_text(encoding="utf-8").splitlines()]
    return list(itertools.islice(itertools.cycle(texts), count))


def _cli(lines: list[str]) -> tuple[float, int] | None:
    larder = ROOT / ".venv" / "bin" / "larder"
    if not larder.exists():
        return None
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "LARDER_DATA_DIR": folder, "LARDER_ENV_FILE": str(Path(folder) / "none.env")}
        subprocess.run(
            [str(larder), "catalog", "import", str(EVAL_CATALOGUE)], env=env, check=True, capture_output=True
        )
        start = time.perf_counter()
        done = subprocess.run(
            [str(larder), "parse", "--json"],
            input="\n".join(lines) + "\n",
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        elapsed = time.perf_counter() - start
    return elapsed, sum(1 for line in done.stdout.splitlines() if line.startswith("{"))


def main() -> int:
    imported, heavy = _import_cost()
    print(
        f"import device.intent.grammar: {imported * 1000:.0f} ms; heavy libraries pulled in: {heavy or 'none'}"
    )

    catalogue = big_catalogue()
    inits = []
    for _ in range(20):
        start = time.perf_counter()
        grammar = Grammar(catalogue)
        inits.append(time.perf_counter() - start)
    print(f"Grammar() on {len(catalogue.items)} items: median {statistics.median(inits) * 1000:.1f} ms")

    lines = _lines()
    grammar = Grammar(load_csv(EVAL_CATALOGUE))
    rounds, worst = [], 0.0
    for _ in range(5):
        start = time.perf_counter()
        for line in lines:
            one = time.perf_counter()
            grammar.parse(line)
            worst = max(worst, time.perf_counter() - one)
        rounds.append(time.perf_counter() - start)
    total = statistics.median(rounds)
    print(
        f"parse {len(lines)} lines in-process: {total * 1000:.1f} ms in total, "
        f"{total / len(lines) * 1000:.2f} ms a line, slowest line {worst * 1000:.2f} ms"
    )

    cli = _cli(lines)
    if cli is None:
        print("larder parse: skipped (.venv/bin/larder not installed)")
    else:
        elapsed, answered = cli
        print(
            f"larder parse --json, {len(lines)} stdin lines: {elapsed * 1000:.0f} ms wall, {answered} answers"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
