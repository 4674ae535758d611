"""Word error rate for speech-to-text checks: normalise both sides, then count word edits.

Shared by the STT tests and ``tools/bench_stt.py``. Normalising forgives what the grammar forgives anyway:
case, punctuation, hyphens ("take-away" = "takeaway") and small numbers written as digits ("3" = "three"): unlike
the benchmark's normaliser it keeps number words, so tests can name the words they expect. Word edits are counted by
the benchmark's ``edit_distance``.
"""

from __future__ import annotations

import re

from device.bench.metrics import edit_distance

_NUMBERS = [
    *("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"),
    *("eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"),
    "twenty",
]


def normalise(text: str) -> list[str]:
    """Lower-case words without punctuation; hyphenated words joined; 0-20 as words."""
    text = re.sub(r"[^a-z0-9' ]", " ", text.lower().replace("-", ""))
    words = []
    for word in text.split():
        word = word.strip("'")
        if word.isdigit() and int(word) < len(_NUMBERS):
            word = _NUMBERS[int(word)]
        if word:
            words.append(word)
    return words


def word_errors(reference: str, heard: str) -> tuple[int, int]:
    """(word edits, reference words) after normalising both."""
    ref = normalise(reference)
    return edit_distance(ref, normalise(heard)), len(ref)
