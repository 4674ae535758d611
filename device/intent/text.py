"""Transcript text -> normalised tokens: case, accents, contractions, ASR punctuation, glued digits, fillers.

``tokenize`` makes "Um, okay nabu... Add 5kg of jalapeños to the walk-in!" into
``["add", "5", "kg", "of", "jalapenos", "to", "the", "walk", "in"]``. Item, unit and location names are
normalised with the same ``normalise_name`` so that both sides of every comparison look alike.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from device.intent.numbers import ONES, TEENS, TENS

_VULGAR = {"½": "1/2", "¼": "1/4", "¾": "3/4", "⅓": "1/3", "⅔": "2/3"}
_CONTRACTIONS = [
    (re.compile(r"\b(86|eighty six)\s*'?\s*(?:d|ed)\b"), r"\1"),
    (re.compile(r"\bcan'?t\b"), "can not"),
    (re.compile(r"\bwon'?t\b"), "will not"),
    (re.compile(r"\blet'?s\b"), "let us"),
    (re.compile(r"n't\b"), " not"),
    (re.compile(r"'re\b"), " are"),
    (re.compile(r"'ve\b"), " have"),
    (re.compile(r"'ll\b"), " will"),
    (re.compile(r"'d\b"), " would"),
    (re.compile(r"'m\b"), " am"),
    (re.compile(r"\b(what|where|how|that|there|it|who|here|he|she|when|which)'s\b"), r"\1 is"),
    (re.compile(r"'s\b"), ""),
    (re.compile(r"\b(what|where|that|there|how)s\b"), r"\1 is"),
    (re.compile(r"\b(?:dont)\b"), "do not"),
    (re.compile(r"\bweve\b"), "we have"),
    (re.compile(r"\bive\b"), "i have"),
    (re.compile(r"\bim\b"), "i am"),
    (re.compile(r"\bweve\b"), "we have"),
]
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}\b)")
#: "1,5 kg": a comma before one or two digits is a decimal point, never a thousands separator
_DECIMAL_COMMA = re.compile(r"(?<=\d),(?=\d{1,2}\b)")
_GLUED = re.compile(r"\b(\d+(?:\.\d+)?)([a-z]+)\b")
_ORDINAL_SUFFIX = frozenset({"st", "nd", "rd", "th"})

DISFLUENCIES = frozenset(
    {"um", "umm", "uh", "uhh", "uhm", "er", "erm", "ah", "ahh", "hmm", "mm", "mmm", "eh"}
)
#: wake-word remnants that speech recognition leaves at the start ("okay nabu, ...")
WAKE_WORDS = frozenset({"nabu", "naboo", "nabo", "navu", "nabou", "nobu", "noboo", "nabuu", "boo", "abu"})
_LEADING_FILLERS: tuple[tuple[str, ...], ...] = (
    ("i", "would", "like", "you", "to"),
    ("i", "need", "you", "to"),
    ("i", "want", "you", "to"),
    ("go", "ahead", "and"),
    ("can", "you"),
    ("could", "you"),
    ("would", "you"),
    ("will", "you"),
    ("can", "ya"),
    ("could", "ya"),
    ("let", "us"),
    ("all", "right"),
    ("you", "know"),
    ("so",),
    ("okay",),
    ("ok",),
    ("alright",),
    ("right",),
    ("hey",),
    ("hi",),
    ("well",),
    ("and",),
    ("also",),
    ("then",),
    ("now",),
    ("just",),
    ("quick",),
    ("quickly",),
    ("actually",),
    ("oh",),
    ("please",),
    ("kindly",),
)
_TRAILING_FILLERS: tuple[tuple[str, ...], ...] = (
    ("thank", "you"),
    ("right", "now"),
    ("real", "quick"),
    ("for", "me"),
    ("for", "us"),
    ("thanks",),
    ("thankyou",),
    ("cheers",),
    ("mate",),
    ("chef",),
    ("please",),
    ("now",),
    ("quickly",),
    ("okay",),
    ("ok",),
)
_ANYWHERE = (("you", "know"), ("i", "mean"), ("sort", "of"), ("kind", "of"), ("please",))
#: "I'd like a ..." is not an approximation
_NOT_BEFORE_APPROX = frozenset({"would", "i", "we", "you", "they", "do", "did", "not", "should"})
_APPROX = frozenset({"like", "about", "around", "roughly", "approximately", "approx", "maybe", "probably"})


def normalise_name(text: str) -> str:
    """Lower case, no accents, punctuation as spaces, digits apart: "Walk-In" -> "walk in", "7up" -> "7 up"."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = re.sub(r"[^a-z0-9./ ]+", " ", text.replace("'", ""))
    return " ".join(_unglue(text).split())


def _unglue(text: str) -> str:
    """ "5kg" -> "5 kg", as speech-to-text writes it either way; ordinals ("30th") stay whole."""
    return _GLUED.sub(
        lambda m: m.group(0) if m.group(2) in _ORDINAL_SUFFIX else f"{m.group(1)} {m.group(2)}", text
    )


