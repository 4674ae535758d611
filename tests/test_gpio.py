"""Buttons on gpiozero's MockFactory pins: presses and holds reach the asyncio loop thread; no GPIO means one
warning and no buttons; the mute state."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from gpiozero import Device
from gpiozero.pins.mock import MockFactory, MockPWMPin

from device.errors import GpioError
from device.gpio import (
    NO_GPIO_WARNING,
    Buttons,
    MuteState,
    open_buttons,
    pin_thread_errors_logged,
    warn_no_gpio,
)
from device.leds import open_status_light
from device.pipeline.events import EventBus
from device.settings import Settings

CONFIRM_PIN, CANCEL_PIN = 17, 27


def make_settings(**changes: Any) -> Settings:
    values: dict[str, Any] = {"confirm_pin": CONFIRM_PIN, "cancel_pin": CANCEL_PIN, "long_press_s": 0.15}
    values.update(changes)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def factory() -> Iterator[MockFactory]:
    mock = MockFactory()
    yield mock
    mock.reset()


class Recorder:
    """Collects callbacks with the thread they ran on; ``wait`` for the n-th one on the loop."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, int]] = []
        self._changed = asyncio.Event()

    def press(self, name: str) -> None:
        self.calls.append(("press", name, threading.get_ident()))
        self._changed.set()

    def long_press(self, name: str) -> None:
        self.calls.append(("long", name, threading.get_ident()))
        self._changed.set()

    async def wait(self, count: int) -> None:
        async with asyncio.timeout(5):
            while len(self.calls) < count:
                self._changed.clear()
                await self._changed.wait()


async def _drive(pin: Any, low: bool) -> int:
    """Drive a pin from a worker thread (as gpiozero's own threads would); returns that thread's id."""

    def work() -> int:
        if low:
            pin.drive_low()
        else:
            pin.drive_high()
        return threading.get_ident()

    return await asyncio.to_thread(work)


def test_presses_and_hold_arrive_on_the_loop_thread(factory: MockFactory) -> None:
    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        loop_thread = threading.get_ident()
        seen = Recorder()
        buttons = Buttons(make_settings(), loop, seen.press, seen.long_press, pin_factory=factory)
        try:
            confirm, cancel = factory.pin(CONFIRM_PIN), factory.pin(CANCEL_PIN)
            assert confirm.state == 1 and cancel.state == 1  # pulled up: idle high
            worker = await _drive(confirm, low=True)  # confirm reports on press
            await seen.wait(1)
            await _drive(confirm, low=False)
            worker = await _drive(cancel, low=True)  # a short press of cancel reports on release
            await asyncio.sleep(0.02)
            assert len(seen.calls) == 1
            await _drive(cancel, low=False)
            await seen.wait(2)
            await _drive(cancel, low=True)  # held past long_press_s: a long press, no short press
            await seen.wait(3)
            await _drive(cancel, low=False)
            await asyncio.sleep(0.1)
        finally:
            buttons.close()
        assert [(kind, name) for kind, name, _ in seen.calls] == [
            ("press", "confirm"),
            ("press", "cancel"),
            ("long", "cancel"),
        ]
        assert worker != loop_thread
        assert {thread for _, _, thread in seen.calls} == {loop_thread}

    asyncio.run(scenario())


def test_buttons_use_pull_up_and_debounce(factory: MockFactory) -> None:
    loop = asyncio.new_event_loop()
    try:
        buttons = Buttons(make_settings(), loop, print, print, pin_factory=factory)
        for button in buttons.buttons.values():
            assert button.pull_up is True
            assert button.pin.bounce == pytest.approx(0.05)
        assert buttons.buttons["cancel"].hold_time == pytest.approx(0.15)
        buttons.close()
    finally:
        loop.close()


def test_press_after_the_loop_closed_is_ignored(factory: MockFactory) -> None:
    loop = asyncio.new_event_loop()
    buttons = Buttons(make_settings(), loop, print, print, pin_factory=factory)
    loop.close()
    factory.pin(CONFIRM_PIN).drive_low()  # no exception escapes into gpiozero's thread
    buttons.close()


