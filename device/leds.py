"""The status light: follows pipeline events on the bus and shows idle, listening, thinking, speaking,
offline, error or muted on a single LED (brightness patterns) or an RGB LED (colour and pattern).

The decisions are pure and table-tested: ``LightModel`` turns events into the state to show and
``pattern_for`` turns a state into a ``Pattern`` (brightness frames at a fixed tick, and a colour).
``StatusLight`` plays patterns on a gpiozero device through its ``source`` thread. An error (``ErrorEvent``)
blinks for a moment, then the light goes back to whatever the unit is doing by then.
"""

from __future__ import annotations

import itertools
import logging
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from gpiozero import LED, PWMLED, RGBLED
from gpiozero.exc import BadPinFactory, GPIOZeroError, PinFactoryFallback, PinPWMUnsupported

from device.errors import GpioError
from device.gpio import warn_no_gpio
from device.pipeline.events import (
    Connectivity,
    ErrorEvent,
    Event,
    EventBus,
    Listening,
    ReplyDone,
    ReplyStarted,
    SpeechEnd,
    StateChanged,
    TranscriptReady,
    Wake,
)
from device.settings import LedKind, Settings

log = logging.getLogger(__name__)

IDLE, LISTENING, THINKING, SPEAKING = "idle", "listening", "thinking", "speaking"
OFFLINE, ERROR, MUTED = "offline", "error", "muted"
#: states the unit rests in between commands; activities end back in the last of these
REST_STATES = frozenset({IDLE, OFFLINE, ERROR, MUTED})
STATES = REST_STATES | {LISTENING, THINKING, SPEAKING}
#: while an error blinks, only these take over at once (the cook must see the unit respond)
URGENT = frozenset({LISTENING, MUTED})

TICK_S = 0.05
ERROR_REPEATS = 15  # 15 x 0.1 s: the error blinks for 1.5 s

Colour = tuple[float, float, float]


@dataclass(frozen=True)
class Pattern:
    """Brightness frames (0-1), one per ``tick_s``, looped; an RGB LED shows them in ``colour``."""

    frames: tuple[float, ...]
    colour: Colour
    tick_s: float = TICK_S

    @property
    def steady(self) -> bool:
        return len(set(self.frames)) == 1

    @property
    def period_s(self) -> float:
        return len(self.frames) * self.tick_s


def _pulse(steps: int) -> tuple[float, ...]:
    up = tuple(round(i / steps, 3) for i in range(steps + 1))
    return up + up[-2:0:-1]


_PATTERNS: dict[str, Pattern] = {
    IDLE: Pattern((0.08,), (0.0, 1.0, 0.0)),  # dim; green on RGB
    LISTENING: Pattern((1.0,), (0.0, 0.0, 1.0)),  # on; blue
    THINKING: Pattern((1.0, 1.0, 1.0, 0.0, 0.0, 0.0), (0.6, 0.0, 1.0)),  # ~3 Hz blink; purple
    SPEAKING: Pattern(_pulse(10), (0.0, 1.0, 1.0)),  # 1 s pulse; cyan
    OFFLINE: Pattern((1.0,) * 10 + (0.0,) * 30, (1.0, 0.5, 0.0)),  # slow blink, 2 s; amber
    ERROR: Pattern((1.0, 0.0), (1.0, 0.0, 0.0)),  # 10 Hz flicker; red
    MUTED: Pattern((1.0, 1.0, 0.0, 0.0, 1.0, 1.0) + (0.0,) * 14, (1.0, 0.0, 0.0)),  # double blink; red
}


def pattern_for(state: str) -> Pattern:
    """The pattern of a unit state; ``KeyError`` for a state that is not one of ``STATES``."""
    return _PATTERNS[state]


@dataclass(frozen=True)
class Show:
    state: str
    transient: bool = False


class LightModel:
    """Which state the light shows, from pipeline events. Pure: no pins, no clock.

    ``StateChanged`` is authoritative; ``Wake``/``Listening`` mean listening, the end of speech or a
    transcript mean thinking, a reply means speaking, and the end of a reply returns to the rest state (idle,
    offline, muted or error: the last one announced; idle is offline while a ``Connectivity`` event says a cloud
    part does not answer). An ``ErrorEvent`` is shown briefly without changing the
    underlying state.
    """

    def __init__(self) -> None:
        self.rest = IDLE
        self.current = IDLE
        self.offline: set[str] = set()  # cloud parts not answering: the unit rests "offline", not "idle"

    def feed(self, event: Event) -> Show | None:
        if isinstance(event, ErrorEvent):
            return Show(ERROR, transient=True)
        state = self._state_after(event)
        if state is None:
            return None
        self.current = state
        return Show(state)

    def _state_after(self, event: Event) -> str | None:
        if isinstance(event, Connectivity):
            (self.offline.discard if event.online else self.offline.add)(event.part)
            if self.rest not in (IDLE, OFFLINE):
                return None
            resting, before = self.current == self.rest, self.rest
            self.rest = OFFLINE if self.offline else IDLE
            return self.rest if resting and self.rest != before else None
        if isinstance(event, StateChanged):
            if event.state not in STATES:
                log.warning("unknown unit state %r; the light ignores it", event.state)
                return None
            state = OFFLINE if event.state == IDLE and self.offline else event.state
            if state in REST_STATES:
                self.rest = state
            return state
        if isinstance(event, Wake | Listening):
            return LISTENING
        if isinstance(event, SpeechEnd):
            return self.rest if event.reason == "no_speech" else THINKING
        if isinstance(event, TranscriptReady):
            return THINKING
        if isinstance(event, ReplyStarted):
            return SPEAKING
        if isinstance(event, ReplyDone):
            return self.rest
        return None


