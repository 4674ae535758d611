"""Fixtures for end-to-end pipeline tests: real models loaded once per session, a fresh store per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from device.app import Unit
from device.settings import load_settings
from tests.speech import SpeechCache, session_cache


@pytest.fixture(scope="session")
def speech(tmp_path_factory: pytest.TempPathFactory) -> SpeechCache:
    return session_cache(tmp_path_factory)


@pytest.fixture(scope="session")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Whisper and Piper, loaded once: they are stateless between calls, so tests may share them."""
    unit = Unit(load_settings(data_dir=tmp_path_factory.mktemp("models-unit"), stt="whisper"))
    return {"whisper": unit.whisper, "tts": unit.tts}


@pytest.fixture
def make_unit(tmp_path: Path, models: dict[str, Any]) -> Iterator[Callable[..., Unit]]:
    units: list[Unit] = []

    def make(**overrides: Any) -> Unit:
        settings = load_settings(
            data_dir=tmp_path / f"data{len(units)}", stt="whisper", gpio=False, **overrides
        )
        unit = Unit(settings)
        unit.__dict__.update(models)  # share the warm models instead of loading them again
        units.append(unit)
        return unit

    yield make
    for unit in units:
        unit.close()
