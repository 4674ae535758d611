"""The physical buttons (confirm, cancel) through gpiozero, and the microphone mute they control.

Buttons are wired to ground with the pin's pull-up on, debounced. ``confirm`` reports a press at once.
``cancel`` also has a long press (hold for ``long_press_s``: mute for rush hour), so its short press is
reported on release, and only when it was not held. gpiozero calls back in its own threads; every callback is
handed to the asyncio loop with ``call_soon_threadsafe``. On a machine without GPIO (a laptop, CI)
``open_buttons`` returns ``None`` after one clear warning and the daemon runs without buttons.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import threading
import traceback
import warnings
from collections.abc import Callable, Iterator
from typing import Any

from gpiozero import Button
from gpiozero.exc import BadPinFactory, GPIOZeroError, PinFactoryFallback

from device.errors import GpioError
from device.settings import Settings

log = logging.getLogger(__name__)

NO_GPIO_WARNING = "no GPIO on this machine; buttons and LEDs are off (set LARDER_GPIO=false to silence)"
BOUNCE_S = 0.05
CONFIRM = "confirm"
CANCEL = "cancel"


@functools.cache
def warn_no_gpio() -> None:
    """Log the no-GPIO warning, once per process however many devices find no GPIO."""
    log.warning(NO_GPIO_WARNING)


class MuteState:
    """Whether the microphone is muted, until when. Pure: the caller passes the time."""

    def __init__(self) -> None:
        self._until: float | None = None

    @property
    def until(self) -> float | None:
        return self._until

    def mute(self, now: float, seconds: float) -> float:
        """Mute from ``now`` for ``seconds``; returns when it ends."""
        self._until = now + seconds
        return self._until

    def unmute(self) -> None:
        self._until = None

    def is_muted(self, now: float) -> bool:
        return self._until is not None and now < self._until

    def remaining(self, now: float) -> float:
        """Seconds of mute left (0 when not muted)."""
        return self._until - now if self._until is not None and now < self._until else 0.0


class Buttons:
    """The confirm and cancel buttons. ``on_press(name)`` and ``on_long_press(name)`` run on ``loop``'s
    thread.
    """

    def __init__(
        self,
        settings: Settings,
        loop: asyncio.AbstractEventLoop,
        on_press: Callable[[str], None],
        on_long_press: Callable[[str], None],
        pin_factory: Any = None,
    ) -> None:
        self._loop = loop
        self._on_press = on_press
        self._on_long_press = on_long_press
        self._held: dict[str, bool] = {CONFIRM: False, CANCEL: False}
        self._lock = threading.Lock()
        self.buttons: dict[str, Button] = {}
        try:
            for name, pin in ((CONFIRM, settings.confirm_pin), (CANCEL, settings.cancel_pin)):
                self.buttons[name] = _button(name, pin, settings.long_press_s, pin_factory)
        except BaseException:
            self.close()
            raise
        confirm, cancel = self.buttons[CONFIRM], self.buttons[CANCEL]
        confirm.when_pressed = lambda: self._report(self._on_press, CONFIRM)
        cancel.when_pressed = lambda: self._pressed(CANCEL)
        cancel.when_held = lambda: self._long(CANCEL)
        cancel.when_released = lambda: self._released(CANCEL)

    def close(self) -> None:
        for button in self.buttons.values():
            button.close()
        self.buttons = {}

    def _pressed(self, name: str) -> None:
        with self._lock:
            self._held[name] = False

    def _long(self, name: str) -> None:
        with self._lock:
            self._held[name] = True
        self._report(self._on_long_press, name)

    def _released(self, name: str) -> None:
        with self._lock:
            held, self._held[name] = self._held[name], False
        if not held:
            self._report(self._on_press, name)

    def _report(self, callback: Callable[[str], None], name: str) -> None:
        try:
            self._loop.call_soon_threadsafe(callback, name)
        except RuntimeError:  # the loop is closed: the daemon is stopping
            log.debug("button %s pressed while stopping; ignored", name)


@contextlib.contextmanager
def pin_thread_errors_logged() -> Iterator[None]:
    """While a button is being opened, gpiozero already listens to its pin but has not built its hold machinery:
    an edge in that moment (a button held down, a bounce) raises in gpiozero's pin thread, which would print a
    traceback. Log it as one line instead; the button still reads pressed once it is open."""
    previous = threading.excepthook

    def hook(args: threading.ExceptHookArgs) -> None:
        frames = traceback.extract_tb(args.exc_traceback) if args.exc_traceback is not None else []
        if any("gpiozero" in frame.filename for frame in frames):
            log.warning(
                "a button changed while it was being opened (%s: %s)", args.exc_type.__name__, args.exc_value
            )
            return
        previous(args)

    threading.excepthook = hook
    try:
        yield
    finally:
        threading.excepthook = previous


def _button(name: str, pin: int, hold_s: float, pin_factory: Any) -> Button:
    try:
        with pin_thread_errors_logged():
            return Button(pin, pull_up=True, bounce_time=BOUNCE_S, hold_time=hold_s, pin_factory=pin_factory)
    except BadPinFactory:
        raise
    except GPIOZeroError as exc:
        raise GpioError(
            f"the {name} button on pin {pin} cannot be used: {exc}",
            hint=f"set LARDER_{name.upper()}_PIN to a free BCM pin number",
        ) from None


def open_buttons(
    settings: Settings,
    loop: asyncio.AbstractEventLoop,
    on_press: Callable[[str], None],
    on_long_press: Callable[[str], None],
    pin_factory: Any = None,
) -> Buttons | None:
    """The buttons, or ``None`` when GPIO is off or this machine has none (one warning, then carry on)."""
    if not settings.gpio:
        log.debug("GPIO turned off (LARDER_GPIO=false): no buttons")
        return None
    with warnings.catch_warnings():  # gpiozero warns per factory it tries; we say it once, plainly
        warnings.simplefilter("ignore", PinFactoryFallback)
        try:
            return Buttons(settings, loop, on_press, on_long_press, pin_factory)
        except BadPinFactory:
            warn_no_gpio()
            return None