class StatusLight:
    """Plays the pattern of the current state on a gpiozero ``PWMLED``/``LED`` or ``RGBLED``."""

    def __init__(self, device: Any, *, rgb: bool, pwm: bool, error_repeats: int = ERROR_REPEATS) -> None:
        self.device = device
        self._rgb = rgb
        self._pwm = pwm
        self._error_repeats = error_repeats
        self._error_until = 0.0
        self.model = LightModel()
        self._unsubscribe: Callable[[], None] | None = None
        self._play(self.model.current)

    @property
    def state(self) -> str:
        """What the light shows now."""
        return ERROR if time.monotonic() < self._error_until else self.model.current

    def attach(self, bus: EventBus) -> None:
        self._unsubscribe = bus.subscribe(self.on_event)

    def on_event(self, event: Event) -> None:
        show = self.model.feed(event)
        if show is None:
            return
        now = time.monotonic()
        if show.transient:
            error = pattern_for(ERROR)
            self._error_until = now + error.period_s * self._error_repeats
            self._start(itertools.chain(self._frames(error, self._error_repeats), self._rest_frames()))
        elif now >= self._error_until or show.state in URGENT:
            self._error_until = 0.0
            self._play(show.state)
        # else: the error still blinks; it ends in ``model.current`` on its own

    def close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self.device.source = None
        self.device.close()

    def _play(self, state: str) -> None:
        pattern = pattern_for(state)
        if pattern.steady:
            self.device.source = None
            self.device.value = self._value(pattern, pattern.frames[0])
        else:
            self._start(self._frames(pattern, None))

    def _start(self, frames: Iterator[Any]) -> None:
        self.device.source = None
        self.device.source_delay = TICK_S
        self.device.source = frames

    def _rest_frames(self) -> Iterator[Any]:
        # evaluated lazily, when the error blink is over: shows the state the unit reached meanwhile
        pattern = pattern_for(self.model.current)
        yield from self._frames(pattern, 1 if pattern.steady else None)

    def _frames(self, pattern: Pattern, repeats: int | None) -> Iterator[Any]:
        values = [self._value(pattern, b) for b in pattern.frames]
        if repeats is None:
            return itertools.cycle(values)
        return iter(values * repeats)

    def _value(self, pattern: Pattern, brightness: float) -> Any:
        if self._rgb:
            channels = tuple(c * brightness for c in pattern.colour)
            return channels if self._pwm else tuple(float(c >= 0.5) for c in channels)
        return brightness if self._pwm else float(brightness >= 0.5)


def led_pins(settings: Settings) -> tuple[int, ...]:
    """The LED pins from ``LARDER_LED_PINS``: one for a single LED, red,green,blue for RGB."""
    want = 3 if settings.led == LedKind.RGB else 1
    try:
        pins = tuple(int(p) for p in settings.led_pins.split(",") if p.strip())
    except ValueError:
        pins = ()
    if len(pins) != want or any(p < 0 for p in pins):
        form = "red,green,blue BCM pins such as 5,6,13" if want == 3 else "one BCM pin such as 22"
        raise GpioError(
            f"LARDER_LED_PINS: got {settings.led_pins!r}, expected {form} for LARDER_LED={settings.led}"
        )
    return pins


def _device(kind: LedKind, pins: tuple[int, ...], pin_factory: Any) -> tuple[Any, bool]:
    """The gpiozero device and whether it dims (PWM); falls back to on/off where the pins have no PWM."""
    try:
        if kind == LedKind.RGB:
            return RGBLED(*pins, pwm=True, pin_factory=pin_factory), True
        return PWMLED(pins[0], pin_factory=pin_factory), True
    except PinPWMUnsupported:
        log.info("LED pins have no PWM: the status light blinks but does not dim")
    if kind == LedKind.RGB:
        return RGBLED(*pins, pwm=False, pin_factory=pin_factory), False
    return LED(pins[0], pin_factory=pin_factory), False


def open_status_light(settings: Settings, bus: EventBus, pin_factory: Any = None) -> StatusLight | None:
    """The status light attached to ``bus``, or ``None`` with no LED, GPIO turned off, or no GPIO here."""
    if settings.led == LedKind.NONE or not settings.gpio:
        return None
    pins = led_pins(settings)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PinFactoryFallback)
        try:
            device, pwm = _device(settings.led, pins, pin_factory)
        except BadPinFactory:
            warn_no_gpio()
            return None
        except GPIOZeroError as exc:
            raise GpioError(
                f"the status LED on pin(s) {settings.led_pins} cannot be used: {exc}",
                hint="set LARDER_LED_PINS to free BCM pins, or LARDER_LED=none",
            ) from None
    light = StatusLight(device, rgb=settings.led == LedKind.RGB, pwm=pwm)
    light.attach(bus)
    return light
