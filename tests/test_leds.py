"""The status light: the pure event -> state model and state -> pattern table, then real gpiozero LEDs on
MockFactory pins following events published on a real EventBus."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from gpiozero.pins.mock import MockFactory, MockPWMPin

from device.errors import GpioError
from device.intent.command import Action, Command
from device.leds import (
    ERROR,
    IDLE,
    LISTENING,
    MUTED,
    OFFLINE,
    SPEAKING,
    STATES,
    THINKING,
    LightModel,
    StatusLight,
    led_pins,
    open_status_light,
    pattern_for,
)
from device.pipeline.events import (
    CommandResolved,
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
from device.settings import Settings

LED_PIN = 22
RGB_PINS = (5, 6, 13)


def make_settings(**changes: Any) -> Settings:
    return Settings(_env_file=None, **changes)  # type: ignore[call-arg]


def wake() -> Wake:
    return Wake(model="okay_nabu", score=0.9)


def speech_end(reason: str = "silence") -> SpeechEnd:
    return SpeechEnd(reason=reason, speech_s=1.0, endpoint_delay_s=0.5)


def transcript() -> TranscriptReady:
    return TranscriptReady(text="add oat milk", engine="whisper", seconds=0.3)


# --- pure: events -> state ---------------------------------------------------------------------------------

SEQUENCES: list[tuple[str, list[Event], list[str | None]]] = [
    (
        "a whole command",
        [wake(), Listening(), speech_end(), transcript(), ReplyStarted(text="ok"), ReplyDone(text="ok")],
        [LISTENING, LISTENING, THINKING, THINKING, SPEAKING, IDLE],
    ),
    ("no speech after wake", [wake(), speech_end("no_speech")], [LISTENING, IDLE]),
    (
        "muted stays muted after a reply",
        [StateChanged(state=MUTED), ReplyStarted(text="muted"), ReplyDone(text="muted")],
        [MUTED, SPEAKING, MUTED],
    ),
    (
        "offline until idle is announced",
        [
            StateChanged(state=OFFLINE),
            wake(),
            ReplyDone(text="x"),
            StateChanged(state=IDLE),
            ReplyDone(text="y"),
        ],
        [OFFLINE, LISTENING, OFFLINE, IDLE, IDLE],
    ),
    (
        "a cloud part offline makes idle offline until every part answers again",
        [
            Connectivity(part="sync", online=False, reason="timeout"),
            Connectivity(part="speech", online=False, reason="dns"),
            wake(),
            ReplyDone(text="x"),
            Connectivity(part="sync", online=True),
            StateChanged(state=IDLE),
            Connectivity(part="speech", online=True),
        ],
        [OFFLINE, None, LISTENING, OFFLINE, None, OFFLINE, IDLE],
    ),
    (
        "going offline while busy or muted waits for the rest state",
        [
            wake(),
            Connectivity(part="speech", online=False, reason="timeout"),
            ReplyDone(text="x"),
            StateChanged(state=MUTED),
            Connectivity(part="speech", online=True),
            StateChanged(state=IDLE),
        ],
        [LISTENING, None, OFFLINE, MUTED, None, IDLE],
    ),
    ("error is transient", [wake(), ErrorEvent(code="stt", message="no")], [LISTENING, ERROR]),
    ("persistent error", [StateChanged(state=ERROR), ReplyDone(text="x")], [ERROR, ERROR]),
    (
        "events that do not move the light",
        [CommandResolved(command=Command(Action.QUERY), seconds=0.1), StateChanged(state="dancing")],
        [None, None],
    ),
]


@pytest.mark.parametrize(("events", "shown"), [s[1:] for s in SEQUENCES], ids=[s[0] for s in SEQUENCES])
def test_light_model(events: list[Event], shown: list[str | None]) -> None:
    model = LightModel()
    got = []
    for event in events:
        show = model.feed(event)
        got.append(show.state if show else None)
    assert got == shown


def test_error_event_does_not_change_the_underlying_state() -> None:
    model = LightModel()
    model.feed(wake())
    show = model.feed(ErrorEvent(code="stt", message="x"))
    assert show is not None and show.transient
    assert model.current == LISTENING


# --- pure: state -> pattern --------------------------------------------------------------------------------

PATTERN_TABLE = [
    # state, steady, colour, period (s), mean brightness range
    (IDLE, True, (0.0, 1.0, 0.0), 0.05, (0.01, 0.2)),
    (LISTENING, True, (0.0, 0.0, 1.0), 0.05, (1.0, 1.0)),
    (THINKING, False, (0.6, 0.0, 1.0), 0.3, (0.5, 0.5)),
    (SPEAKING, False, (0.0, 1.0, 1.0), 1.0, (0.4, 0.6)),
    (OFFLINE, False, (1.0, 0.5, 0.0), 2.0, (0.25, 0.25)),
    (ERROR, False, (1.0, 0.0, 0.0), 0.1, (0.5, 0.5)),
    (MUTED, False, (1.0, 0.0, 0.0), 1.0, (0.2, 0.2)),
]


@pytest.mark.parametrize(("state", "steady", "colour", "period", "mean"), PATTERN_TABLE)
def test_pattern_table(
    state: str, steady: bool, colour: tuple[float, ...], period: float, mean: tuple[float, float]
) -> None:
    pattern = pattern_for(state)
    assert pattern.steady is steady
    assert pattern.colour == colour
    assert pattern.period_s == pytest.approx(period)
    average = sum(pattern.frames) / len(pattern.frames)
    assert mean[0] - 1e-9 <= average <= mean[1] + 1e-9
    assert all(0 <= f <= 1 for f in pattern.frames)


def test_patterns_tell_states_apart() -> None:
    assert {s for s, *_ in PATTERN_TABLE} == STATES
    shapes = {(pattern_for(s).frames, pattern_for(s).colour) for s in STATES}
    assert len(shapes) == len(STATES)
    # error flickers faster than thinking, which blinks faster than offline
    assert pattern_for(ERROR).period_s < pattern_for(THINKING).period_s < pattern_for(OFFLINE).period_s
    with pytest.raises(KeyError):
        pattern_for("dancing")


def test_led_pins_are_checked() -> None:
    assert led_pins(make_settings(led="single", led_pins="22")) == (22,)
    assert led_pins(make_settings(led="rgb", led_pins="5, 6, 13")) == RGB_PINS
    for kind, pins in (("single", "22,23"), ("rgb", "5,6"), ("single", "x"), ("rgb", "")):
        with pytest.raises(GpioError, match="LARDER_LED_PINS"):
            led_pins(make_settings(led=kind, led_pins=pins))


# --- real gpiozero devices on mock pins -------------------------------------------------------------------


@pytest.fixture
def pwm_factory() -> Iterator[MockFactory]:
    factory = MockFactory(pin_class=MockPWMPin)
    yield factory
    factory.reset()


def wait_until(check: Callable[[], bool], timeout: float = 5.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(0.01)
    return check()


def toggles(pin: Any, since: int) -> int:
    return sum(
        1 for a, b in zip(pin.states[since:], pin.states[since + 1 :], strict=False) if a.state != b.state
    )


@pytest.fixture
def single(pwm_factory: MockFactory) -> Iterator[tuple[StatusLight, EventBus, Any]]:
    bus = EventBus()
    light = open_status_light(
        make_settings(led="single", led_pins=str(LED_PIN)), bus, pin_factory=pwm_factory
    )
    assert light is not None
    yield light, bus, pwm_factory.pin(LED_PIN)
    light.close()


def test_single_led_follows_a_command(single: tuple[StatusLight, EventBus, Any]) -> None:
    light, bus, pin = single
    assert pin.state == pytest.approx(0.08)  # idle: dim
    bus.publish(wake())
    assert pin.state == 1.0 and light.state == LISTENING
    mark = len(pin.states)
    bus.publish(transcript())  # thinking: blinks
    assert wait_until(lambda: toggles(pin, mark) >= 4)
    assert {round(s.state, 2) for s in pin.states[mark + 1 :]} == {0.0, 1.0}
    bus.publish(ReplyStarted(text="Added 3 cartons."))  # speaking: pulses through levels in between
    mark = len(pin.states)
    assert wait_until(lambda: len({round(s.state, 1) for s in pin.states[mark:]}) >= 5)
    bus.publish(ReplyDone(text="Added 3 cartons."))
    assert pin.state == pytest.approx(0.08) and light.state == IDLE


def test_single_led_muted_and_offline_blink(single: tuple[StatusLight, EventBus, Any]) -> None:
    light, bus, pin = single
    for state in (MUTED, OFFLINE):
        mark = len(pin.states)
        bus.publish(StateChanged(state=state))
        assert light.state == state
        assert wait_until(lambda mark=mark: toggles(pin, mark) >= 2)  # type: ignore[misc]
    bus.publish(StateChanged(state=IDLE))
    assert pin.state == pytest.approx(0.08)


def test_error_blinks_then_returns_to_what_the_unit_does(pwm_factory: MockFactory) -> None:
    device_pin = pwm_factory.pin(LED_PIN)
    from gpiozero import PWMLED

    light = StatusLight(PWMLED(LED_PIN, pin_factory=pwm_factory), rgb=False, pwm=True, error_repeats=3)
    bus = EventBus()
    light.attach(bus)
    try:
        bus.publish(wake())
        mark = len(device_pin.states)
        bus.publish(ErrorEvent(code="stt", message="no transcript"))
        bus.publish(StateChanged(state=IDLE))  # deferred until the blink is over
        assert light.state == ERROR
        assert wait_until(lambda: light.state == IDLE and device_pin.state == pytest.approx(0.08))
        assert toggles(device_pin, mark) >= 4  # it blinked before settling
        # a wake during an error takes over at once
        bus.publish(ErrorEvent(code="stt", message="again"))
        bus.publish(wake())
        assert device_pin.state == 1.0 and light.state == LISTENING
    finally:
        light.close()


def test_rgb_led_colours(pwm_factory: MockFactory) -> None:
    bus = EventBus()
    light = open_status_light(make_settings(led="rgb", led_pins="5,6,13"), bus, pin_factory=pwm_factory)
    assert light is not None
    pins = [pwm_factory.pin(p) for p in RGB_PINS]
    try:
        assert [p.state for p in pins] == pytest.approx([0.0, 0.08, 0.0])  # idle: dim green
        bus.publish(wake())
        assert [p.state for p in pins] == [0.0, 0.0, 1.0]  # listening: blue
        bus.publish(StateChanged(state=MUTED))  # muted: red double blink
        assert wait_until(lambda: pins[0].state == 1.0 and pins[1].state == 0 and pins[2].state == 0)
        bus.publish(StateChanged(state=IDLE))
        assert [p.state for p in pins] == pytest.approx([0.0, 0.08, 0.0])
    finally:
        light.close()
    assert light.state == IDLE


def test_plain_pins_fall_back_to_on_off() -> None:
    factory = MockFactory()  # MockPin: no PWM
    bus = EventBus()
    light = open_status_light(make_settings(led="single", led_pins="22"), bus, pin_factory=factory)
    assert light is not None
    pin = factory.pin(LED_PIN)
    try:
        assert pin.state is False  # idle: off (no dimming)
        bus.publish(wake())
        assert pin.state is True
        mark = len(pin.states)
        bus.publish(ReplyStarted(text="x"))  # the pulse becomes a blink
        assert wait_until(lambda: toggles(pin, mark) >= 2)
    finally:
        light.close()
        factory.reset()


def test_broken_light_does_not_stop_the_bus(single: tuple[StatusLight, EventBus, Any]) -> None:
    light, bus, _ = single
    seen: list[str] = []
    bus.subscribe(lambda e: seen.append(e.kind))
    light.device.close()  # a dead LED: its subscriber fails, others still get the event
    bus.publish(wake())
    assert seen == ["wake"]
