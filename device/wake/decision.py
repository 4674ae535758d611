"""The wake decision, free of I/O: measured operating points per model and sensitivity, ``WakeDecider`` (fed
per-frame probabilities and audio times, no clock) and ``confirms_wake`` (does a transcript hold the wake word).

pymicro-wakeword's own rule (``probability_cutoff`` over a ``sliding_window_size`` average, 0.85 over 5 frames
for okay_nabu) misses most wakes in kitchen noise. So the model runs with a window of one frame and the chosen
sensitivity's operating point decides: a low cutoff that catches the wake word in noise, and above it a "sure"
score. Between the two the model also fires on everyday "okay, ..." chatter, so such a borderline wake counts
only if Whisper hears the wake word (the detector runs the check). How the points were measured: docs/wake.md
and tools/wake_eval.py.
"""

from __future__ import annotations

import math
import re
from collections import deque
from dataclasses import dataclass
from fractions import Fraction

from device.settings import Sensitivity, Settings, WakeModelName


@dataclass(frozen=True)
class OperatingPoint:
    """Wake when the mean of ``window`` frame probabilities reaches ``cutoff``; below ``sure`` it is borderline
    and, with the transcript check on, counts only if the check hears the wake word."""

    cutoff: float
    window: int
    sure: float
    # Cutoff for a second listener that hears the audio with voices lowered (``LOWERED_VOICE``), or None for
    # none. Its fires are always checked: it only runs with the transcript check on.
    lowered: float | None = None


# Measured on synthetic voices for recall and on real cafe talk over kitchen noise for false wakes (docs/wake.md):
# high, the default, wakes for the most cooks in noise and stays within 1 false wake an hour of real talk (its
# lowered listener at 0.1: below that, its candidates are the ones Whisper hears as its own prompt); normal and
# low hand Whisper fewer candidates, for a site whose own test finds more.
OPERATING_POINTS: dict[WakeModelName, dict[Sensitivity, OperatingPoint]] = {
    WakeModelName.OKAY_NABU: {
        Sensitivity.LOW: OperatingPoint(0.5, 3, 0.9),
        Sensitivity.NORMAL: OperatingPoint(0.05, 1, 0.85, lowered=0.2),
        Sensitivity.HIGH: OperatingPoint(0.02, 1, 0.85, lowered=0.1),
    },
    WakeModelName.HEY_MYCROFT: {
        Sensitivity.LOW: OperatingPoint(0.8, 3, 0.97),
        Sensitivity.NORMAL: OperatingPoint(0.2, 1, 0.95),
        Sensitivity.HIGH: OperatingPoint(0.1, 1, 0.9),
    },
    WakeModelName.HEY_JARVIS: {
        Sensitivity.LOW: OperatingPoint(0.7, 3, 0.95),
        Sensitivity.NORMAL: OperatingPoint(0.5, 1, 0.9),
        Sensitivity.HIGH: OperatingPoint(0.2, 1, 0.8),
    },
    WakeModelName.ALEXA: {
        Sensitivity.LOW: OperatingPoint(0.9, 3, 0.97),
        Sensitivity.NORMAL: OperatingPoint(0.6, 3, 0.95),
        Sensitivity.HIGH: OperatingPoint(0.3, 1, 0.9),
    },
}

# Speex noise suppression in front of each model when the setting is unset (dB, 0 = off), measured on the
# validation set: it lifts okay_nabu in kitchen and fan noise, and costs alexa and hey_mycroft clean wakes.
NOISE_SUPPRESSION_DB: dict[WakeModelName, int] = {
    WakeModelName.OKAY_NABU: -20,
    WakeModelName.HEY_MYCROFT: 0,
    WakeModelName.HEY_JARVIS: 0,
    WakeModelName.ALEXA: 0,
}

# The lowered listener hears every pitch and formant scaled by this (the audio stretched 19/16 in time): the
# high voices the models never learnt come down into the range they did (docs/wake.md).
LOWERED_VOICE = Fraction(16, 19)

