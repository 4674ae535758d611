"""Near-misses of the real tiny.en model on generated speech in real kitchen noise are asked about, never applied
wrong: the reading Whisper's decoder scores close to its hearing comes with it as a rival, and the dialogue asks
which was said (or, when the amount was not heard as a number, how many)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from device.dialogue import Dialogue, PolicyConfig
from device.intent.command import with_rivals
from device.intent.readings import GrammarReadings
from device.inventory.apply import Inventory
from device.inventory.catalog import Catalogue
from device.inventory.store import Store
from device.protocols import CHUNK_SAMPLES, Audio, Transcript
from device.stt.whisper import WhisperEngine, WhisperSpeechToText
from tests import speech

pytestmark = pytest.mark.models
T0 = 1_800_000_000.0


@pytest.fixture(scope="module")
def readings(catalogue: Catalogue) -> GrammarReadings:
    return GrammarReadings(catalogue)


def hear(engine: WhisperEngine, catalogue: Catalogue, readings: GrammarReadings, audio: Audio) -> Transcript:
    async def run() -> Transcript:
        session = await WhisperSpeechToText(engine, catalogue, readings=readings).start()
        for start in range(0, len(audio), CHUNK_SAMPLES):
            await session.feed(audio[start : start + CHUNK_SAMPLES])
        return await session.finish()

    return asyncio.run(run())


def respond(
    tmp_path: Path, readings: GrammarReadings, heard: Transcript, *answers: str
) -> tuple[list[str], Store]:
    """What the pipeline does with a transcript: the grammar, the rivals, the dialogue (a real store)."""
    store = Store.open(tmp_path / "larder.db")
    dialogue = Dialogue(Inventory(store), store, PolicyConfig())
    grammar = readings.grammar
    command = with_rivals(grammar.parse(heard.text), [grammar.parse(t) for t in heard.rivals])
    replies = [dialogue.handle(command, T0).reply]
    replies += [dialogue.handle(grammar.parse(a), T0 + 2 + i).reply for i, a in enumerate(answers)]
    return replies, store


def test_nineteen_heard_as_ninety_is_asked_about(
    tmp_path: Path, engine: WhisperEngine, catalogue: Catalogue, readings: GrammarReadings
) -> None:
    said = speech.utterance("Add nineteen eggs.", voice="en-us+m3", wake=None, lead_s=0.2, tail_s=0.4)
    heard = hear(engine, catalogue, readings, speech.in_noise(said, "kitchen", 10, seed=2).audio)
    assert heard.text == "Add 90 eggs." and heard.rivals == ("Add 19 eggs.",)
    replies, store = respond(tmp_path, readings, heard)
    assert replies == ["90 or 19 eggs? Say which, or press confirm for the first."]
    assert store.journal() == []  # nothing applied on a doubtful number
    replies, store = respond(tmp_path / "answered", readings, heard, "nineteen")
    assert replies[-1].startswith("Added 19 eggs") and store.quantity("eggs") == 19


def test_four_heard_as_forward_is_not_applied_as_one_bottle(
    tmp_path: Path, engine: WhisperEngine, catalogue: Catalogue, readings: GrammarReadings
) -> None:
    said = speech.utterance("Move four bottles of vanilla syrup to the bar.")  # after "Okay, Nabu."
    audio = speech.concat(speech.silence(0.2), speech.in_noise(said, "kitchen", 10, seed=3).audio)
    heard = hear(engine, catalogue, readings, audio)
    assert "forward bottles" in heard.text and any("four bottles" in t for t in heard.rivals)
    replies, store = respond(tmp_path, readings, heard)
    assert replies == ["How many bottles of vanilla syrup?"]
    assert store.journal() == []
