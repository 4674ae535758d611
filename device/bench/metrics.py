"""Pure measures for the benchmark: word error rate, percentiles, and matching a command against ``expect``.

No I/O, no clocks, no models: everything here is fed plain values and is tested as such.

WER normaliser (the same on both sides): lower case; hyphens become spaces ("walk-in" = "walk in"); every
character other than a letter, digit, apostrophe or a decimal point between digits is dropped; apostrophes are
removed ("we're" = "were"); runs of number words become digits ("twenty four" = "24", "three" = "3",
"one hundred and five" stays "100 and 5" on both sides alike), so "3" and "three" are the same word.
"""

from __future__ import annotations

import math
import re
import resource
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from device.intent.numbers import ONES, SCALES, TEENS, TENS

SEVEN_KEYS = ("action", "item", "quantity", "unit", "location", "to_location", "confidence")
#: keys of ``expect`` that are compared; ``confidence`` is a score, not a fact, so it is not compared
COMPARED_KEYS = SEVEN_KEYS[:-1]

# the grammar's number words (TENS also reads Whisper's "fourty"); "zero" and scales up to a thousand
_UNITS = {"zero": 0, **ONES, **TEENS}
_TENS = TENS
_SCALES = {word: SCALES[word] for word in ("hundred", "thousand")}
_DROP = re.compile(r"(?<!\d)\.|\.(?!\d)|[^a-z0-9.' ]")


def normalise(text: str) -> list[str]:
    """The words of ``text`` as WER compares them (see the module docstring)."""
    text = _DROP.sub(" ", text.lower().replace("-", " ")).replace("'", "")
    return _numbers_to_digits(text.split())


def _numbers_to_digits(words: Sequence[str]) -> list[str]:
    out: list[str] = []
    total = current = 0
    last: str | None = None  # kind of the previous number word: "unit", "teen", "tens", "scale"

    def flush() -> None:
        nonlocal total, current, last
        if last is not None:
            out.append(str(total + current))
        total = current = 0
        last = None

    for word in words:
        if word in _UNITS:
            value = _UNITS[word]
            kind = "unit" if value < 10 else "teen"
            # "two three" is two numbers; "twenty three" and "hundred three" are one
            if last in ("unit", "teen") or (last == "tens" and kind == "teen"):
                flush()
            current += value
            last = kind
        elif word in _TENS:
            if last in ("unit", "teen", "tens"):
                flush()
            current += _TENS[word]
            last = "tens"
        elif word in _SCALES and last is not None and last != "scale":
            scale = _SCALES[word]
            if scale == 100:
                current *= 100
            else:
                total, current = (total + current) * scale, 0
            last = "scale"
        else:
            flush()
            out.append(word)
    flush()
    return out


def edit_distance(reference: Sequence[str], hypothesis: Sequence[str]) -> int:
    """Levenshtein distance over words (substitutions, insertions and deletions each cost one)."""
    row = list(range(len(hypothesis) + 1))
    for i, ref in enumerate(reference, 1):
        diagonal, row[0] = row[0], i
        for j, hyp in enumerate(hypothesis, 1):
            diagonal, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, diagonal + (ref != hyp))
    return row[-1]


def word_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """(word edits, words in the reference), both sides normalised."""
    ref = normalise(reference)
    return edit_distance(ref, normalise(hypothesis)), len(ref)


def corpus_wer(pairs: Iterable[tuple[str, str]]) -> float | None:
    """Total edits over total reference words for ``(reference, hypothesis)`` pairs; None when no words."""
    edits = words = 0
    for reference, hypothesis in pairs:
        e, n = word_errors(reference, hypothesis)
        edits += e
        words += n
    return edits / words if words else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0-100) with linear interpolation between ranks (numpy's default); None if empty."""
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within 0-100, got {q}")
    data = sorted(values)
    if not data:
        return None
    rank = (len(data) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return data[low] + (data[high] - data[low]) * (rank - low)


def spread(values: Sequence[float]) -> dict[str, float | None]:
    """p50, p95, mean and max of ``values`` (all None when empty)."""
    return {
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "mean": sum(values) / len(values) if values else None,
        "max": max(values) if values else None,
    }


def peak_rss_mib() -> float:
    """This process's peak resident memory so far (``ru_maxrss``, kB on Linux), in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _same(expected: Any, got: Any) -> bool:
    if isinstance(expected, bool) or isinstance(got, bool):
        return expected is got
    if isinstance(expected, int | float) and isinstance(got, int | float):
        return math.isclose(expected, got, rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(expected, str) and isinstance(got, str):
        return expected.strip().lower() == got.strip().lower()
    return bool(expected == got)


def mismatches(expect: Mapping[str, Any], got: Mapping[str, Any] | None) -> list[str]:
    """Keys of ``expect`` (bar ``confidence``) whose value differs from ``got``; every key when ``got`` is None.

    Numbers compare as numbers (3 == 3.0), strings without regard to case or surrounding space, null only
    with null. ``confidence`` only has to be present in ``got``.
    """
    keys = [k for k in COMPARED_KEYS if k in expect]
    if got is None:
        return [*keys, "confidence"] if "confidence" in expect else keys
    wrong = [k for k in keys if not _same(expect[k], got.get(k))]
    if "confidence" in expect and got.get("confidence") is None:
        wrong.append("confidence")
    return wrong