# What Whisper is primed with, and which words count as hearing the wake word (lower case, letters only). In
# noise Whisper hears "okay nabu" as "okay, now ..." or "okay, uh, move": "okay" then an n-word or a filler.
# "Nabu" without "okay" does not count: primed with it, Whisper puts it into talk ("Hey Nabu", "Nabu 12 carton
# on road meal"), and the 2 s the check hears always hold the "okay" of a real wake (docs/wake.md).
_WAKE_CHECKS: dict[WakeModelName, tuple[str, re.Pattern[str]]] = {
    WakeModelName.OKAY_NABU: (
        "Okay Nabu, add two cases of milk. Okay, thanks.",
        re.compile(r"\b(okay|ok|okey|o k) (n|(uh|um|ah|er)\b)"),
    ),
    WakeModelName.HEY_JARVIS: (
        "Hey Jarvis, add two cases of milk. Hey, thanks.",
        re.compile(r"\bhey j|\bjarvis"),
    ),
    WakeModelName.HEY_MYCROFT: (
        "Hey Mycroft, add two cases of milk. Hey, thanks.",
        re.compile(r"\bhey m[iy]|\bm[iy] ?cr|\bmicrosoft"),
    ),
    WakeModelName.ALEXA: ("Alexa, add two cases of milk. Thanks.", re.compile(r"\balex|\ba lex")),
}


def operating_point(model: WakeModelName, sensitivity: Sensitivity) -> OperatingPoint:
    return OPERATING_POINTS[model][sensitivity]


def check_prompt(model: WakeModelName) -> str:
    """What Whisper is primed with when it checks a borderline wake."""
    return _WAKE_CHECKS[model][0]


# A check that heard only the wake word's first word: the score peaked on it, and a slow speaker had not said
# the rest yet. The detector asks again a moment later instead of turning the wake down.
_FIRST_WORD_ONLY: dict[WakeModelName, re.Pattern[str]] = {
    WakeModelName.OKAY_NABU: re.compile(r"^(okay|ok|okey|o k)$"),
    WakeModelName.HEY_JARVIS: re.compile(r"^hey$"),
    WakeModelName.HEY_MYCROFT: re.compile(r"^hey$"),
}


def _words(transcript: str) -> str:
    return " ".join(re.sub(r"[^a-z]+", " ", transcript.lower()).split())


def confirms_wake(model: WakeModelName, transcript: str) -> bool:
    """Whether a transcript of the audio ending at a wake contains the wake word (loosely: "okay, now" passes)."""
    return bool(_WAKE_CHECKS[model][1].search(_words(transcript)))


def heard_too_early(model: WakeModelName, transcript: str) -> bool:
    """Whether the check heard only the wake word's first word ("Okay."), so should listen a little longer."""
    pattern = _FIRST_WORD_ONLY.get(model)
    return pattern is not None and bool(pattern.search(_words(transcript)))


@dataclass(frozen=True)
class WakeFire:
    """The decider fired: the averaged score, and whether it stayed below ``sure`` (so wants the check)."""

    score: float
    borderline: bool = False


