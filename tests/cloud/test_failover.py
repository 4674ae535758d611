"""Failover that loses nothing: when Deepgram fails in any way, the same audio goes to the real Whisper tiny.en.

The Deepgram stand-in is scripted with a transcript that differs from the spoken audio ("soy milk", "bar"), so a
result shows who answered: the stand-in's words mean Deepgram, the spoken words ("oat milk", "walk-in") Whisper.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from device.errors import ConfigError
from device.inventory.catalog import Catalogue
from device.protocols import Audio, SpeechToText
from device.settings import Settings
from device.stt.breaker import BreakerState, CircuitBreaker
from device.stt.deepgram import DeepgramSpeechToText
from device.stt.failover import FailoverSpeechToText, build_speech_to_text
from tests.cloud.helpers import stream
from tests.standins.deepgram import API_KEY, Blackhole, DeepgramStandIn, Script

pytestmark = pytest.mark.models

SCRIPTED = ("add two cases of soy milk", "to the bar")


def failover(
    url: str, whisper: SpeechToText, catalogue: Catalogue, *, key: str = API_KEY, **options: Any
) -> FailoverSpeechToText:
    primary = DeepgramSpeechToText(
        url=url, api_key=key, catalogue=catalogue, finalize_timeout_s=0.6, connect_timeout_s=0.5
    )
    return FailoverSpeechToText(primary, whisper, options.pop("breaker", CircuitBreaker()), **options)


def spoken(text: str) -> bool:
    """Whisper heard the spoken command (not the stand-in's script)."""
    words = text.lower()
    return (
        "oat milk" in words and ("three" in words or "3" in words) and "walk" in words and "soy" not in words
    )


def test_deepgram_answers_when_it_works(
    deepgram: DeepgramStandIn, whisper: SpeechToText, catalogue: Catalogue, command_audio: Audio
) -> None:
    deepgram.script = Script(segments=SCRIPTED)
    stt = failover(deepgram.url, whisper, catalogue)
    transcript = asyncio.run(stream(stt, command_audio, pace_s=0.002))
    assert (transcript.text, transcript.engine) == ("add two cases of soy milk to the bar", "deepgram")
    assert stt.breaker.state is BreakerState.CLOSED and stt.last_failure is None
    (seen,) = deepgram.streams
    assert bytes(seen.audio[: command_audio.nbytes]) == command_audio.tobytes()


def _standin(script: Script) -> Callable[[DeepgramStandIn], tuple[str, str]]:
    def setup(server: DeepgramStandIn) -> tuple[str, str]:
        server.script = script
        return server.url, API_KEY

    return setup


FAILURES: list[tuple[str, Callable[[DeepgramStandIn], tuple[str, str]], str]] = [
    ("handshake-401", lambda server: (server.url, "not-the-key"), "auth"),
    ("handshake-402", _standin(Script(segments=SCRIPTED, reject=402)), "payment"),
    ("handshake-429", _standin(Script(segments=SCRIPTED, reject=429)), "rate_limit"),
    ("close-1008", _standin(Script(segments=SCRIPTED, close_after_s=0.8, close_code=1008)), "closed_1008"),
    ("close-1011", _standin(Script(segments=SCRIPTED, close_after_s=0.8, close_code=1011)), "closed_1011"),
    ("dies-mid-stream", _standin(Script(segments=SCRIPTED, drop_after_s=0.8)), "dropped"),
    ("never-answers", _standin(Script(segments=SCRIPTED, answer_finalize=False)), "no_final"),
    ("answers-too-late", _standin(Script(segments=SCRIPTED, finalize_delay_s=2.0)), "no_final"),
]


@pytest.mark.parametrize(("setup", "kind"), [f[1:] for f in FAILURES], ids=[f[0] for f in FAILURES])
def test_each_deepgram_failure_is_answered_by_whisper_from_the_same_audio(
    deepgram: DeepgramStandIn,
    whisper: SpeechToText,
    catalogue: Catalogue,
    command_audio: Audio,
    setup: Callable[[DeepgramStandIn], tuple[str, str]],
    kind: str,
) -> None:
    url, key = setup(deepgram)
    stt = failover(url, whisper, catalogue, key=key)
    transcript = asyncio.run(stream(stt, command_audio, pace_s=0.004))
    assert transcript.engine.startswith("whisper")
    assert spoken(transcript.text), transcript.text
    assert stt.last_failure == kind
    assert stt.breaker.failures == 1
    assert deepgram.streams or deepgram.rejected  # Deepgram was really tried


@pytest.mark.parametrize("where", ["connect-timeout", "dns", "refused"])
def test_unreachable_deepgram_is_answered_by_whisper(
    whisper: SpeechToText, catalogue: Catalogue, command_audio: Audio, where: str
) -> None:
    hole = Blackhole()
    if where == "refused":
        hole.close()
    url = "wss://deepgram.invalid/v1/listen" if where == "dns" else hole.url
    try:
        stt = failover(url, whisper, catalogue)
        transcript = asyncio.run(stream(stt, command_audio))
    finally:
        hole.close()
    assert transcript.engine.startswith("whisper") and spoken(transcript.text), transcript.text
    assert (
        stt.last_failure == {"connect-timeout": "connect_timeout", "dns": "dns", "refused": "refused"}[where]
    )


def test_breaker_skips_deepgram_after_repeated_failures_then_probes_it_again(
    deepgram: DeepgramStandIn, whisper: SpeechToText, catalogue: Catalogue, command_audio: Audio
) -> None:
    now = [1000.0]
    stt = failover(
        deepgram.url,
        whisper,
        catalogue,
        breaker=CircuitBreaker(failure_threshold=2, cooldown_s=30),
        clock=lambda: now[0],
    )
    told: list[tuple[bool, str]] = []
    stt.link.on_change = lambda online, reason: told.append((online, reason))
    deepgram.script = Script(segments=SCRIPTED, reject=429)
    for _ in range(2):
        assert asyncio.run(stream(stt, command_audio)).engine.startswith("whisper")
    assert deepgram.rejected == [429, 429] and stt.breaker.state is BreakerState.OPEN

    now[0] += 10  # circuit open: Deepgram is not even asked
    assert asyncio.run(stream(stt, command_audio)).engine.startswith("whisper")
    assert deepgram.rejected == [429, 429] and not deepgram.streams

    now[0] += 30  # cooldown over, Deepgram healthy again: the probe succeeds and the circuit closes
    deepgram.reset(Script(segments=SCRIPTED))
    transcript = asyncio.run(stream(stt, command_audio))
    assert transcript.engine == "deepgram" and stt.breaker.state is BreakerState.CLOSED
    assert told == [(False, "rate_limit"), (True, "")]  # once offline, once back: not on every failure


def test_a_rejected_key_opens_the_circuit_at_once(
    deepgram: DeepgramStandIn, whisper: SpeechToText, catalogue: Catalogue, command_audio: Audio
) -> None:
    stt = failover(deepgram.url, whisper, catalogue, key="revoked")
    assert asyncio.run(stream(stt, command_audio)).engine.startswith("whisper")
    assert stt.breaker.state is BreakerState.OPEN and deepgram.rejected == [401]


def test_build_picks_the_engine_from_the_settings(
    deepgram: DeepgramStandIn, whisper: SpeechToText, catalogue: Catalogue
) -> None:
    def settings(**values: Any) -> Settings:
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    assert build_speech_to_text(settings(stt="auto"), catalogue, whisper) is whisper
    assert build_speech_to_text(settings(stt="whisper", deepgram_api_key="k"), catalogue, whisper) is whisper
    with pytest.raises(ConfigError, match="LARDER_DEEPGRAM_API_KEY"):
        build_speech_to_text(settings(stt="deepgram"), catalogue, whisper)
    for choice in ("auto", "deepgram"):
        built = build_speech_to_text(
            settings(stt=choice, deepgram_api_key=API_KEY, deepgram_url=deepgram.url, deepgram_timeout_s=0.7),
            catalogue,
            whisper,
        )
        assert isinstance(built, FailoverSpeechToText) and built.fallback is whisper
        assert isinstance(built.primary, DeepgramSpeechToText)
        assert (built.primary.url, built.primary.finalize_timeout_s) == (deepgram.url, 0.7)
