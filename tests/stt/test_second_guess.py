"""Whisper's second guess: when its best hearing does not read as a command, a runner-up that does is used.

Over a committed bench clip (Piper joe, real kitchen noise at 10 dB) whose best hearing is "Roll away six
avocados.": the grammar cannot read that, and the beam search's runner-up "Throw away six avocados." is taken.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from device.audio.wav import WavMicrophone
from device.intent.grammar import Grammar
from device.intent.resolver import reads_as_command
from device.inventory.catalog import Catalogue
from device.protocols import CHUNK_SAMPLES, Audio
from device.stt.whisper import WhisperEngine, WhisperSpeechToText

pytestmark = pytest.mark.models
CLIP = Path(__file__).resolve().parents[1] / "data" / "bench" / "clips" / "05-joe-10dB.wav"


@pytest.fixture(scope="module")
def audio() -> Audio:
    return WavMicrophone(CLIP).load()


@pytest.fixture(scope="module")
def grammar(catalogue: Catalogue) -> Grammar:
    return Grammar(catalogue)


def reads(grammar: Grammar, text: str) -> bool:
    return reads_as_command(grammar.parse(text), 0.6)


def test_the_best_hearing_stands_without_a_test(engine: WhisperEngine, prompt: str, audio: Audio) -> None:
    best = engine.transcribe(audio, prompt=prompt)
    assert best.text == "Roll away six avocados." and best.rank == 0


def test_a_runner_up_that_reads_as_a_command_replaces_it(
    engine: WhisperEngine, prompt: str, audio: Audio, grammar: Grammar
) -> None:
    guessed = engine.transcribe(audio, prompt=prompt, accept=lambda text: reads(grammar, text))
    assert guessed.rank >= 1
    command = grammar.parse(guessed.text)
    assert (command.action.value, command.item, command.quantity) == ("waste", "avocados", 6)
    assert guessed.confidence is not None and 0 < guessed.confidence <= 1


def test_nothing_acceptable_keeps_the_best(engine: WhisperEngine, prompt: str, audio: Audio) -> None:
    tried: list[str] = []

    def never(text: str) -> bool:
        tried.append(text)
        return False

    kept = engine.transcribe(audio, prompt=prompt, accept=never)
    assert kept.text == "Roll away six avocados." and kept.rank == 0
    assert len(tried) > 2 and len(set(tried)) == len(tried)  # the best, then distinct runners-up


def test_an_accepted_best_is_not_searched_further(engine: WhisperEngine, prompt: str, audio: Audio) -> None:
    tried: list[str] = []
    kept = engine.transcribe(audio, prompt=prompt, accept=lambda text: not tried.append(text))
    assert tried == [kept.text] and kept.rank == 0


def test_an_adopted_draft_gets_the_second_guess(
    engine: WhisperEngine, catalogue: Catalogue, audio: Audio, grammar: Grammar
) -> None:
    async def run() -> tuple[str, str, int]:
        stt = WhisperSpeechToText(engine, catalogue, accept=lambda text: reads(grammar, text))
        session = await stt.start()
        for start in range(0, len(audio), CHUNK_SAMPLES):
            await session.feed(audio[start : start + CHUNK_SAMPLES])
        draft = await session.draft()
        final = await session.adopt(draft)
        assert session.buffered_samples == 0  # adopting finishes the session and forgets the audio
        return draft.text, final.text, final.rank

    draft, final, rank = asyncio.run(run())
    assert draft == "Roll away six avocados."
    assert rank >= 1 and grammar.parse(final).item == "avocados"


def test_silence_is_not_second_guessed(engine: WhisperEngine, prompt: str) -> None:
    import numpy as np

    heard = engine.transcribe(np.zeros(16000, dtype=np.int16), prompt=prompt, accept=lambda text: False)
    assert heard.text == "" and heard.rank == 0


def test_a_draft_reconsidered_during_the_pause_is_not_searched_again_on_adopt(
    engine: WhisperEngine, catalogue: Catalogue, audio: Audio, grammar: Grammar
) -> None:
    tested: list[str] = []

    def accept(text: str) -> bool:
        tested.append(text)
        return reads(grammar, text)

    async def run() -> None:
        session = await WhisperSpeechToText(engine, catalogue, accept=accept).start()
        for start in range(0, len(audio), CHUNK_SAMPLES):
            await session.feed(audio[start : start + CHUNK_SAMPLES])
        draft = await session.draft()
        early = await session.reconsider(draft)
        assert early.rank >= 1 and session.buffered_samples > 0  # still open: the cook may go on
        searched = len(tested)
        assert await session.adopt(draft) is early
        assert len(tested) == searched  # the search was not run twice

    asyncio.run(run())
