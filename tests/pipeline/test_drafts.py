"""Draft transcription in the runner: a transcript started during the cook's pause is used when the pause becomes
the end of the command, dropped when they go on, reconsidered while the pause lasts, and never made of the wake
word's tail.

The runner is real, with the real grammar, dialogue and SQLite store; the VAD follows a script of speech
probabilities (one per chunk), and the speech-to-text is a fake drafting engine that hears a text that depends on
how many chunks it was fed and records every call.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from device.audio.wav import RecordingSpeaker
from device.dialogue import Dialogue, PolicyConfig
from device.intent.command import Action, Resolver
from device.intent.grammar import Grammar
from device.intent.resolver import ChainResolver
from device.inventory.apply import Inventory
from device.inventory.catalog import demo_catalogue
from device.inventory.store import Store
from device.pipeline.endpointing import EndpointConfig
from device.pipeline.events import EventBus
from device.pipeline.runner import VoicePipeline
from device.pipeline.speaking import ReplySpeaker
from device.pipeline.turns import UtteranceResult
from device.protocols import CHUNK_SAMPLES, Audio, Transcript

SPEECH, QUIET = 0.95, 0.02
CHUNK = np.zeros(CHUNK_SAMPLES, dtype=np.int16)


def script(*runs: tuple[float, int]) -> list[float]:
    return [p for p, count in runs for _ in range(count)]


class ScriptedVad:
    """Scores the n-th chunk it is given with the n-th probability of the script (quiet after it)."""

    def __init__(self, probabilities: list[float]) -> None:
        self.probabilities = probabilities
        self.seen = 0

    def speech_probability(self, chunk: Audio) -> float:
        self.seen += 1
        return self.probabilities[self.seen - 1] if self.seen <= len(self.probabilities) else QUIET

    def reset(self) -> None:
        return None


class ZeroMicrophone:
    """``count`` chunks of silence, handing control to the loop between chunks, as a live microphone does."""

    name = "zeros"

    def __init__(self, count: int) -> None:
        self.count = count

    async def chunks(self) -> AsyncIterator[Audio]:
        for _ in range(self.count):
            await asyncio.sleep(0)
            yield CHUNK

    async def close(self) -> None:
        return None


class DraftingStt:
    """Hears ``hear(chunks fed)``; a runner-up from ``better`` when asked to reconsider. Records every call."""

    name = "drafting"

    def __init__(self, hear: Callable[[int], str], better: dict[str, str] | None = None) -> None:
        self.hear = hear
        self.better = better or {}
        self.calls: list[tuple[str, object]] = []
        self.wanted: list[
            Callable[[], bool]
        ] = []  # what each draft was given to ask whether it still matters

    async def start(self, on_interim: Callable[[Transcript], None] | None = None) -> Session:
        return Session(self)

    def set_catalogue(self, catalogue: object) -> None:
        return None


class Session:
    def __init__(self, stt: DraftingStt) -> None:
        self.stt = stt
        self.fed = 0
        self.guessed: dict[int, Transcript] = {}

    async def feed(self, chunk: Audio) -> None:
        self.fed += 1

    async def draft(self, wanted: Callable[[], bool] | None = None) -> Transcript:
        self.stt.calls.append(("draft", self.fed))
        assert wanted is not None
        self.stt.wanted.append(wanted)
        text = self.stt.hear(self.fed)
        await asyncio.sleep(0)  # the work happens elsewhere (a worker thread, in the real engine)
        return Transcript(text=text, engine="drafting")

    async def reconsider(self, draft: Transcript) -> Transcript:
        if id(draft) not in self.guessed:
            self.stt.calls.append(("reconsider", draft.text))
            await asyncio.sleep(0)
            better = self.stt.better.get(draft.text)
            self.guessed[id(draft)] = (
                Transcript(text=better, engine="drafting", rank=1) if better is not None else draft
            )
        return self.guessed[id(draft)]

    async def adopt(self, draft: Transcript) -> Transcript:
        self.stt.calls.append(("adopt", draft.text))
        return await self.reconsider(draft)

    async def finish(self) -> Transcript:
        self.stt.calls.append(("finish", self.fed))
        return Transcript(text=self.stt.hear(self.fed), engine="drafting")

    async def abort(self) -> None:
        return None


class SilentTts:
    sample_rate = 16000

    def render(self, text: str) -> Audio:
        return np.zeros(1600, dtype=np.int16)

    def earcon(self, name: str) -> Audio:
        return np.zeros(800, dtype=np.int16)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "larder.db") as opened:
        yield opened


def listen(
    store: Store, stt: DraftingStt, probabilities: list[float], *, preroll: int = 0, tail: int = 40
) -> UtteranceResult | None:
    pipeline = VoicePipeline(
        microphone=ZeroMicrophone(len(probabilities) - preroll + tail),
        wake=None,
        vad=ScriptedVad(probabilities),
        endpoint=EndpointConfig(),
        stt=stt,
        resolver=ChainResolver(Grammar(demo_catalogue()), None, min_confidence=0.6),
        dialogue=Dialogue(Inventory(store), store, PolicyConfig()),
        speaker=ReplySpeaker(SilentTts(), RecordingSpeaker()),
        bus=EventBus(),
        clock=None,
    )

    async def run() -> UtteranceResult | None:
        chunks = pipeline.microphone.chunks()
        return await pipeline.listen_and_respond(chunks, preroll=[CHUNK] * preroll)

    return asyncio.run(run())


def kinds(stt: DraftingStt) -> list[str]:
    return [kind for kind, _ in stt.calls]


def test_the_draft_made_in_the_final_pause_is_the_transcript(store: Store) -> None:
    stt = DraftingStt(lambda fed: "add three cartons of oat milk")
    result = listen(store, stt, script((QUIET, 5), (SPEECH, 40), (QUIET, 30)))
    assert result is not None and result.transcript == "add three cartons of oat milk"
    assert kinds(stt) == ["draft", "reconsider", "adopt"]  # no transcription after the endpoint
    assert stt.calls[0] == ("draft", 45 + 2)  # 2 quiet chunks (0.064 s) into the pause
    assert result.draft_lead_s == pytest.approx((16 - 2) * 0.032)
    assert result.command is not None and result.command.item == "oat milk"


def test_speech_after_the_pause_makes_the_first_draft_stale(store: Store) -> None:
    stt = DraftingStt(lambda fed: "add three cartons" if fed < 40 else "add three cartons of oat milk")
    probabilities = script((QUIET, 5), (SPEECH, 20), (QUIET, 8), (SPEECH, 20), (QUIET, 30))
    result = listen(store, stt, probabilities)
    assert result is not None and result.transcript == "add three cartons of oat milk"
    drafts = [fed for kind, fed in stt.calls if kind == "draft"]
    assert drafts == [25 + 2, 53 + 2]
    assert ("adopt", "add three cartons") not in stt.calls
    # the engine is told the first draft is no longer wanted once speech went on; the second still is
    assert [wanted() for wanted in stt.wanted] == [False, True]


def test_a_draft_that_is_no_command_is_reconsidered_before_the_end(store: Store) -> None:
    stt = DraftingStt(
        lambda fed: "roll away six avocados", {"roll away six avocados": "throw away six avocados"}
    )
    result = listen(store, stt, script((QUIET, 5), (SPEECH, 40), (QUIET, 30)))
    assert kinds(stt) == ["draft", "reconsider", "adopt"]  # the search ran during the pause, once
    assert result is not None and result.transcript == "throw away six avocados"
    command = result.command
    assert command is not None and (command.action, command.item, command.quantity) == (
        Action.WASTE,
        "avocados",
        6,
    )
    assert command.resolver is Resolver.GRAMMAR_RUNNER_UP
    assert result.status == "pending"  # read from a runner-up: nothing changes without a yes
    assert store.stock() == []


def test_no_draft_is_made_of_the_wake_words_tail(store: Store) -> None:
    stt = DraftingStt(lambda fed: "okay nabu" if fed <= 16 else "how many eggs do we have")
    # the pre-roll ends with the wake word (speech), then the cook pauses 0.4 s before the command
    probabilities = script((QUIET, 6), (SPEECH, 10), (QUIET, 12), (SPEECH, 30), (QUIET, 30))
    result = listen(store, stt, probabilities, preroll=16)
    drafts = [fed for kind, fed in stt.calls if kind == "draft"]
    assert drafts == [58 + 2]
    assert result is not None and result.transcript == "how many eggs do we have"


def test_without_a_matching_draft_the_engine_transcribes_at_the_end(store: Store) -> None:
    stt = DraftingStt(lambda fed: "how many eggs do we have")
    # the audio ends 0.03 s into the pause (a file, a closed microphone): too soon for a draft
    result = listen(store, stt, script((QUIET, 5), (SPEECH, 30), (QUIET, 1)), tail=0)
    assert result is not None
    assert "finish" in kinds(stt) and "adopt" not in kinds(stt)
