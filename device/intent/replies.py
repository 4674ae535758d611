"""Short replies that stand alone: undo ("scratch that"), cancel ("never mind", "no"), confirm ("yes", "do it").

Matched only when the whole utterance is the reply, so "no more croissants" and "yeah the salmon was great" are
not replies. Pure data and one predicate over normalised tokens.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from device.intent.command import Action
from device.intent.text import DISFLUENCIES, WAKE_WORDS

_UNDO = {
    "undo",
    "undo that",
    "undo it",
    "undo this",
    "undo last",
    "scratch that",
    "scratch it",
    "take that back",
    "take it back",
    "reverse that",
    "reverse it",
    "revert",
    "revert that",
    "revert it",
    "go back",
    "delete that",
    "delete the last one",
    "delete the last entry",
    "remove that",
    "remove the last entry",
    "remove the last one",
    "that was wrong undo",
    "that was a mistake",
    "my mistake",
    "my bad",
    "oops",
    "back that out",
}
_UNDO_LAST = re.compile(r"^undo (the )?(last|previous) (one|thing|entry|change|command|action|update)$")
_CANCEL = {
    "never mind",
    "nevermind",
    "cancel",
    "cancel that",
    "cancel it",
    "cancel this",
    "stop",
    "stop that",
    "stop it",
    "forget it",
    "forget that",
    "forget about it",
    "abort",
    "do not",
    "do not do that",
    "do not do it",
    "leave it",
    "ignore that",
    "ignore it",
    "not that",
    "wrong",
    "that is wrong",
    "that is not right",
    "that is not it",
    "no thanks",
    "no thank you",
    "not now",
    "hold on",
    "hang on",
    "quit",
    "exit",
}
_NO = frozenset({"no", "nope", "nah", "wait", "oh"})
_INTERJECTIONS = frozenset({"oops", "sorry", "whoops", "oh", "ah", "damn", "shoot", "actually"})
_CONFIRM = {
    "confirm",
    "confirmed",
    "correct",
    "right",
    "that is right",
    "that is correct",
    "that is it",
    "that is the one",
    "do it",
    "go ahead",
    "go for it",
    "affirmative",
    "exactly",
    "perfect",
    "okay",
    "ok",
    "sure",
    "sounds good",
    "please do",
    "absolutely",
    "definitely",
    "yes please",
    "you got it",
    "good",
    "all good",
    "looks good",
    "sounds right",
}
_YES = frozenset({"yes", "yeah", "yep", "yup", "yea", "ya", "aye", "yah"})
#: how speech recognition writes a lone "undo" (measured with Whisper tiny.en: "and do", "and do you?")
_UNDO_HEARD = frozenset(
    {
        "and do",
        "and you",
        "and do you",
        "and do it",
        "and do that",
        "an do",
        "end do",
        "un do",
        "on do",
        "in do",
    }
)
_WAKE_LEAD = frozenset({"okay", "ok", "hey", "hi"})


def short_reply(tokens: Sequence[str]) -> Action | None:
    """UNDO, CANCEL or CONFIRM when the whole utterance is one of those replies, else ``None``."""
    words = list(tokens)
    while len(words) > 1 and words[0] in _INTERJECTIONS:
        words = words[1:]  # "oops, undo that", "sorry, cancel"
    text = " ".join(words)
    if text in _UNDO or _UNDO_LAST.match(text):
        return Action.UNDO
    rest = words
    while rest and rest[0] in _YES:
        rest = rest[1:]
    if len(rest) < len(words) and (not rest or " ".join(rest) in _CONFIRM):
        return Action.CONFIRM
    if text in _CONFIRM:
        return Action.CONFIRM
    rest = words
    while rest and rest[0] in _NO:
        rest = rest[1:]
    if len(rest) < len(words) and not rest and words[0] != "oh":
        return Action.CANCEL
    tail = " ".join(rest)
    if tail in _CANCEL:
        return Action.CANCEL
    if len(rest) < len(words) and (tail in _UNDO or _UNDO_LAST.match(tail)):
        return Action.UNDO
    return None


def misheard_undo(tokens: Sequence[str]) -> bool:
    """Whether the whole utterance is "undo" as speech recognition mishears it (tokens before fillers go)."""
    words = [t for t in tokens if t not in DISFLUENCIES and t not in WAKE_WORDS]
    while len(words) > 1 and words[0] in _WAKE_LEAD:
        words = words[1:]
    return " ".join(words) in _UNDO_HEARD