def tokenize(text: str) -> list[str]:
    """Normalised word tokens of a transcript (fillers not yet removed)."""
    for glyph, ascii_form in _VULGAR.items():
        text = re.sub(rf"(\d)?{glyph}", rf" \g<1> {ascii_form} ", text)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("`", "'").replace("\u2044", "/")
    text = _ISO_DATE.sub(r" \1_\2_\3 ", text)
    text = re.sub(r"\beighty[\s-]+six", "eighty six", text)
    for pattern, replacement in _CONTRACTIONS:
        text = pattern.sub(replacement, text)
    text = _THOUSANDS.sub("", text)
    text = _DECIMAL_COMMA.sub(".", text)
    text = text.replace("&", " and ").replace("+", " plus ").replace("@", " at ")
    text = re.sub(r"(?<!\d)/|/(?!\d)", " ", text)
    text = re.sub(r"[^\w\s./]", " ", text)
    text = re.sub(r"(?<!\d)\.|\.(?!\d)", " ", text)
    return _unglue(text).split()


def _strip_prefix(tokens: list[str], phrases: Sequence[tuple[str, ...]]) -> bool:
    for phrase in phrases:
        n = len(phrase)
        if len(tokens) > n and tuple(tokens[:n]) == phrase:
            del tokens[:n]
            return True
    return False


def _strip_suffix(tokens: list[str], phrases: Sequence[tuple[str, ...]]) -> bool:
    for phrase in phrases:
        n = len(phrase)
        if len(tokens) > n and tuple(tokens[-n:]) == phrase:
            del tokens[-n:]
            return True
    return False


def starts_number(token: str) -> bool:
    """Whether a number phrase could begin with ``token``."""
    return (
        token[:1].isdigit()
        or token in ONES
        or token in TEENS
        or token in TENS
        or token in ("a", "an", "half")
    )


def strip_fillers(tokens: Sequence[str]) -> list[str]:
    """Drop disfluencies, wake-word remnants and politeness around the command; never empties the list."""
    out = [t for t in tokens if t not in DISFLUENCIES]
    i = 0
    cleaned: list[str] = []
    while i < len(out):
        hit = next((p for p in _ANYWHERE if tuple(out[i : i + len(p)]) == p), None)
        if hit and len(out) > len(hit):
            i += len(hit)
            continue
        if (
            out[i] in _APPROX
            and i + 1 < len(out)
            and starts_number(out[i + 1])
            and cleaned
            and cleaned[-1] not in _NOT_BEFORE_APPROX
        ):
            i += 1
            continue
        cleaned.append(out[i])
        i += 1
    out = cleaned or out
    changed = True
    while changed and out:
        changed = False
        if out[0] in ("okay", "ok", "hey", "hi") and len(out) > 1 and out[1] in WAKE_WORDS:
            del out[:2]
            changed = True
        elif out[0] in WAKE_WORDS and len(out) > 1:
            del out[0]
            changed = True
        else:
            changed = _strip_prefix(out, _LEADING_FILLERS) or _strip_suffix(out, _TRAILING_FILLERS)
    if out and out[-1] in WAKE_WORDS and len(out) > 1:
        out.pop()
    return out


_WAKE_LEAD = re.compile(r"^\W*(?:okay|ok|hey)\b[\s,.!]*", re.IGNORECASE)
#: longest clause taken for the rest of a misheard wake word ("now move" for "nabu")
MAX_REMNANT_WORDS = 3


#: how the tail of "nabu" ends when speech recognition writes it as words without the "okay" ("Move, ...",
#: "I'll move, ...", "Now move, ...")
_WAKE_TAIL_ENDS = frozenset({"move", *WAKE_WORDS})


def wake_remnant(text: str) -> tuple[list[str], str] | None:
    """ "Okay, now move, add three cases..." -> (["now", "move"], "add three cases..."); "Move, how many eggs do
    we have?" -> (["move"], "how many eggs do we have?"): the short clause (at most ``MAX_REMNANT_WORDS`` words)
    before the first comma that the wake word's tail may have become, and the text after it. That is any such
    clause after a leading "okay", and without one, a clause ending in "move" or a spelling of "nabu". ``None``
    when there is none or it holds a number; the caller decides whether the clause was the wake word."""
    lead = _WAKE_LEAD.match(text)
    clause, comma, after = text[lead.end() if lead else 0 :].partition(",")
    words = tokenize(clause)
    if not comma or not after.strip() or not 1 <= len(words) <= MAX_REMNANT_WORDS:
        return None
    if any(starts_number(w) and w not in ("a", "an") for w in words):
        return None
    if lead is None and words[-1] not in _WAKE_TAIL_ENDS:
        return None
    return words, after.strip()


def find_phrases(
    tokens: Sequence[str], phrases: dict[tuple[str, ...], object], max_len: int
) -> list[tuple[int, int]]:
    """Non-overlapping spans of ``tokens`` that are keys of ``phrases``, longest first, scanning left to right."""
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(tokens):
        for size in range(min(max_len, len(tokens) - i), 0, -1):
            if tuple(tokens[i : i + size]) in phrases:
                spans.append((i, i + size))
                i += size
                break
        else:
            i += 1
    return spans
