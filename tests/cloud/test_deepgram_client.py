"""The Deepgram client against the Deepgram-protocol stand-in: what it sends, what it reads, how it fails."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import pytest

from device.errors import ConfigError, SttError
from device.inventory.catalog import Catalogue
from device.protocols import CHUNK_SAMPLES, Audio, Transcript
from device.stt.deepgram import DeepgramSpeechToText
from device.stt.deepgram_wire import MAX_MESSAGE_BYTES, MIN_MESSAGE_BYTES, DeepgramError
from tests.cloud.helpers import noise, stream
from tests.standins.deepgram import API_KEY, Blackhole, DeepgramStandIn, Script


def make(url: str, catalogue: Catalogue, **options: Any) -> DeepgramSpeechToText:
    return DeepgramSpeechToText(url=url, api_key=API_KEY, catalogue=catalogue, **options)


async def hear(stt: DeepgramSpeechToText, seconds: float, **options: Any) -> Transcript:
    try:
        return await stream(stt, noise(seconds), **options)
    finally:
        await stt.close()  # waits for CloseStream and the close


def test_transcript_is_the_final_segments_joined_and_interims_reach_the_caller(
    deepgram: DeepgramStandIn, catalogue: Catalogue
) -> None:
    deepgram.script = Script(segments=("add two cases", "of soy milk", "to the bar"))
    interims: list[Transcript] = []
    transcript = asyncio.run(hear(make(deepgram.url, catalogue), 3.0, on_interim=interims.append))
    assert transcript.text == "add two cases of soy milk to the bar"
    assert (
        transcript.engine == "deepgram"
        and transcript.is_final
        and transcript.confidence == pytest.approx(0.97)
    )
    assert interims and not any(i.is_final for i in interims)
    assert [i.text for i in interims[:2]] == ["add", "add two"]
    assert "add two cases of soy" in [i.text for i in interims]  # finals so far + the interim words


def test_stream_sends_what_deepgram_documents(deepgram: DeepgramStandIn, catalogue: Catalogue) -> None:
    asyncio.run(hear(make(deepgram.url, catalogue), 2.0))
    (seen,) = deepgram.streams
    assert seen.path == "/v1/listen"
    assert seen.headers["Authorization"] == f"Token {API_KEY}"
    params = dict(seen.params)
    assert params["model"] == "nova-3"
    assert (params["encoding"], params["sample_rate"], params["channels"]) == ("linear16", "16000", "1")
    for name in ("interim_results", "vad_events", "smart_format"):
        assert params[name] == "true"
    assert params["endpointing"].isdigit() and params["utterance_end_ms"].isdigit()
    assert {"oat milk", "whole milk", "walk-in"} <= set(seen.param("keyterm"))
    assert seen.controls == ["Finalize", "CloseStream"]
    assert seen.empty_frames == 0
    assert all(MIN_MESSAGE_BYTES <= size <= MAX_MESSAGE_BYTES for size in seen.message_sizes)
    sent = noise(2.0)
    assert bytes(seen.audio[: sent.nbytes]) == sent.tobytes()  # every sample, in order
    assert len(seen.audio) - sent.nbytes < MIN_MESSAGE_BYTES  # then at most a little silence padding
    assert seen.outcome == "close_stream"


def test_waits_for_a_late_final_within_the_deadline(deepgram: DeepgramStandIn, catalogue: Catalogue) -> None:
    deepgram.script = Script(finalize_delay_s=0.4)
    transcript = asyncio.run(hear(make(deepgram.url, catalogue, finalize_timeout_s=1.5), 2.0))
    assert transcript.text == "add three cases of oat milk to the walk-in"


def test_settles_without_from_finalize_when_deepgram_already_ended_the_utterance(
    deepgram: DeepgramStandIn, catalogue: Catalogue
) -> None:
    deepgram.script = Script(endpoint_last=True)  # speech_final before Finalize, so no from_finalize reply
    transcript = asyncio.run(hear(make(deepgram.url, catalogue, finalize_timeout_s=5.0), 2.5))
    assert transcript.text == "add three cases of oat milk to the walk-in"
    assert not any(m.get("from_finalize") for m in deepgram.streams[0].sent)


def test_a_transcript_deepgram_endpointed_on_the_pause_comes_back_without_waiting(
    deepgram: DeepgramStandIn, catalogue: Catalogue, command_audio: Audio
) -> None:
    deepgram.script = Script(
        segments=("add three cases of oat milk", "to the walk-in"), endpoint_on_silence=True
    )
    stt = make(deepgram.url, catalogue, finalize_timeout_s=5.0)

    async def go() -> tuple[Transcript, float]:
        session = await stt.start()
        for start in range(0, len(command_audio), CHUNK_SAMPLES):
            await session.feed(command_audio[start : start + CHUNK_SAMPLES])
            await asyncio.sleep(0.002)
        await asyncio.sleep(0.2)  # the endpointed final is on its way before our own endpointer decides
        started = time.monotonic()
        transcript = await session.finish()
        waited = time.monotonic() - started
        await stt.close()
        return transcript, waited

    transcript, waited = asyncio.run(go())
    assert transcript.text == "add three cases of oat milk to the walk-in"
    finals = [m for m in deepgram.streams[0].sent if m.get("is_final")]
    assert finals[-1]["speech_final"] and not any(m.get("from_finalize") for m in finals)
    assert waited < 2.0  # settled on the endpointed final, not on the 5 s deadline


def test_finals_that_stop_short_of_the_audio_end_are_accepted_at_the_deadline(
    deepgram: DeepgramStandIn, catalogue: Catalogue
) -> None:
    deepgram.script = Script(endpoint_last=True)
    transcript = asyncio.run(hear(make(deepgram.url, catalogue, finalize_timeout_s=0.5), 3.5))
    assert transcript.text == "add three cases of oat milk to the walk-in"


def test_unknown_fields_and_message_types_are_tolerated(
    deepgram: DeepgramStandIn, catalogue: Catalogue
) -> None:
    deepgram.script = Script(extra_fields=True)
    transcript = asyncio.run(hear(make(deepgram.url, catalogue), 2.0))
    assert transcript.text == "add three cases of oat milk to the walk-in"


async def idle_then_speak(stt: DeepgramSpeechToText, idle_s: float) -> Transcript:
    session = await stt.start()
    try:
        await asyncio.sleep(idle_s)
        audio = noise(2.0)
        for start in range(0, len(audio), CHUNK_SAMPLES):
            await session.feed(audio[start : start + CHUNK_SAMPLES])
        return await session.finish()
    finally:
        await stt.close()


def test_keepalive_holds_an_idle_stream_open(deepgram: DeepgramStandIn, catalogue: Catalogue) -> None:
    deepgram.script = Script(idle_timeout_s=0.6)
    transcript = asyncio.run(idle_then_speak(make(deepgram.url, catalogue, keepalive_s=0.2), 1.2))
    assert transcript.text == "add three cases of oat milk to the walk-in"
    assert deepgram.streams[0].controls.count("KeepAlive") >= 3

    deepgram.reset(Script(idle_timeout_s=0.6))  # the control: without KeepAlive the idle stream is closed
    with pytest.raises(DeepgramError) as failed:
        asyncio.run(idle_then_speak(make(deepgram.url, catalogue, keepalive_s=10), 1.2))
    assert failed.value.kind == "closed_1011"


@pytest.mark.parametrize(
    ("script", "kind", "permanent"),
    [
        (Script(reject=402), "payment", True),
        (Script(reject=429), "rate_limit", False),
        (Script(close_after_s=0.5, close_code=1008, close_reason="DATA-0000"), "closed_1008", False),
        (Script(close_after_s=0.5, close_code=1011, close_reason="NET-0000"), "closed_1011", False),
        (Script(drop_after_s=0.5), "dropped", False),
        (Script(answer_finalize=False), "no_final", False),
        (Script(malformed=True), "protocol", False),
    ],
    ids=["402", "429", "close-1008", "close-1011", "dropped", "no-final", "malformed"],
)
def test_each_failure_raises_a_deepgram_error_with_its_kind(
    deepgram: DeepgramStandIn, catalogue: Catalogue, script: Script, kind: str, permanent: bool
) -> None:
    deepgram.script = script
    with pytest.raises(DeepgramError) as failed:
        asyncio.run(hear(make(deepgram.url, catalogue, finalize_timeout_s=0.5), 2.0))
    assert (failed.value.kind, failed.value.permanent) == (kind, permanent)
    assert isinstance(failed.value, SttError)
    assert deepgram.streams or deepgram.rejected  # Deepgram was really tried


def test_a_failure_mid_stream_is_raised_by_feed_before_the_command_ends(
    deepgram: DeepgramStandIn, catalogue: Catalogue
) -> None:
    deepgram.script = Script(close_after_s=0.3, close_code=1011, close_reason="NET-0000")

    async def go() -> int:
        stt = make(deepgram.url, catalogue)
        session = await stt.start()
        audio = noise(3.0)
        fed = 0
        with pytest.raises(DeepgramError):
            for start in range(0, len(audio), CHUNK_SAMPLES):
                await session.feed(audio[start : start + CHUNK_SAMPLES])
                fed += 1
                await asyncio.sleep(0.01)
        await session.abort()
        await stt.close()
        return fed

    fed = asyncio.run(go())
    assert fed < 3.0 * 16000 / CHUNK_SAMPLES


def test_unreachable_endpoints_fail_fast_with_their_kind(catalogue: Catalogue) -> None:
    hole = Blackhole()
    try:
        with pytest.raises(DeepgramError) as timeout:
            asyncio.run(hear(make(hole.url, catalogue, connect_timeout_s=0.3), 1.0))
    finally:
        hole.close()
    assert timeout.value.kind == "connect_timeout"
    with pytest.raises(DeepgramError) as dns:
        asyncio.run(hear(make("wss://deepgram.invalid/v1/listen", catalogue), 1.0))
    assert dns.value.kind == "dns"
    port = Blackhole()
    port.close()  # nothing listens there any more
    with pytest.raises(DeepgramError) as refused:
        asyncio.run(hear(make(port.url, catalogue), 1.0))
    assert refused.value.kind == "refused"


def test_the_api_key_never_reaches_the_log(
    deepgram: DeepgramStandIn, catalogue: Catalogue, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    asyncio.run(hear(make(deepgram.url, catalogue), 1.0))
    with pytest.raises(DeepgramError) as failed:
        asyncio.run(
            hear(DeepgramSpeechToText(url=deepgram.url, api_key="wrong-key-123", catalogue=catalogue), 1.0)
        )
    assert failed.value.kind == "auth" and failed.value.permanent
    assert caplog.records  # the run did log (handshake, warnings)
    assert API_KEY not in caplog.text and "wrong-key-123" not in caplog.text
    assert "wrong-key-123" not in str(failed.value)


def test_configuration_errors_are_plain(catalogue: Catalogue) -> None:
    with pytest.raises(ConfigError, match="API key"):
        DeepgramSpeechToText(url="wss://api.deepgram.com/v1/listen", api_key="", catalogue=catalogue)
    with pytest.raises(ConfigError, match="LARDER_DEEPGRAM_URL"):
        DeepgramSpeechToText(url="ws://api.deepgram.com/v1/listen", api_key="k", catalogue=catalogue)
