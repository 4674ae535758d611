"""Whisper's initial prompt, built from the catalogue: item names, units and locations.

Whisper reads the prompt as text said just before the clip, so naming the kitchen's vocabulary there steers it
to "oat milk" and "walk-in" instead of "oatmeal" and "walking". The prompt must fit Whisper's 224-token budget
for previous text (faster-whisper keeps only the last 223 tokens, dropping the start). Catalogue text runs
about 3.6 characters a token, so ``limit_chars`` defaults to 720 (about 195 tokens for the demo catalogue);
pass the model's tokenizer as ``count_tokens`` to enforce the token budget for catalogues of unusual words.
Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable

from device.inventory.catalog import Catalogue

DEFAULT_LIMIT_CHARS = 720
#: Whisper keeps at most 223 tokens of previous text; stay clear of it.
PROMPT_TOKENS = 200
#: The words commands are made of. Measured on Piper speech (tools/bench_stt.py): naming them after the
#: catalogue took tiny.en from 5.0% to 3.8% WER ("we use" for "we used", "and do" for "undo" remain).
COMMAND_WORDS = (
    "Commands: add, used, wasted, move, set, we're out of, how many, running low, expiring, undo, cancel, "
    "yes, no."
)

# Units a cook says in the singular or not at all ("six each" is never said).
_UNCOUNTED = {"each"}
_IRREGULAR = {"loaf": "loaves", "knife": "knives", "half": "halves", "box": "boxes"}


def plural(unit: str) -> str:
    """The plural a cook would say ("case" -> "cases", "bunch" -> "bunches", "loaf" -> "loaves")."""
    if unit in _IRREGULAR:
        return _IRREGULAR[unit]
    if unit.endswith(("s", "x", "z", "ch", "sh")):
        return unit + "es"
    if unit.endswith("y") and unit[-2:-1] not in set("aeiou"):
        return unit[:-1] + "ies"
    return unit + "s"


def _fit(words: list[str], budget: int) -> list[str]:
    """The leading words whose comma-joined length stays within ``budget``."""
    kept: list[str] = []
    used = 0
    for word in words:
        cost = len(word) + (2 if kept else 0)
        if used + cost > budget:
            break
        kept.append(word)
        used += cost
    return kept


def _unique(words: list[str]) -> list[str]:
    seen: dict[str, str] = {}
    for word in words:
        word = " ".join(word.split())
        if word and word.casefold() not in seen:
            seen[word.casefold()] = word
    return list(seen.values())


def initial_prompt(
    catalogue: Catalogue,
    *,
    limit_chars: int = DEFAULT_LIMIT_CHARS,
    count_tokens: Callable[[str], int] | None = None,
    limit_tokens: int = PROMPT_TOKENS,
) -> str:
    """A prompt naming the catalogue's items, units and locations and the command words, within the limits.

    Units and locations are few and short: each may take up to a fifth of ``limit_chars``; the command words
    are kept when they take at most a quarter. Items fill what is left in catalogue order, then aliases not
    already named. Entries are never cut mid-name; a section that does not fit at all is left out. With
    ``count_tokens`` (the model's tokenizer) the prompt is also shortened until it fits ``limit_tokens``.
    """
    prompt = _build(catalogue, limit_chars)
    while count_tokens is not None and prompt and count_tokens(prompt) > limit_tokens:
        limit_chars = int(limit_chars * 0.9)
        prompt = _build(catalogue, limit_chars)
    return prompt


def _build(catalogue: Catalogue, limit_chars: int) -> str:
    units = _fit(_unique([plural(u) for u in catalogue.units() if u not in _UNCOUNTED]), limit_chars // 5)
    locations = _fit(_unique(list(catalogue.locations)), limit_chars // 5)
    tail = ""
    if units:
        tail += "; units: " + ", ".join(units)
    if locations:
        tail += "; locations: " + ", ".join(locations)
    tail += "."
    if len(COMMAND_WORDS) + 1 <= limit_chars // 4:
        tail += " " + COMMAND_WORDS
    head = "Kitchen inventory: "
    names = _unique(list(catalogue.names))
    known = {n.casefold() for n in names}
    aliases = [
        a for a in _unique([a for item in catalogue.items for a in item.aliases]) if a.casefold() not in known
    ]
    items = _fit(names + aliases, limit_chars - len(head) - len(tail))
    if not items:
        items = _fit(names, limit_chars - len(head) - 1)
        tail = "."
    if not items:
        return ""
    return head + ", ".join(items) + tail
