"""`larder doctor`'s cloud checks against the Deepgram and OpenAI stand-ins: reachable, keys accepted, or why not."""

from __future__ import annotations

from typing import Any

import pytest

from device.cloud_checks import check_deepgram, check_llm
from device.settings import Settings
from tests.standins.deepgram import API_KEY as DEEPGRAM_KEY
from tests.standins.deepgram import Blackhole, DeepgramStandIn, Script
from tests.standins.openai import API_KEY as OPENAI_KEY
from tests.standins.openai import OpenAIStandIn


def settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_deepgram_reachable_with_the_key_accepted(deepgram: DeepgramStandIn) -> None:
    status, message = check_deepgram(settings(deepgram_url=deepgram.url, deepgram_api_key=DEEPGRAM_KEY))
    assert status == "PASS" and "key accepted" in message
    (seen,) = deepgram.streams
    assert seen.controls == ["CloseStream"] and seen.empty_frames == 0 and seen.outcome == "close_stream"
    assert seen.sent[-1]["type"] == "Metadata"


@pytest.mark.parametrize(
    ("key", "script", "status", "words"),
    [
        ("dg-revoked-key-99", Script(), "FAIL", "LARDER_DEEPGRAM_API_KEY"),
        (DEEPGRAM_KEY, Script(reject=402), "FAIL", "credit"),
        (DEEPGRAM_KEY, Script(reject=429), "WARN", "429"),
    ],
    ids=["key-rejected", "no-credit", "rate-limited"],
)
def test_deepgram_refusals_say_what_to_fix(
    deepgram: DeepgramStandIn, key: str, script: Script, status: str, words: str
) -> None:
    deepgram.script = script
    got, message = check_deepgram(settings(deepgram_url=deepgram.url, deepgram_api_key=key))
    assert got == status and words in message
    assert key not in message


def test_deepgram_unreachable_is_a_warning_because_whisper_answers() -> None:
    port = Blackhole()
    port.close()
    status, message = check_deepgram(settings(deepgram_url=port.url, deepgram_api_key=DEEPGRAM_KEY))
    assert status == "WARN" and "Whisper" in message


def test_deepgram_not_configured() -> None:
    assert check_deepgram(settings(stt="whisper"))[0] == "PASS"
    assert check_deepgram(settings(stt="auto"))[0] == "WARN"
    assert check_deepgram(settings(stt="deepgram"))[0] == "FAIL"


def test_llm_reachable_with_the_key_accepted_and_the_model_listed(openai_api: OpenAIStandIn) -> None:
    values = {"llm_base_url": openai_api.base_url, "llm_api_key": OPENAI_KEY, "llm_model": "gpt-4o-mini"}
    status, message = check_llm(settings(**values))
    assert status == "PASS" and "gpt-4o-mini" in message
    status, message = check_llm(settings(**{**values, "llm_model": "gpt-9-imaginary"}))
    assert status == "WARN" and "LARDER_LLM_MODEL" in message


def test_llm_key_rejected_unreachable_or_off(openai_api: OpenAIStandIn) -> None:
    status, message = check_llm(settings(llm_base_url=openai_api.base_url, llm_api_key="sk-nope-123"))
    assert status == "FAIL" and "LARDER_LLM_API_KEY" in message and "sk-nope-123" not in message
    port = Blackhole()
    port.close()
    status, _ = check_llm(settings(llm_base_url=port.url.replace("ws://", "http://").replace("/listen", "")))
    assert status == "WARN"
    assert check_llm(settings())[0] == "PASS"
