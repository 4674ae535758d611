"""Semantic endpointing in the runner, chunk by chunk: a complete draft ends the turn after the hold, speech that
resumes before then joins the same command (nothing applied twice or half), a draft that stops mid-phrase holds
the turn open past the usual silence, and off it all ends on silence alone. Online, Finalize goes at the short
pause whatever the lagging interim words say, and its final decides.

The runner, grammar, dialogue and SQLite store are real; the VAD follows a script of speech probabilities and
the speech-to-text is the drafting engine of ``test_drafts`` (a text per number of chunks fed) or a streaming
one that answers Finalize a few chunks later, so the timing of each case is exact. The same cases with real
models and audio are in ``test_semantic_audio.py``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from device.app import Unit
from device.audio.wav import RecordingSpeaker
from device.dialogue import Dialogue, PolicyConfig
from device.intent.grammar import Grammar
from device.intent.resolver import ChainResolver
from device.inventory.apply import Inventory
from device.inventory.catalog import demo_catalogue
from device.inventory.store import Store
from device.pipeline.endpointing import EndpointConfig
from device.pipeline.events import EventBus
from device.pipeline.runner import VoicePipeline
from device.pipeline.semantic import Closers, SemanticConfig, Verdict, judge
from device.pipeline.speaking import ReplySpeaker
from device.pipeline.turns import UtteranceResult
from device.protocols import Transcript
from tests.pipeline.test_drafts import (
    CHUNK,
    QUIET,
    SPEECH,
    DraftingStt,
    ScriptedVad,
    Session,
    SilentTts,
    ZeroMicrophone,
    kinds,
    script,
)

C = 0.032
GRAMMAR = Grammar(demo_catalogue())


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "larder.db") as opened:
        yield opened


def grammar_judge(text: str) -> Verdict:
    return judge(text, GRAMMAR.parse(text), Closers.of(GRAMMAR.catalogue), min_confidence=0.8)


def listen(
    store: Store,
    stt: DraftingStt | StreamingStt,
    probabilities: list[float],
    *,
    semantic: bool = True,
    dialogue: Dialogue | None = None,
    speaker: ReplySpeaker | None = None,
    bus: EventBus | None = None,
    preview: Callable[[str], str | None] | None = None,
) -> UtteranceResult | None:
    pipeline = VoicePipeline(
        microphone=ZeroMicrophone(len(probabilities) + 40),
        wake=None,
        vad=ScriptedVad(probabilities),
        endpoint=EndpointConfig(),
        stt=stt,
        resolver=ChainResolver(GRAMMAR, None, min_confidence=0.6),
        dialogue=dialogue or Dialogue(Inventory(store), store, PolicyConfig()),
        speaker=speaker or ReplySpeaker(SilentTts(), RecordingSpeaker()),
        bus=bus or EventBus(),
        clock=None,
        semantic=SemanticConfig() if semantic else None,
        judge=grammar_judge,
        preview=preview,
    )

    async def run() -> UtteranceResult | None:
        return await pipeline.listen_and_respond(pipeline.microphone.chunks())

    return asyncio.run(run())


def oat_milk(store: Store) -> float:
    return sum(row.quantity for row in store.stock() if row.item == "oat milk")


def changes(store: Store) -> int:
    """Journal events that changed stock."""
    return sum(1 for event in store.journal() if event.deltas)


def words_by_chunk(*steps: tuple[int, str]) -> Callable[[int], str]:
    """What the engine hears after ``fed`` chunks: the text of the last step at or below it."""

    def hear(fed: int) -> str:
        return next(text for at, text in reversed(steps) if fed >= at)

    return hear


WHOLE = "add three cartons of oat milk to the walk-in"


class StreamingStt:
    """A streaming engine: interim words ``interim(chunks fed)`` as audio comes, and ``Finalize``'s answer
    ``hear(chunks fed)`` (all the audio so far), ``answer_after`` chunks later. Records every call."""

    name = "streaming"

    def __init__(self, hear: Callable[[int], str], interim: Callable[[int], str], answer_after: int) -> None:
        self.hear, self.interim, self.answer_after = hear, interim, answer_after
        self.calls: list[tuple[str, int]] = []

    async def start(self, on_interim: Callable[[Transcript], None] | None = None) -> StreamingSession:
        return StreamingSession(self, on_interim or (lambda transcript: None))

    def set_catalogue(self, catalogue: object) -> None:
        return None


class StreamingSession:
    def __init__(self, stt: StreamingStt, on_interim: Callable[[Transcript], None]) -> None:
        self.stt, self.on_interim = stt, on_interim
        self.fed = 0
        self.said = ""
        self.fed_changed = asyncio.Event()

    async def feed(self, chunk: object) -> None:
        self.fed += 1
        self.fed_changed.set()
        words = self.stt.interim(self.fed)
        if words != self.said:
            self.said = words
            self.on_interim(Transcript(text=words, engine="streaming", is_final=False))

    async def finalize(self) -> Transcript:
        asked = self.fed
        self.stt.calls.append(("finalize", asked))
        while self.fed < asked + self.stt.answer_after:
            self.fed_changed.clear()
            await self.fed_changed.wait()
        return Transcript(text=self.stt.hear(asked), engine="streaming", is_final=True)

    async def finish(self) -> Transcript:
        self.stt.calls.append(("finish", self.fed))
        return Transcript(text=self.stt.hear(self.fed), engine="streaming", is_final=True)

    async def abort(self) -> None:
        return None


def test_a_complete_draft_ends_the_turn_after_the_hold(store: Store) -> None:
    stt = DraftingStt(lambda fed: WHOLE)
    result = listen(store, stt, script((QUIET, 5), (SPEECH, 40), (QUIET, 40)))
    assert result is not None and result.endpoint.reason == "semantic"
    assert result.endpoint.delay_s == pytest.approx(11 * C)  # 0.35 s rounded up to whole chunks
    assert kinds(stt) == ["draft", "reconsider", "adopt"]  # the draft that decided is the transcript
    assert result.command is not None and result.command.location == "walk-in"
    assert result.status == "applied" and oat_milk(store) > 0


def test_off_the_same_command_waits_for_the_full_silence(store: Store) -> None:
    stt = DraftingStt(lambda fed: WHOLE)
    result = listen(store, stt, script((QUIET, 5), (SPEECH, 40), (QUIET, 40)), semantic=False)
    assert result is not None and result.endpoint.reason == "silence"
    assert result.endpoint.delay_s == pytest.approx(16 * C)


def test_speech_that_resumes_before_the_hold_joins_the_command(store: Store) -> None:
    """ "add three cartons of oat milk" reads as complete; the cook goes on 0.26 s later: one command, whole."""
    stt = DraftingStt(words_by_chunk((0, "add three cartons of oat milk"), (60, WHOLE)))
    result = listen(store, stt, script((QUIET, 5), (SPEECH, 30), (QUIET, 8), (SPEECH, 20), (QUIET, 40)))
    assert result is not None and result.transcript == WHOLE
    assert ("adopt", "add three cartons of oat milk") not in stt.calls
    assert result.command is not None and result.command.location == "walk-in"
    assert changes(store) == 1  # applied once, whole


def test_a_draft_that_stops_mid_phrase_holds_the_turn_past_the_usual_silence(store: Store) -> None:
    """ "add three cartons of ..." then 0.7 s of thought: on silence alone the turn ends in the pause."""
    hear = words_by_chunk((0, "add three cartons of"), (70, WHOLE))
    probabilities = script((QUIET, 5), (SPEECH, 25), (QUIET, 22), (SPEECH, 25), (QUIET, 40))
    stt = DraftingStt(hear)
    result = listen(store, stt, probabilities)
    assert result is not None and result.transcript == WHOLE and result.status == "applied"
    assert result.command is not None and result.command.item == "oat milk"
    off = DraftingStt(hear)
    cut = listen(store, off, probabilities, semantic=False)
    assert cut is not None and cut.transcript == "add three cartons of" and cut.status != "applied"
    assert changes(store) == 1  # the half was refused, nothing changed


def test_an_unsure_draft_ends_on_the_usual_silence(store: Store) -> None:
    stt = DraftingStt(lambda fed: "add two bags of coffee")  # "coffee beans" may follow
    result = listen(store, stt, script((QUIET, 5), (SPEECH, 30), (QUIET, 40)))
    assert result is not None and result.endpoint.reason == "silence"
    assert result.endpoint.delay_s == pytest.approx(16 * C)


def test_the_unit_judges_with_its_grammar_and_catalogue(make_unit: Callable[..., Unit]) -> None:
    unit = make_unit()
    assert unit.judge("add three cartons of oat milk") is Verdict.COMPLETE
    assert unit.judge("add three cartons of") is Verdict.INCOMPLETE
    assert unit.pipeline(ZeroMicrophone(1), RecordingSpeaker(), wake=False).semantic is not None
    assert unit.pipeline(ZeroMicrophone(1), RecordingSpeaker(), wake=False, semantic=False).semantic is None
    assert CHUNK.size == 512


class FirstDraftSlow(DraftingStt):
    """The first draft is only ready once ``ready_at`` chunks have been fed (a loaded machine's Whisper)."""

    def __init__(self, hear: Callable[[int], str], ready_at: int) -> None:
        super().__init__(hear)
        self.ready_at = ready_at

    async def start(self, on_interim: Callable[[Transcript], None] | None = None) -> Session:
        session = Session(self)
        slow = session.draft

        async def draft(wanted: Callable[[], bool] | None = None) -> Transcript:
            first = not any(kind == "draft" for kind, _ in self.calls)
            heard = await slow(wanted)
            while first and session.fed < self.ready_at:
                await asyncio.sleep(0)
            return heard

        session.draft = draft  # type: ignore[method-assign]
        return session


def test_a_pause_waits_for_its_draft_while_a_stale_one_is_still_busy(store: Store) -> None:
    """A draft made in a short gap goes stale and is still busy when the cook stops to think 0.64 s: the pause
    has no draft of its own yet, so the turn waits for one rather than end on silence in the middle."""
    hear = words_by_chunk((0, "add three cartons of"), (60, WHOLE))
    probabilities = script(
        (QUIET, 5), (SPEECH, 20), (QUIET, 4), (SPEECH, 10), (QUIET, 20), (SPEECH, 20), (QUIET, 40)
    )
    stt = FirstDraftSlow(hear, ready_at=5 + 20 + 4 + 10 + 18)
    result = listen(store, stt, probabilities)
    assert result is not None and result.transcript == WHOLE and result.status == "applied"
    off = FirstDraftSlow(hear, ready_at=5 + 20 + 4 + 10 + 18)
    cut = listen(store, off, probabilities, semantic=False)
    assert cut is not None and cut.transcript == "add three cartons of"


def test_online_finalize_goes_at_the_pause_though_the_last_interim_stops_mid_phrase(store: Store) -> None:
    """Interim words lag the audio: at the pause the last interim is "... to the" (mid-phrase). Finalize still
    goes at 0.1 s of pause; its final is the whole command, answered five chunks later, and ends the turn early."""
    stt = StreamingStt(
        hear=lambda fed: WHOLE,
        interim=words_by_chunk((0, "add three cartons of oat milk to the"), (52, WHOLE)),
        answer_after=5,
    )
    result = listen(store, stt, script((QUIET, 5), (SPEECH, 40), (QUIET, 40)))
    assert result is not None and result.endpoint.reason == "semantic"
    assert stt.calls == [("finalize", 45 + 4)]  # 0.1 s: 4 chunks of pause
    # answered 5 chunks after it and read at the next chunk; the turn ends once the pause reaches the hold
    assert result.endpoint.delay_s == pytest.approx(11 * C)
    assert result.transcript == WHOLE and result.status == "applied" and changes(store) == 1


def test_online_a_final_that_stops_mid_phrase_holds_the_turn_open(store: Store) -> None:
    """Finalize in a 0.64 s pause answers "add three cartons of": the turn waits, the cook goes on, a second
    Finalize at the end answers the whole command, applied once."""
    hear = words_by_chunk((0, "add three cartons of"), (55, WHOLE))
    stt = StreamingStt(hear=hear, interim=hear, answer_after=5)
    result = listen(store, stt, script((QUIET, 5), (SPEECH, 25), (QUIET, 20), (SPEECH, 25), (QUIET, 40)))
    assert result is not None and result.transcript == WHOLE and result.status == "applied"
    assert [kind for kind, _ in stt.calls] == ["finalize", "finalize"]
    assert changes(store) == 1
