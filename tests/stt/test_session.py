"""``WhisperSpeechToText``: sessions buffer chunks, transcribe with the catalogue prompt, and forget the audio."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import numpy as np
import pytest

from device.errors import SttError
from device.inventory.catalog import Catalogue, parse_csv
from device.protocols import CHUNK_SAMPLES, SAMPLE_RATE, Audio, SpeechToText, Transcript
from device.stt.whisper import MAX_SESSION_S, WhisperEngine, WhisperSpeechToText
from tests.stt.wer import normalise, word_errors

pytestmark = pytest.mark.models

SPECIALS = parse_csv(
    "name,aliases,unit,location,par\n"
    "gochujang,,jar,pantry,2\nnduja,,tub,walk-in,1\nharissa,,jar,pantry,2\nguanciale,,pound,walk-in,2\n"
)


def _chunks(audio: Audio) -> list[Audio]:
    return [audio[i : i + CHUNK_SAMPLES] for i in range(0, len(audio), CHUNK_SAMPLES)]


async def _transcribe(stt: SpeechToText, audio: Audio) -> Transcript:
    heard: list[Transcript] = []
    session = await stt.start(on_interim=heard.append)
    for chunk in _chunks(audio):
        await session.feed(chunk)
    result = await session.finish()
    assert heard == []  # Whisper has no interim results
    return result


def test_session_transcribes_fed_chunks(
    engine: WhisperEngine, catalogue: Catalogue, say: Callable[..., Audio]
) -> None:
    stt = WhisperSpeechToText(engine, catalogue)
    assert stt.name == "whisper"
    text = "add three cartons of oat milk to the walk-in"
    result = asyncio.run(_transcribe(stt, say(text)))
    assert word_errors(text, result.text)[0] <= 1, result.text
    assert result.engine == "whisper-tiny.en" and result.is_final


def test_audio_is_dropped_after_finish_and_a_session_finishes_once(
    engine: WhisperEngine, catalogue: Catalogue, say: Callable[..., Audio]
) -> None:
    async def run() -> None:
        session = await WhisperSpeechToText(engine, catalogue).start()
        for chunk in _chunks(say("how many bagels do we have")):
            await session.feed(chunk)
        assert session.buffered_samples > SAMPLE_RATE
        result = await session.finish()
        assert "bagels" in normalise(result.text)
        assert session.buffered_samples == 0
        await session.feed(np.ones(CHUNK_SAMPLES, dtype=np.int16))  # a late chunk is ignored
        assert session.buffered_samples == 0
        with pytest.raises(SttError, match="already finished"):
            await session.finish()

    asyncio.run(run())


def test_abort_drops_the_audio(
    engine: WhisperEngine, catalogue: Catalogue, say: Callable[..., Audio]
) -> None:
    async def run() -> None:
        session = await WhisperSpeechToText(engine, catalogue).start()
        for chunk in _chunks(say("cancel")):
            await session.feed(chunk)
        await session.abort()
        assert session.buffered_samples == 0
        with pytest.raises(SttError, match="aborted"):
            await session.finish()

    asyncio.run(run())


def test_a_session_keeps_at_most_whisper_window(engine: WhisperEngine, catalogue: Catalogue) -> None:
    async def run() -> int:
        session = await WhisperSpeechToText(engine, catalogue).start()
        chunk = np.zeros(CHUNK_SAMPLES, dtype=np.int16)
        for _ in range(int(32 * SAMPLE_RATE / CHUNK_SAMPLES)):
            await session.feed(chunk)
        kept = session.buffered_samples
        await session.abort()
        return kept

    assert MAX_SESSION_S * SAMPLE_RATE - CHUNK_SAMPLES < asyncio.run(run()) <= MAX_SESSION_S * SAMPLE_RATE


def test_an_empty_session_gives_an_empty_transcript(engine: WhisperEngine, catalogue: Catalogue) -> None:
    async def run() -> Transcript:
        session = await WhisperSpeechToText(engine, catalogue).start()
        return await session.finish()

    assert asyncio.run(run()).text == ""


def test_set_catalogue_changes_what_is_heard(
    engine: WhisperEngine, catalogue: Catalogue, say: Callable[..., Audio]
) -> None:
    stt = WhisperSpeechToText(engine, catalogue)
    audio = say("we're out of guanciale")
    before = asyncio.run(_transcribe(stt, audio))
    stt.set_catalogue(SPECIALS)
    assert "guanciale" in stt.prompt and "oat milk" not in stt.prompt
    after = asyncio.run(_transcribe(stt, audio))
    assert "guanciale" not in normalise(before.text), before.text
    assert "guanciale" in normalise(after.text), after.text


def test_the_prompt_fits_the_token_budget(engine: WhisperEngine, catalogue: Catalogue) -> None:
    stt = WhisperSpeechToText(engine, catalogue)
    assert 150 < engine.count_tokens(stt.prompt) <= 200


def test_a_draft_no_longer_wanted_skips_decoding_and_the_session_goes_on(
    engine: WhisperEngine, catalogue: Catalogue, say: Callable[..., Audio]
) -> None:
    asked: list[str] = []

    def unwanted() -> bool:
        asked.append("after the encoder")
        return False

    async def run() -> tuple[Transcript, Transcript]:
        session = await WhisperSpeechToText(engine, catalogue).start()
        for chunk in _chunks(say("how many bagels do we have")):
            await session.feed(chunk)
        skipped = await session.draft(wanted=unwanted)
        kept = await session.draft(wanted=lambda: True)
        return skipped, await session.adopt(kept)

    skipped, final = asyncio.run(run())
    assert asked == ["after the encoder"]
    assert (
        skipped.text == "" and skipped.confidence is None
    )  # the speech was there: only decoding was skipped
    assert "bagels" in normalise(final.text)
