"""What the physical buttons do, given the dialogue's state.

A press settles a pending question (confirm applies, cancel drops it) or, within the window, cancel undoes the
change just applied. With nothing to settle, a press of either button starts listening (push-to-talk), muted
or not: a press is deliberate. A long press of cancel mutes the microphone for ``mute_s`` (rush hour); another
long press unmutes. The daemon wires ``Buttons`` (device/gpio.py) callbacks to ``press`` and ``long_press``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from device.dialogue.manager import Dialogue, Turn
from device.gpio import CANCEL, MuteState

log = logging.getLogger(__name__)


class ButtonActions:
    """Routes presses to the dialogue, push-to-talk or mute. ``clock`` gives wall-clock epoch seconds."""

    def __init__(
        self,
        dialogue: Dialogue,
        mute: MuteState,
        *,
        mute_s: float,
        clock: Callable[[], float],
        on_turn: Callable[[Turn], None],
        on_push_to_talk: Callable[[str], None],
        on_mute: Callable[[bool], None] | None = None,
    ) -> None:
        self._dialogue = dialogue
        self._mute = mute
        self._mute_s = mute_s
        self._clock = clock
        self._on_turn = on_turn
        self._on_push_to_talk = on_push_to_talk
        self._on_mute = on_mute

    def press(self, which: str) -> None:
        turn = self._dialogue.button(which, self._clock())
        if turn is None:
            log.info("%s pressed with nothing to settle: push-to-talk", which)
            self._on_push_to_talk(which)
        else:
            self._on_turn(turn)

    def long_press(self, which: str) -> None:
        if which != CANCEL:
            return
        now = self._clock()
        muted = not self._mute.is_muted(now)
        if muted:
            self._mute.mute(now, self._mute_s)
            log.info("microphone muted for %g s", self._mute_s)
        else:
            self._mute.unmute()
            log.info("microphone unmuted")
        if self._on_mute is not None:
            self._on_mute(muted)
