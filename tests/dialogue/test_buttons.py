"""The buttons at each stage of the dialogue: gpiozero MockFactory pins drive real ``Buttons`` on a real
asyncio loop, routed by ``ButtonActions`` to a real Dialogue over a real Store.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gpiozero.pins.mock import MockFactory

from device.dialogue import Dialogue, PolicyConfig, Turn
from device.dialogue.buttons import ButtonActions
from device.gpio import Buttons, MuteState
from device.intent.command import Action, Command
from device.inventory.apply import Inventory
from device.inventory.store import Store
from device.settings import Settings

CONFIRM_PIN, CANCEL_PIN = 17, 27
T0 = 1_800_000_000.0
OAT = "oat milk"
ADD3 = Command(Action.ADD, OAT, 3, "carton", "walk-in", text="add three cartons of oat milk to the walk-in")
OUT = Command(Action.OUT, OAT, text="eighty six the oat milk")
BIG = Command(Action.ADD, OAT, 5000, "carton", text="add 5000 cartons of oat milk")


class Clock:
    """Wall-clock stand-in the test moves by hand."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Unit:
    """The parts a daemon would wire together, with everything the callbacks did recorded."""

    def __init__(self, store: Store, factory: MockFactory, loop: asyncio.AbstractEventLoop) -> None:
        self.clock = Clock(T0)
        self.dialogue = Dialogue(Inventory(store), store, PolicyConfig(), window_s=8.0)
        self.mute = MuteState()
        self.log: list[tuple[str, Any, int]] = []
        self.changed = asyncio.Event()
        self.actions = ButtonActions(
            self.dialogue,
            self.mute,
            mute_s=900.0,
            clock=self.clock,
            on_turn=lambda turn: self._note("turn", turn),
            on_push_to_talk=lambda which: self._note("talk", which),
            on_mute=lambda muted: self._note("mute", muted),
        )
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None, confirm_pin=CONFIRM_PIN, cancel_pin=CANCEL_PIN, long_press_s=0.15
        )
        self.buttons = Buttons(
            settings, loop, self.actions.press, self.actions.long_press, pin_factory=factory
        )
        self.pins = {"confirm": factory.pin(CONFIRM_PIN), "cancel": factory.pin(CANCEL_PIN)}

    def _note(self, kind: str, value: Any) -> None:
        self.log.append((kind, value, threading.get_ident()))
        self.changed.set()

    async def press(self, which: str, *, hold_s: float = 0.0) -> tuple[str, Any]:
        """Press (and release) a button from another thread; the next callback's (kind, value)."""
        seen = len(self.log)
        pin = self.pins[which]
        await asyncio.to_thread(pin.drive_low)
        if hold_s:
            await asyncio.sleep(hold_s)
        await asyncio.to_thread(pin.drive_high)
        async with asyncio.timeout(5):
            while len(self.log) == seen:
                self.changed.clear()
                await self.changed.wait()
        kind, value, thread = self.log[seen]
        assert thread == threading.get_ident()  # on the loop's thread
        return kind, value


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "larder.db") as opened:
        yield opened


def run(store: Store, scenario: Any) -> None:
    factory = MockFactory()

    async def main() -> None:
        unit = Unit(store, factory, asyncio.get_running_loop())
        try:
            await scenario(unit)
        finally:
            unit.buttons.close()

    try:
        asyncio.run(main())
    finally:
        factory.reset()


def test_confirm_while_pending_applies(store: Store) -> None:
    async def scenario(unit: Unit) -> None:
        unit.dialogue.handle(ADD3, T0)
        assert unit.dialogue.handle(OUT, T0 + 20).status == "pending"
        unit.clock.now = T0 + 23
        kind, turn = await unit.press("confirm")
        assert kind == "turn" and isinstance(turn, Turn)
        assert (turn.status, turn.reply) == ("confirmed", "Marked oat milk as out.")
        assert store.quantity(OAT) == 0
        event = store.journal()[-1]
        assert (event.action, event.confirmation, event.outcome) == ("out", "explicit", "applied")

    run(store, scenario)


def test_cancel_while_pending_cancels(store: Store) -> None:
    async def scenario(unit: Unit) -> None:
        unit.dialogue.handle(ADD3, T0)
        unit.dialogue.handle(BIG, T0 + 20)
        unit.clock.now = T0 + 21
        kind, turn = await unit.press("cancel")
        assert kind == "turn" and turn.status == "cancelled"
        assert store.quantity(OAT) == 3 and unit.dialogue.pending is None
        assert store.journal()[-1].outcome == "cancelled"

    run(store, scenario)


def test_cancel_just_after_an_implicit_change_undoes_it(store: Store) -> None:
    async def scenario(unit: Unit) -> None:
        unit.dialogue.handle(ADD3, T0)
        unit.clock.now = T0 + 4
        kind, turn = await unit.press("cancel")
        assert kind == "turn" and turn.status == "undone"
        assert store.quantity(OAT) == 0
        undo = store.journal()[-1]
        assert (undo.action, undo.transcript, undo.resolver) == ("undo", "(cancel button)", "manual")

    run(store, scenario)


def test_press_while_idle_is_push_to_talk(store: Store) -> None:
    async def scenario(unit: Unit) -> None:
        assert await unit.press("confirm") == ("talk", "confirm")
        unit.dialogue.handle(ADD3, T0)
        unit.clock.now = T0 + 9  # the cancel window has closed
        assert await unit.press("cancel") == ("talk", "cancel")
        assert store.quantity(OAT) == 3
        unit.clock.now = T0 + 10  # confirm with nothing pending, even inside a window, is push-to-talk
        unit.dialogue.handle(ADD3, T0 + 10)
        assert await unit.press("confirm") == ("talk", "confirm")

    run(store, scenario)


def test_press_after_the_deadline_reports_the_timeout(store: Store) -> None:
    async def scenario(unit: Unit) -> None:
        unit.dialogue.handle(OUT, T0)
        unit.clock.now = T0 + 30
        kind, turn = await unit.press("confirm")
        assert kind == "turn" and turn.status == "timed_out"
        assert store.journal()[-1].outcome == "timed_out"

    run(store, scenario)


def test_hold_cancel_mutes_then_unmutes(store: Store) -> None:
    async def scenario(unit: Unit) -> None:
        assert await unit.press("cancel", hold_s=0.4) == ("mute", True)
        assert unit.mute.is_muted(T0 + 899) and not unit.mute.is_muted(T0 + 900)
        await asyncio.sleep(0.05)
        assert [kind for kind, _, _ in unit.log] == ["mute"]  # the release after a hold is not a press
        unit.clock.now = T0 + 60
        assert await unit.press("cancel", hold_s=0.4) == ("mute", False)
        assert not unit.mute.is_muted(T0 + 61)
        # a hold while a question is pending mutes; it does not answer the question
        unit.dialogue.handle(OUT, T0 + 60)
        assert await unit.press("cancel", hold_s=0.4) == ("mute", True)
        assert unit.dialogue.pending is not None

    run(store, scenario)
