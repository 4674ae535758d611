"""The runner's side of semantic endpointing: which hearing of the cook's current pause is judged, and the early
final transcript asked of a streaming engine.

Per chunk of a pause, ``PauseWatch.step`` picks the freshest hearing of the words up to the pause: the draft (or
its second guess) when the offline engine made one for this pause, else the early final a streaming engine gave,
else its latest interim. With an offline engine a pause without its draft yet (a stale one still busy) waits for
it, as for one in progress. The pure ``semantic.judge`` reads it (memoised per text; a streaming engine's hearing
judged complete is passed on at once, so its reply can be rendered while Finalize is answered) and
``semantic.decide`` says whether to ask for the final transcript now (Deepgram's ``Finalize``, via
``FinalizingSession.finalize``) and whether the turn ends. An early final is awaited before the turn ends (it is
the transcript used), so its own words are judged again first. An interim may lag the audio (Deepgram sends one
about once a second): words that stop mid-phrase in it do not hold the Finalize back, only the final's words can
hold a turn open.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from device.pipeline import events as ev
from device.pipeline.endpointing import Endpoint, Endpointer
from device.pipeline.semantic import SemanticConfig, Step, Verdict, decide
from device.pipeline.turns import Draft
from device.protocols import FinalizingSession, SttSession, Transcript

log = logging.getLogger(__name__)

Judge = Callable[[str], Verdict]


@dataclass(frozen=True)
class EarlyFinal:
    """A final transcript asked for at a pause (good only if no speech came after ``speech_end_s``)."""

    task: asyncio.Future[Transcript | None]
    speech_end_s: float

    def matches(self, endpoint: Endpoint) -> bool:
        return endpoint.reason in ("semantic", "silence") and endpoint.speech_end_s == self.speech_end_s


class PauseWatch:
    """One command's semantic endpointing state: the latest interim, the early final, judged texts."""

    def __init__(
        self,
        config: SemanticConfig,
        judge: Judge,
        endpointer: Endpointer,
        *,
        drafts: bool = False,
        publish: Callable[[ev.Event], None] = lambda event: None,
        complete: Callable[[str, float], None] = lambda text, end: None,
    ) -> None:
        self.config = config
        self.judge = judge
        self.endpointer = endpointer
        #: announces each hearing's first verdict and each early Finalize (for the benchmark's stages)
        self.publish = publish
        #: told of each streaming hearing (interim or final) judged complete: its text and end of speech, once
        self.complete = complete
        self._announced: set[tuple[float, str]] = set()
        #: the engine makes drafts: a pause without one yet (a stale draft still busy) will have one
        self.drafts = drafts
        self.early: EarlyFinal | None = None
        self._interim = ""
        self._verdicts: dict[str, Verdict] = {}

    def heard(self, transcript: Transcript) -> None:
        """An interim transcript arrived (streaming engines only)."""
        self._interim = transcript.text

    def step(self, session: SttSession, draft: Draft | None) -> Step:
        endpointer = self.endpointer
        end = endpointer.speech_end_s
        if end is None or endpointer.silence_s <= 0 or not endpointer.past_wake_word:
            return Step()
        verdict, pending = self._verdict(end, draft)
        step = decide(verdict, endpointer.silence_s, self.config, draft_pending=pending)
        if step.finalize and isinstance(session, FinalizingSession) and not self._asked(end):
            task = asyncio.ensure_future(session.finalize())
            task.add_done_callback(_retrieve)
            self.early = EarlyFinal(task, end)
            self.publish(ev.FinalAsked(speech_end_s=end, silence_s=endpointer.silence_s))
            log.debug("semantic end: final transcript asked for at %.2f s", endpointer.elapsed_s)
            return Step(finalize=True)  # judged again on the final's own words before the turn ends
        return step

    def _asked(self, end: float) -> bool:
        return self.early is not None and self.early.speech_end_s == end

    def _verdict(self, end: float, draft: Draft | None) -> tuple[Verdict | None, bool]:
        """The verdict on the freshest hearing of the words up to ``end``, and whether one is on its way."""
        if draft is not None and draft.speech_end_s == end:
            guess = draft.second_guess
            for future in (guess, draft.task):
                if future is not None and future.done() and not future.exception():
                    verdict = self._judged(future.result().text, end, "draft")
                    return verdict, guess is not None and not guess.done()
            return None, True
        if self.drafts:
            return None, True
        if self._asked(end):
            assert self.early is not None
            if not self.early.task.done():
                return None, True
            final = self.early.task.result() if not self.early.task.exception() else None
            if final is not None:
                return self._judged(final.text, end, "final"), False
        if self._interim:
            verdict = self._judged(self._interim, end, "interim")
            return (Verdict.UNSURE if verdict is Verdict.INCOMPLETE else verdict), False
        return None, False

    def _judged(self, text: str, end: float, source: str) -> Verdict:
        new = text not in self._verdicts
        if new:
            self._verdicts[text] = self.judge(text)
        verdict = self._verdicts[text]
        if (end, source) not in self._announced:
            self._announced.add((end, source))
            silence = self.endpointer.silence_s
            self.publish(ev.PauseJudged(speech_end_s=end, source=source, verdict=verdict, silence_s=silence))
        if new and verdict is Verdict.COMPLETE and source != "draft":
            # offline the CPU is busy with Whisper's second guess then, and the turn ends a chunk later anyway
            self.complete(text, end)
        return verdict


def _retrieve(task: asyncio.Future[Transcript | None]) -> None:
    """An early final nobody awaits (the cook spoke on) must not log 'exception never retrieved'."""
    with contextlib.suppress(asyncio.CancelledError, Exception):
        task.result()
