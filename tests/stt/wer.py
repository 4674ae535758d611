"""Word error rate for speech-to-text checks: normalise both sides, then count word edits.

Shared by the STT tests and ``scripts/bench_stt.py``. Normalising forgives what the grammar forgives anyway:
case, punctuation, hyphens ("take-away" = "takeaway") and small numbers written as digits ("3" = "three").
"""

from __future__ import annotations

import re

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


def edit_distance(ref: list[str], hyp: list[str]) -> int:
    """Levenshtein distance over words (substitutions, insertions, deletions)."""
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1]


def word_errors(reference: str, heard: str) -> tuple[int, int]:
    """(word edits, reference words) after normalising both."""
    ref = normalise(reference)
    return edit_distance(ref, normalise(heard)), len(ref)
