"""Whisper scoring readings on the audio it already encoded (the real tiny.en model, Piper test speech), and the
session taking the grammar's choice between them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import numpy as np
import pytest

from device.intent.readings import MARGIN, GrammarReadings
from device.inventory.catalog import Catalogue
from device.protocols import CHUNK_SAMPLES, Audio, Transcript
from device.stt.whisper import WhisperEngine, WhisperSpeechToText

pytestmark = pytest.mark.models


@pytest.fixture(scope="module")
def readings(catalogue: Catalogue) -> GrammarReadings:
    return GrammarReadings(catalogue)


def test_the_words_said_score_above_their_sound_alikes(
    engine: WhisperEngine, prompt: str, say: Callable[..., Audio]
) -> None:
    hearing = engine.hear(say("Move four bottles of vanilla syrup to the bar."), prompt=prompt)
    texts = [
        "Move four bottles of vanilla syrup to the bar.",
        "Move forward bottles of vanilla syrup to the bar.",
        "Move five bottles of vanilla syrup to the bar.",
        "Move four boxes of vanilla syrup to the bar.",
    ]
    scores = engine.score(hearing, texts)
    assert scores is not None and len(scores) == len(texts)
    assert all(s < 0 for s in scores)
    assert scores[0] == max(scores) and scores[0] - max(scores[1:]) > 1.0
    assert engine.score(hearing, texts) == scores  # one forced pass: the same every time


def test_a_verb_said_clearly_scores_well_above_its_sound_alike(
    engine: WhisperEngine, prompt: str, say: Callable[..., Audio]
) -> None:
    hearing = engine.hear(say("We threw away four chicken breasts."), prompt=prompt)
    scores = engine.score(
        hearing, ["We threw away four chicken breasts.", "We put away four chicken breasts."]
    )
    assert scores is not None and scores[0] - scores[1] > MARGIN  # no needless question


def test_silence_has_nothing_to_score(engine: WhisperEngine) -> None:
    hearing = engine.hear(np.zeros(16000, dtype=np.int16))
    assert hearing.encoded is None and engine.score(hearing, ["Add two eggs."]) is None


async def finish(stt: WhisperSpeechToText, audio: Audio) -> Transcript:
    session = await stt.start()
    for start in range(0, len(audio), CHUNK_SAMPLES):
        await session.feed(audio[start : start + CHUNK_SAMPLES])
    return await session.finish()


def test_a_clear_command_is_taken_as_heard_with_no_rival(
    engine: WhisperEngine, catalogue: Catalogue, readings: GrammarReadings, say: Callable[..., Audio]
) -> None:
    stt = WhisperSpeechToText(engine, catalogue, readings=readings)
    heard = asyncio.run(finish(stt, say("Add three cartons of oat milk.")))
    assert heard.rank == 0 and heard.rivals == ()
    assert readings.grammar.parse(heard.text).quantity == 3
