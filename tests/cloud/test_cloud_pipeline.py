"""The whole `larder simulate` path with LARDER_DEEPGRAM_URL pointed at the independent Deepgram stand-in.

Real components throughout (Silero endpointing, the failover STT with Whisper tiny.en behind it, the grammar, the
dialogue, the SQLite store, Piper replies). When Deepgram works, the transcript it returns is the one applied;
when it fails in any way, the command in the audio is still applied exactly once, through Whisper.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from device.audio.wav import RecordingSpeaker, WavMicrophone, write_wav
from device.protocols import SAMPLE_RATE, Audio
from device.settings import Settings
from tests.standins.deepgram import API_KEY, DeepgramStandIn, Script
from tests.standins.openai import API_KEY as OPENAI_KEY
from tests.standins.openai import OpenAIStandIn, Reply, command

pytest.importorskip("device.intent.grammar", reason="the grammar is not in yet")
pytest.importorskip("device.inventory.store", reason="the store is not in yet")
pytestmark = pytest.mark.models

SCRIPTED = ("add one case of soy milk", "to the bar")  # what the stand-in "hears": not what the audio says


@pytest.fixture(scope="module")
def wav(tmp_path_factory: pytest.TempPathFactory, command_audio: Audio) -> Path:
    path = tmp_path_factory.mktemp("pipeline") / "command.wav"
    write_wav(path, command_audio, SAMPLE_RATE)
    return path


@pytest.fixture(scope="module")
def unit(
    tmp_path_factory: pytest.TempPathFactory, deepgram_server: DeepgramStandIn, openai_server: OpenAIStandIn
) -> Iterator[Any]:
    from device.app import Unit

    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=tmp_path_factory.mktemp("unit"),
        stt="deepgram",
        deepgram_url=deepgram_server.url,
        deepgram_api_key=API_KEY,
        deepgram_timeout_s=0.6,
        llm_base_url=openai_server.base_url,
        llm_api_key=OPENAI_KEY,
        gpio=False,
    )
    built = Unit(settings)
    built.warm_up()
    yield built
    built.close()


def simulate(unit: Any, wav: Path) -> Any:
    """What `larder simulate FILE` does for one file."""

    async def run() -> Any:
        microphone = WavMicrophone(wav)
        pipeline = unit.pipeline(microphone, RecordingSpeaker(), wake=False)
        return await pipeline.listen_and_respond(microphone.chunks())

    unit.stt.breaker.record_success(0.0)  # each case starts with a healthy circuit
    before = len(unit.store.journal())
    result = asyncio.run(run())
    return result, unit.store.journal()[before:]


def test_the_transcript_deepgram_returns_is_the_one_applied(
    unit: Any, wav: Path, deepgram: DeepgramStandIn
) -> None:
    deepgram.script = Script(segments=SCRIPTED)
    result, events = simulate(unit, wav)
    assert (result.engine, result.transcript, result.status) == (
        "deepgram",
        "add one case of soy milk to the bar",
        "applied",
    )
    (event,) = events
    assert (event.action, event.item, event.quantity, event.unit, event.location) == (
        "add",
        "soy milk",
        1,
        "case",
        "bar",
    )
    assert event.outcome == "applied"
    assert deepgram.streams[0].headers["Authorization"] == f"Token {API_KEY}"


FAILURES = {
    "handshake-401": Script(segments=SCRIPTED, reject=401),
    "handshake-402": Script(segments=SCRIPTED, reject=402),
    "handshake-429": Script(segments=SCRIPTED, reject=429),
    "close-1008": Script(segments=SCRIPTED, close_after_s=0.8, close_code=1008, close_reason="DATA-0000"),
    "close-1011": Script(segments=SCRIPTED, close_after_s=0.8, close_code=1011, close_reason="NET-0000"),
    "dies-mid-stream": Script(segments=SCRIPTED, drop_after_s=0.8),
    "never-answers": Script(segments=SCRIPTED, answer_finalize=False),
    "malformed-results": Script(segments=SCRIPTED, malformed=True),
}


@pytest.mark.parametrize("script", FAILURES.values(), ids=FAILURES.keys())
def test_when_deepgram_fails_the_command_is_applied_once_through_whisper(
    unit: Any, wav: Path, deepgram: DeepgramStandIn, script: Script
) -> None:
    deepgram.script = script
    result, events = simulate(unit, wav)
    assert deepgram.streams or deepgram.rejected  # Deepgram was tried
    assert result.engine.startswith("whisper") and result.status == "applied", result
    (event,) = events  # exactly once
    assert (event.action, event.item, event.quantity, event.unit) == ("add", "oat milk", 3, "case"), event
    assert event.outcome == "applied" and "soy" not in event.transcript
    assert "sorry" not in result.reply.lower()  # the cloud hiccup is not spoken to the cook


def test_a_stock_change_only_the_llm_could_read_waits_for_the_cooks_yes(
    unit: Any, wav: Path, deepgram: DeepgramStandIn, openai_api: OpenAIStandIn
) -> None:
    deepgram.script = Script(segments=("stick five more of the sour dough", "in the freezer"))
    openai_api.reset(Reply(arguments=command("add", item="sourdough", quantity=5, location="freezer")))
    result, events = simulate(unit, wav)
    assert result.command.resolver == "llm" and result.command.item == "sourdough"
    assert result.status == "pending" and events == []  # asked, nothing applied yet
    assert len(openai_api.requests) == 1
    cancelled, _ = simulate_text(unit, wav, deepgram, "cancel")
    assert cancelled.status != "applied"
    assert not [e for e in unit.store.journal() if e.item == "sourdough" and e.outcome == "applied"]


def simulate_text(unit: Any, wav: Path, deepgram: DeepgramStandIn, text: str) -> Any:
    deepgram.script = Script(segments=(text,))
    return simulate(unit, wav)
