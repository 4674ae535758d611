"""Heap trimming after each reply: on the bus, off the event loop, one at a time, and harmless without glibc;
the cap on malloc arenas."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from device.app import Unit
from device.memory import HeapTrimmer, libc_trim, limit_arenas
from device.pipeline.events import EventBus, ReplyDone, ReplyStarted, StateChanged
from device.settings import load_settings


def test_glibc_trim_is_found_and_runs() -> None:
    trim = libc_trim()
    assert trim is not None  # Debian and Raspberry Pi OS use glibc
    assert trim() in (0, 1)  # 1: memory was released, 0: there was none to release


def test_a_trim_runs_after_each_reply_in_a_worker_thread() -> None:
    threads: list[str] = []
    trimmer = HeapTrimmer(lambda: threads.append(threading.current_thread().name))
    bus = EventBus()
    bus.subscribe(trimmer.on_event)

    async def a_turn() -> None:
        bus.publish(ReplyStarted(text="Added 3 eggs."))
        bus.publish(StateChanged(state="speaking"))
        bus.publish(ReplyDone(text="Added 3 eggs."))
        await asyncio.sleep(0.05)

    asyncio.run(a_turn())
    assert trimmer.count == 1
    assert threads and threads[0] != threading.main_thread().name


def test_without_malloc_trim_nothing_happens() -> None:
    trimmer = HeapTrimmer(None)
    trimmer.on_event(ReplyDone(text="Okay."))
    assert trimmer.count == 0


def test_a_failing_trim_is_logged_not_raised(caplog) -> None:
    def broken() -> None:
        raise OSError("no")

    trimmer = HeapTrimmer(broken)
    trimmer.on_event(ReplyDone(text="Okay."))  # outside a loop: runs here
    assert trimmer.count == 0 and "malloc_trim failed" in caplog.text


def test_every_unit_trims_after_its_replies(tmp_path: Path) -> None:
    unit = Unit(load_settings(data_dir=tmp_path, gpio=False))
    unit.bus.publish(ReplyDone(text="Added 3 eggs."))
    assert unit.heap.count == 1


def test_trims_are_spaced_so_commands_rarely_pay_for_them() -> None:
    trimmer = HeapTrimmer(lambda: None, every=4)
    for _ in range(9):
        trimmer.on_event(ReplyDone(text="Okay."))  # outside a loop: each trim runs here
    assert trimmer.count == 3  # replies 1, 5 and 9


def test_the_arena_cap_is_set_unless_the_environment_sets_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    assert limit_arenas() is True  # glibc accepts the cap
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert limit_arenas() is False  # the operator's choice stands
