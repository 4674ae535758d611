"""The reply rendered ahead: words judged complete in the final pause that the dialogue would apply at once have
the first clause of their reply rendered while the turn ends (Deepgram's final on its way), and that audio is
what plays when the final agrees. When it does not, the final's own reply plays. Offline drafts prepare nothing.

Runner, grammar, dialogue and SQLite store are real; the speech-to-text and VAD follow scripts (as in
``test_semantic_turns``) and the TTS labels each rendering so the test can tell which one the speaker played.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from device.audio.wav import RecordingSpeaker
from device.dialogue import Dialogue, PolicyConfig
from device.intent.resolver import reads_as_command
from device.inventory.apply import Inventory
from device.inventory.store import Store
from device.pipeline import events as ev
from device.pipeline.speaking import ReplySpeaker
from device.pipeline.turns import UtteranceResult
from device.protocols import Audio
from device.tts import split_clauses
from tests.pipeline import test_semantic_turns as semantic_turns
from tests.pipeline.test_drafts import QUIET, SPEECH, DraftingStt, script
from tests.pipeline.test_semantic_turns import GRAMMAR, WHOLE, StreamingStt, words_by_chunk


class LabelledTts:
    """Each rendering is a distinct clip (filled with its number), so what was played names what was rendered."""

    sample_rate = 16000

    def __init__(self) -> None:
        self.rendered: list[str] = []

    def render(self, text: str) -> Audio:
        self.rendered.append(text)
        return np.full(160, len(self.rendered), dtype=np.int16)

    def earcon(self, name: str) -> Audio:
        return np.zeros(80, dtype=np.int16)

    def played(self, speaker: RecordingSpeaker) -> list[str]:
        return [self.rendered[int(audio[0]) - 1] for audio, _ in speaker.played if audio[0] > 0]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "larder.db") as opened:
        yield opened


def listen(
    store: Store, stt: DraftingStt | StreamingStt, probabilities: list[float]
) -> tuple[UtteranceResult | None, list[str], list[ev.Event], list[str]]:
    """One command: its result, the clauses the speaker played, the events in order, every clause rendered."""
    dialogue = Dialogue(Inventory(store), store, PolicyConfig())

    def preview(text: str) -> str | None:
        command = GRAMMAR.parse(text)
        return dialogue.preview(command) if reads_as_command(command, 0.6) else None

    tts, speaker, bus = LabelledTts(), RecordingSpeaker(), ev.EventBus()
    seen: list[ev.Event] = []
    bus.subscribe(seen.append)
    result = semantic_turns.listen(
        store,
        stt,
        probabilities,
        dialogue=dialogue,
        speaker=ReplySpeaker(tts, speaker),
        bus=bus,
        preview=preview,
    )
    return result, tts.played(speaker), seen, tts.rendered


def order(seen: list[ev.Event]) -> list[str]:
    wanted = (ev.ReplyPrepared, ev.TranscriptReady, ev.Outcome, ev.ReplyStarted)
    return [event.kind for event in seen if isinstance(event, wanted)]


def test_online_the_reply_renders_while_finalize_is_answered_and_that_audio_plays(store: Store) -> None:
    stt = StreamingStt(hear=lambda fed: WHOLE, interim=lambda fed: WHOLE, answer_after=5)
    result, played, seen, rendered = listen(store, stt, script((QUIET, 5), (SPEECH, 40), (QUIET, 40)))
    assert result is not None and result.status == "applied"
    first = split_clauses(result.reply)[0]
    assert first == "Added 3 cartons of oat milk to the walk-in."
    assert order(seen)[:2] == ["reply_prepared", "transcript"]
    prepared = next(e for e in seen if isinstance(e, ev.ReplyPrepared))
    assert prepared.text == first
    assert played[0] == first and rendered.count(first) == 1  # rendered once, ahead, and that audio played


def test_online_a_final_that_differs_plays_its_own_reply(store: Store) -> None:
    """The interim says the walk-in; Deepgram's final says the bar: the bar's reply plays, applied once."""
    stt = StreamingStt(
        hear=lambda fed: "add three cartons of oat milk to the bar", interim=lambda fed: WHOLE, answer_after=5
    )
    result, played, seen, rendered = listen(store, stt, script((QUIET, 5), (SPEECH, 40), (QUIET, 40)))
    assert result is not None and result.status == "applied"
    assert [e.text for e in seen if isinstance(e, ev.ReplyPrepared)] == [
        "Added 3 cartons of oat milk to the walk-in.",
        "Added 3 cartons of oat milk to the bar.",
    ]
    assert played[0] == "Added 3 cartons of oat milk to the bar."
    assert "Added 3 cartons of oat milk to the walk-in." in rendered
    assert "Added 3 cartons of oat milk to the walk-in." not in played
    assert store.quantity("oat milk", "bar") == 3 and store.quantity("oat milk", "walk-in") == 0


def test_offline_a_draft_has_no_reply_prepared(store: Store) -> None:
    """Offline the turn ends a chunk after the draft is read, while Whisper's second guess runs: rendering
    ahead then would only compete with it for the CPU."""
    stt = DraftingStt(lambda fed: WHOLE)
    result, played, seen, rendered = listen(store, stt, script((QUIET, 5), (SPEECH, 40), (QUIET, 40)))
    assert result is not None and result.endpoint.reason == "semantic" and result.status == "applied"
    assert not [e for e in seen if isinstance(e, ev.ReplyPrepared)]
    assert played[0] == "Added 3 cartons of oat milk to the walk-in." and rendered == played


def test_nothing_is_prepared_for_a_command_the_unit_asks_about(store: Store) -> None:
    """Setting oat milk to zero needs a yes: the question is what plays, and no reply was guessed."""
    stt = StreamingStt(
        hear=lambda fed: "set oat milk to zero", interim=lambda fed: "set oat milk to zero", answer_after=5
    )
    result, played, seen, rendered = listen(store, stt, script((QUIET, 5), (SPEECH, 40), (QUIET, 40)))
    assert result is not None and result.status == "pending"
    assert not [e for e in seen if isinstance(e, ev.ReplyPrepared)]
    assert rendered == played  # nothing was rendered that was not said
    assert played and played[0].endswith("?")


def test_a_cook_who_goes_on_gets_the_whole_commands_reply(store: Store) -> None:
    """The interim "add three cartons of oat milk" reads as complete at a short pause and its reply is prepared;
    the cook goes on "... to the bar": that reply is never played, the whole command's is, stock changes once."""
    hear = words_by_chunk(
        (0, "add three cartons of oat milk"), (60, "add three cartons of oat milk to the bar")
    )
    stt = StreamingStt(hear=hear, interim=hear, answer_after=3)
    result, played, seen, rendered = listen(
        store, stt, script((QUIET, 5), (SPEECH, 30), (QUIET, 8), (SPEECH, 20), (QUIET, 40))
    )
    assert result is not None and result.transcript.endswith("to the bar")
    prepared = [e.text for e in seen if isinstance(e, ev.ReplyPrepared)]
    assert prepared[0] == "Added 3 cartons of oat milk to the walk-in." and prepared[0] in rendered
    assert prepared[0] not in played
    assert played[0] == "Added 3 cartons of oat milk to the bar."
    assert len([e for e in store.journal() if e.deltas]) == 1


def test_a_guess_that_fails_leaves_the_turn_as_it_was(store: Store) -> None:
    """The guess fails (a disk error reading the store): the turn itself still runs and says what it did."""

    def broken(text: str) -> str | None:
        raise sqlite3.OperationalError("disk I/O error")

    tts, speaker = LabelledTts(), RecordingSpeaker()
    stt = StreamingStt(hear=lambda fed: WHOLE, interim=lambda fed: WHOLE, answer_after=5)
    result = semantic_turns.listen(
        store,
        stt,
        script((QUIET, 5), (SPEECH, 40), (QUIET, 40)),
        speaker=ReplySpeaker(tts, speaker),
        preview=broken,
    )
    assert result is not None and result.status == "applied"
    assert tts.played(speaker)[0] == "Added 3 cartons of oat milk to the walk-in."