class WakeDecider:
    """Decides wakes from per-frame probabilities: window average >= cutoff, then a refractory time.

    With ``sure`` set, a score between ``cutoff`` and ``sure`` is held until ``HOLD_S`` of audio has passed since
    its best score (so the check hears the whole word): if the average reaches ``sure`` meanwhile it fires at
    once, else it fires as borderline with that best score. After a
    fire (or ``suppress_until``) the window is cleared, so a wake needs ``window`` fresh frames. A borderline fire
    the check turns down is ``withdraw``n: no refractory follows it, but until the refractory would have ended
    only a higher score fires (the "nabu" after an "okay" that fired early, not the same murmur again).
    """

    HOLD_S = 0.3
    MAX_HOLD_S = 1.0  # a score that keeps creeping up is checked after this long all the same

    def __init__(self, *, cutoff: float, window: int, refractory_s: float, sure: float | None = None) -> None:
        if not 0 < cutoff <= 1:
            raise ValueError(f"wake cutoff must be in (0, 1], got {cutoff}")
        if window < 1:
            raise ValueError(f"wake window must be at least 1 frame, got {window}")
        self.cutoff = cutoff
        self.window = window
        self.refractory_s = refractory_s
        self.sure = sure
        self._recent: deque[float] = deque(maxlen=window)
        self._quiet_until = float("-inf")
        self._suppressed_until = float("-inf")  # the unit's own speech: a withdrawn fire keeps this
        # (audio time it crossed the cutoff, audio time of the best score, best score)
        self._held: tuple[float, float, float] | None = None
        self._bar: tuple[float, float] = (float("-inf"), 0.0)  # (until, score) a withdrawn fire leaves
        self._last_fire: tuple[float, float] = (float("-inf"), 0.0)  # (audio time, score)

    @classmethod
    def from_settings(cls, settings: Settings) -> WakeDecider:
        point = operating_point(settings.wake_model, settings.wake_sensitivity)
        cutoff = settings.wake_threshold if settings.wake_threshold is not None else point.cutoff
        sure = max(point.sure, cutoff) if settings.wake_confirm else None
        return cls(cutoff=cutoff, window=point.window, refractory_s=settings.wake_refractory_s, sure=sure)

    @classmethod
    def lowered_from_settings(cls, settings: Settings) -> WakeDecider | None:
        """The lowered listener's decider: every fire held and borderline (checked). None when that listener
        does not run: no point measured for this model and sensitivity, the setting off, or no check."""
        point = operating_point(settings.wake_model, settings.wake_sensitivity)
        if point.lowered is None or not settings.wake_lowered_voice or not settings.wake_confirm:
            return None
        cutoff = max(point.lowered, settings.wake_threshold or 0.0)  # a raised threshold raises both
        return cls(cutoff=cutoff, window=1, refractory_s=settings.wake_refractory_s, sure=math.inf)

    def feed(self, at_s: float, probability: float) -> WakeFire | None:
        if self._held is None and at_s < self._quiet_until:
            self._recent.clear()
            return None
        self._recent.append(probability)
        score = sum(self._recent) / self.window if len(self._recent) == self.window else 0.0
        if self._held is not None:
            crossed, peak_at, best = self._held
            if self.sure is not None and score >= self.sure:
                return self._fire(at_s, score, borderline=False)
            too_long = at_s - crossed >= self.MAX_HOLD_S
            if score > best and not too_long:
                self._held = (crossed, at_s, score)  # still rising: the word is not over yet
                return None
            if at_s - peak_at >= self.HOLD_S or too_long:
                return self._fire(at_s, max(best, score), borderline=True)
            return None
        if len(self._recent) < self.window or score < self.cutoff:
            return None
        until, bar = self._bar
        if at_s < until and score <= bar:
            return None
        if self.sure is not None and score < self.sure:
            self._held = (at_s, at_s, score)
            return None
        return self._fire(at_s, score, borderline=False)

    def _fire(self, at_s: float, score: float, *, borderline: bool) -> WakeFire:
        self._recent.clear()
        self._held = None
        self._quiet_until = at_s + self.refractory_s
        self._last_fire = (at_s, score)
        return WakeFire(score, borderline)

    def withdraw(self) -> None:
        """The last fire was not a wake (its transcript check said no): lift its refractory, and until that
        would have ended let only a higher score fire."""
        at_s, score = self._last_fire
        self._quiet_until = self._suppressed_until
        self._bar = (at_s + self.refractory_s, score)

    def suppress_until(self, at_s: float) -> None:
        """No wake before audio time ``at_s`` (the unit itself is speaking, or another listener woke)."""
        self._suppressed_until = max(self._suppressed_until, at_s)
        self._quiet_until = max(self._quiet_until, at_s)
        self._recent.clear()
        self._held = None

    def reset(self) -> None:
        """A break in the stream (the audio in between is never fed): forget the window and a held score, and
        end the refractory, suppression and raised bar, which counted audio time that will not come. (Kept,
        a refractory after a wake would hide the next wake word for its first seconds after the reply.)"""
        self._recent.clear()
        self._held = None
        self._quiet_until = self._suppressed_until = float("-inf")
        self._bar = (float("-inf"), 0.0)