def test_bad_pin_is_a_gpio_error(factory: MockFactory) -> None:
    loop = asyncio.new_event_loop()
    try:
        with pytest.raises(GpioError, match="confirm button on pin 99"):
            Buttons(make_settings(confirm_pin=99), loop, print, print, pin_factory=factory)
        # the cancel pin was never reserved, the confirm pin is free again
        Buttons(make_settings(), loop, print, print, pin_factory=factory).close()
    finally:
        loop.close()


@pytest.fixture
def no_default_factory() -> Iterator[None]:
    saved = Device.pin_factory
    Device.pin_factory = None
    warn_no_gpio.cache_clear()
    yield
    Device.pin_factory = saved
    warn_no_gpio.cache_clear()


@pytest.mark.usefixtures("no_default_factory")
def test_no_gpio_gives_one_warning_and_no_devices(
    caplog: pytest.LogCaptureFixture, recwarn: pytest.WarningsRecorder
) -> None:
    loop = asyncio.new_event_loop()
    try:
        with caplog.at_level(logging.WARNING):
            assert open_buttons(make_settings(), loop, print, print) is None
            assert open_status_light(make_settings(), EventBus()) is None
            assert open_status_light(make_settings(led="rgb", led_pins="5,6,13"), EventBus()) is None
    finally:
        loop.close()
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == [NO_GPIO_WARNING]
    assert not [
        w for w in recwarn if "pin factory" in str(w.message).lower() or "Falling back" in str(w.message)
    ]


@pytest.mark.usefixtures("no_default_factory")
def test_gpio_turned_off_is_silent(caplog: pytest.LogCaptureFixture) -> None:
    loop = asyncio.new_event_loop()
    try:
        with caplog.at_level(logging.WARNING):
            assert open_buttons(make_settings(gpio=False), loop, print, print) is None
            assert open_status_light(make_settings(gpio=False), EventBus()) is None
    finally:
        loop.close()
    assert not caplog.records


def test_open_buttons_with_pins(factory: MockFactory) -> None:
    loop = asyncio.new_event_loop()
    try:
        buttons = open_buttons(make_settings(), loop, print, print, pin_factory=factory)
        assert buttons is not None
        buttons.close()
        pwm = MockFactory(pin_class=MockPWMPin)
        assert open_status_light(make_settings(led="none"), EventBus(), pin_factory=pwm) is None
    finally:
        loop.close()


def test_mute_state() -> None:
    mute = MuteState()
    assert not mute.is_muted(100.0)
    assert mute.mute(100.0, 900.0) == 1000.0
    assert mute.is_muted(100.0) and mute.is_muted(999.9)
    assert mute.remaining(400.0) == 600.0
    assert not mute.is_muted(1000.0)
    assert mute.remaining(1000.0) == 0.0
    mute.mute(2000.0, 10.0)
    mute.unmute()
    assert not mute.is_muted(2001.0) and mute.until is None


def test_an_edge_while_a_button_is_being_opened_is_one_log_line(
    factory: MockFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """gpiozero listens to the pin before its hold machinery exists; an edge then raises in the pin's thread.
    Reproduced by taking the machinery away from an open button, as it is during construction."""
    from gpiozero import Button

    button = Button(17, pull_up=True, pin_factory=factory)
    hold_thread, button._hold_thread = button._hold_thread, None  # as between the two steps of Button()
    seen: list[type[BaseException]] = []
    previous = threading.excepthook
    threading.excepthook = lambda args: seen.append(args.exc_type)  # what an unguarded thread error reaches
    try:
        with caplog.at_level(logging.WARNING, logger="device.gpio"), pin_thread_errors_logged():
            edge = threading.Thread(target=factory.pin(17).drive_low)
            edge.start()
            edge.join()
    finally:
        threading.excepthook = previous
        button._hold_thread = hold_thread
        button.close()
    assert seen == []  # nothing reached the default hook (which prints a traceback)
    assert "a button changed while it was being opened (AttributeError" in caplog.text
