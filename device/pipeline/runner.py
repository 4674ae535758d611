"""The voice pipeline as explicit asyncio stages: wake -> listen -> transcribe -> resolve -> confirm -> apply -> speak.

``VoicePipeline`` consumes microphone chunks. Idle, it feeds the wake detector; after a wake (word, button or a
follow-up question) it streams the command to speech-to-text while the pure ``Endpointer`` decides when the cook
stopped. Then each stage runs under its own time box, announcing typed events on the bus. A failing stage is
reported (event + error tone + a short apology) and the pipeline goes back to idle: it never dies on bad input.

Audio time (``audio_s``, seconds of audio consumed) is the pipeline's notion of "when"; chunks that arrive while
the unit is busy or speaking are dropped (the microphone is gated on its own voice).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import TypeVar

from device.errors import LarderError, StageTimeout
from device.intent.command import Resolver, with_rivals
from device.pipeline import events as ev
from device.pipeline.endpointing import Endpoint, EndpointConfig, Endpointer
from device.pipeline.pausing import EarlyFinal, Judge, PauseWatch
from device.pipeline.semantic import SemanticConfig
from device.pipeline.speaking import ReplySpeaker
from device.pipeline.turns import DialoguePort, Draft, StageTimeouts, TurnLike, UtteranceResult
from device.protocols import (
    CHUNK_SECONDS,
    Audio,
    DraftingSession,
    IntentResolver,
    Microphone,
    SpeechToText,
    SttSession,
    Transcript,
    Vad,
    WakeDetector,
)
from device.wake import PreRoll

log = logging.getLogger(__name__)
T = TypeVar("T")


class VoicePipeline:
    """Runs the stages over a microphone; all parts come in through the constructor."""

    def __init__(
        self,
        *,
        microphone: Microphone,
        wake: WakeDetector | None,
        vad: Vad,
        endpoint: EndpointConfig,
        stt: SpeechToText,
        resolver: IntentResolver,
        dialogue: DialoguePort,
        speaker: ReplySpeaker,
        bus: ev.EventBus,
        clock: Callable[[], float] | None = time.time,
        timeouts: StageTimeouts | None = None,
        followup_s: float = 5.0,
        is_muted: Callable[[float], bool] = lambda now: False,
        preroll_s: float = 0.5,
        draft_after_s: float = 0.05,
        semantic: SemanticConfig | None = None,
        judge: Judge | None = None,
        preview: Callable[[str], str | None] | None = None,
    ) -> None:
        self.microphone = microphone
        self.wake = wake
        self.vad = vad
        self.endpoint_config = endpoint
        self.stt = stt
        self.resolver = resolver
        self.dialogue = dialogue
        self.speaker = speaker
        self.bus = bus
        self.audio_s = 0.0
        epoch = time.time()
        # no clock: time follows the audio (a file played faster than real time keeps confirmation windows true)
        self.clock = clock or (lambda: epoch + self.audio_s)
        self.timeouts = timeouts or StageTimeouts()
        #: semantic endpointing (None: off): the words heard end a turn, the endpointer only after the longest wait
        self.semantic = semantic if judge is not None else None
        self.judge = judge
        #: what the unit would say first to words judged complete, if it would apply or answer them at once
        #: (rendered while Finalize is answered)
        self.preview = preview
        if self.semantic is not None:
            self.endpoint_config = endpoint = dataclasses.replace(
                endpoint, end_silence_s=self.semantic.open_silence_s
            )
        self.followup = dataclasses.replace(endpoint, no_speech_timeout_s=followup_s)
        self._watch: PauseWatch | None = None
        self.is_muted = is_muted
        self.preroll_s = preroll_s
        self.draft_after_s = draft_after_s
        # room for a wake decided late (a borderline score is confirmed up to ~0.3 s after the word)
        self.preroll = PreRoll(preroll_s + 1.0)
        self._gate_until_s = 0.0
        self._listen_next: str | None = None
        self._next_tick_s = 0.0
        self.heartbeat: Callable[[], None] = lambda: None

    # --- inputs from outside the audio stream (buttons, timeouts) ---

    def push_to_talk(self) -> None:
        """Start listening on the next chunk, as if woken (a button press with nothing to settle)."""
        self._listen_next = "button"

    async def announce(self, turn: TurnLike) -> None:
        """Say a turn that did not come from speech (a button press, a confirmation that timed out)."""
        self.bus.publish(ev.Outcome(status=turn.status, reply=turn.reply, event_id=turn.event_id))
        await self._speak(turn.reply)
        if turn.expects_answer:
            self._listen_next = "followup"

    # --- the main loop ---

    async def run(self) -> None:
        """Listen until the microphone ends (a file) or the task is cancelled (the daemon)."""
        self._state("idle")
        chunks = self.microphone.chunks()
        async for chunk in chunks:
            self.heartbeat()
            self.audio_s += CHUNK_SECONDS
            await self._tick()
            if self.audio_s <= self._gate_until_s:
                self.preroll.clear()
                continue
            source, self._listen_next = self._listen_next, None
            if source is None:
                if self.is_muted(self.clock()):
                    self.preroll.clear()
                    continue
                self.preroll.push(chunk)
                if self.wake is None:
                    continue
                # a borderline score asks Whisper to confirm: keep that off the event loop
                hit = await asyncio.to_thread(self.wake.process, chunk)
                if hit is None:
                    continue
                source = "wake_word"
                self.bus.publish(ev.Wake(model=hit.model, score=hit.score, audio_s=self.audio_s))
                late_s = max(0.0, getattr(self.wake, "now_s", hit.at_s) - hit.at_s)
                before = self.preroll.drain(self.preroll_s + late_s)
            else:
                self.bus.publish(ev.Wake(model=source, score=1.0, source=source, audio_s=self.audio_s))
                before = [chunk]
            if source != "followup":
                await self._chime()
            result = await self.listen_and_respond(chunks, followup=source == "followup", preroll=before)
            if result is not None and result.status == "pending":
                self._listen_next = "followup"
            if self.wake is not None:
                self.wake.reset()
            self._state("idle")

    async def listen_and_respond(
        self, chunks: AsyncIterator[Audio], *, followup: bool = False, preroll: Sequence[Audio] = ()
    ) -> UtteranceResult | None:
        """Capture one command from ``chunks`` (after the ``preroll`` audio), then run every later stage."""
        self._state("listening")
        self.bus.publish(ev.Listening(followup=followup, audio_s=self.audio_s))
        endpointer = Endpointer(
            self.followup if followup else self.endpoint_config, preroll_s=len(preroll) * CHUNK_SECONDS
        )
        self.vad.reset()
        session: SttSession | None = None
        watch = self._watch = None
        try:
            session = await asyncio.wait_for(self.stt.start(self._interim), self.timeouts.transcribe)
            if self.semantic and self.judge:  # built once the session says whether it makes drafts
                drafts = bool(self.draft_after_s) and isinstance(session, DraftingSession)
                watch = self._watch = PauseWatch(
                    self.semantic,
                    self.judge,
                    endpointer,
                    drafts=drafts,
                    publish=self.bus.publish,
                    complete=self._prepare_reply,
                )
            endpoint, draft = await self._capture(chunks, endpointer, session, preroll)
        except (LarderError, TimeoutError, OSError) as exc:
            if session is not None:
                await session.abort()
            self._error(exc, "listen")
            return None
        delay = max(0.0, endpoint.delay_s)
        self.bus.publish(
            ev.SpeechEnd(
                reason=endpoint.reason,
                speech_s=endpoint.speech_s,
                endpoint_delay_s=delay,
                audio_s=self.audio_s,
            )
        )
        if endpoint.reason == "no_speech":
            await session.abort()
            return None
        early = watch.early if watch is not None else None
        return await self.respond(
            session,
            endpoint,
            delay,
            draft if draft and draft.matches(endpoint) else None,
            early if early is not None and early.matches(endpoint) else None,
        )

    async def _capture(
        self,
        chunks: AsyncIterator[Audio],
        endpointer: Endpointer,
        session: SttSession,
        preroll: Sequence[Audio],
    ) -> tuple[Endpoint, Draft | None]:
        iterator = aiter(chunks)
        pending = list(preroll)
        draft: Draft | None = None
        while True:
            if pending:
                chunk = pending.pop(0)
            else:
                try:
                    chunk = await anext(iterator)
                except StopAsyncIteration:
                    return endpointer.finish(), draft
                self.heartbeat()
                self.audio_s += CHUNK_SECONDS
            await session.feed(chunk)
            decided = endpointer.feed_probability(CHUNK_SECONDS, self.vad.speech_probability(chunk))
            if decided is not None:
                return decided, draft
            draft = self._maybe_draft(session, endpointer, draft)
            step = self._watch.step(session, draft) if self._watch is not None else None
            if step is not None and step.end:
                decided = endpointer.end_now("semantic" if step.early else "silence")
                if decided is not None:
                    return decided, draft

    def _maybe_draft(self, session: SttSession, endpointer: Endpointer, draft: Draft | None) -> Draft | None:
        """Once the cook has paused for ``draft_after_s``, start transcribing what was said so far: if the pause
        becomes the end of the command, the transcript is (nearly) ready when the endpointer decides. A draft
        that is done while the pause lasts is reconsidered at once, so a second guess is ready early too. Speech
        that is still only the wake word's tail in the pre-roll gets no draft."""
        end = endpointer.speech_end_s
        if draft is not None and draft.speech_end_s != end:
            draft.stale.set()
        if not self.draft_after_s or end is None or not isinstance(session, DraftingSession):
            return draft
        if not endpointer.past_wake_word:
            return draft
        if draft is not None and draft.speech_end_s == end:
            if draft.second_guess is None and draft.task.done() and not draft.task.exception():
                guess = asyncio.ensure_future(session.reconsider(draft.task.result()))
                return dataclasses.replace(draft, second_guess=guess)
            return draft
        if endpointer.silence_s < self.draft_after_s:
            return draft
        if draft is not None and draft.busy:
            return draft  # one at a time; a stale one finishes in the background
        stale = threading.Event()
        task = asyncio.ensure_future(session.draft(wanted=lambda: not stale.is_set()))
        log.debug("draft transcription of speech up to %.2f s, started at %.2f s", end, endpointer.elapsed_s)
        self.bus.publish(ev.DraftStarted(speech_end_s=end, audio_s=self.audio_s))
        return Draft(task=task, speech_end_s=end, started_s=endpointer.elapsed_s, stale=stale)

    async def respond(
        self,
        session: SttSession,
        endpoint: Endpoint,
        delay: float,
        draft: Draft | None = None,
        early: EarlyFinal | None = None,
    ) -> UtteranceResult | None:
        """Transcribe (or take the draft made during the final pause, or the final transcript asked for at a
        semantic end) -> resolve -> dialogue -> speak."""
        self._state("thinking")
        started = time.monotonic()
        try:
            transcript: Transcript = await self._stage(
                "transcribe", self._transcript(session, draft, early), self.timeouts.transcribe
            )
        except LarderError as exc:
            await session.abort()
            self._error(exc, "transcribe")
            await self._apologise()
            return None
        heard = time.monotonic()
        self.bus.publish(
            ev.TranscriptReady(
                text=transcript.text, engine=transcript.engine, seconds=heard - started, audio_s=self.audio_s
            )
        )
        try:
            command = await self._stage(
                "resolve", self.resolver.resolve(transcript.text), self.timeouts.resolve
            )
            if transcript.rank and command.resolver is Resolver.GRAMMAR:
                # read from the recogniser's second guess: worth a yes before it changes stock
                command = dataclasses.replace(command, resolver=Resolver.GRAMMAR_RUNNER_UP)
            if transcript.rivals:  # close readings that mean another change: the dialogue asks which
                command = with_rivals(command, [await self.resolver.resolve(t) for t in transcript.rivals])
            resolved = time.monotonic()
            self.bus.publish(
                ev.CommandResolved(command=command, seconds=resolved - heard, audio_s=self.audio_s)
            )
            turn = self.dialogue.handle(command, self.clock())
        except LarderError as exc:
            self._error(exc, "resolve")
            await self._apologise()
            return None
        decided = time.monotonic()
        self.bus.publish(ev.Outcome(status=turn.status, reply=turn.reply, event_id=turn.event_id))
        first_audio = await self._speak(turn.reply)
        return UtteranceResult(
            transcript=transcript.text,
            engine=transcript.engine,
            command=command,
            reply=turn.reply,
            status=turn.status if not turn.expects_answer else "pending",
            endpoint=endpoint,
            endpoint_delay_s=delay,
            speech_end_to_transcript_s=heard - started,
            transcript_to_command_s=resolved - heard,
            command_to_first_audio_s=(first_audio or decided) - resolved,
            draft_lead_s=endpoint.decided_at_s - draft.started_s if draft else 0.0,
        )

    # --- helpers ---

    async def _transcript(
        self, session: SttSession, draft: Draft | None, early: EarlyFinal | None
    ) -> Transcript:
        if early is not None:
            final = await early.task
            if final is not None:
                await session.abort()  # the stream's words are final: close it
                return final
        if draft is None:
            log.debug("no draft covers the end of speech: transcribing now")
            return await session.finish()
        assert isinstance(session, DraftingSession)  # only a drafting session makes drafts
        try:
            heard = await draft.task
            if draft.second_guess is not None:
                await draft.second_guess  # adopting uses what it found
            return await session.adopt(heard)
        finally:
            await session.abort()  # the audio is transcribed: drop it

    async def _stage(self, name: str, work: Awaitable[T], seconds: float) -> T:
        try:
            return await asyncio.wait_for(work, seconds)
        except TimeoutError:
            raise StageTimeout(name, seconds) from None

    async def _speak(self, text: str) -> float | None:
        """Speak a reply clause by clause; gate the microphone for as long as it plays."""
        if not text:
            return None
        self._state("speaking")
        began = time.monotonic()

        def started() -> None:
            self.bus.publish(ev.ReplyStarted(text=text, audio_s=self.audio_s))

        try:
            first_audio, seconds = await asyncio.wait_for(
                self.speaker.say(text, started), self.timeouts.speak
            )
        except (LarderError, TimeoutError, OSError) as exc:
            self._error(exc, "speak")
            return None
        self.bus.publish(ev.ReplyDone(text=text, audio_s=self.audio_s))
        self._gate(time.monotonic() - began, seconds)
        return first_audio

    async def _chime(self) -> None:
        try:
            seconds = await self.speaker.earcon("wake")
        except (LarderError, OSError) as exc:
            self._error(exc, "speak")
            return
        self._gate(0.0, seconds)
        # the chime is short and the cook starts talking over it: don't drop their first word
        self._gate_until_s = self.audio_s

    def _gate(self, busy_s: float, played_s: float) -> None:
        """Drop the audio captured while the unit was busy and speaking, plus a short tail of echo."""
        self._gate_until_s = self.audio_s + max(busy_s, played_s) + 0.25
        if self.wake is not None:
            self.wake.reset()

    async def _apologise(self) -> None:
        with contextlib.suppress(LarderError, OSError):
            await self.speaker.earcon("error")
        await self._speak("Sorry, something went wrong. Please try again.")

    async def _tick(self) -> None:
        if self.audio_s < self._next_tick_s:
            return
        self._next_tick_s = self.audio_s + 0.5
        turn = self.dialogue.tick(self.clock())
        if turn is not None:
            await self.announce(turn)

    def _prepare_reply(self, text: str, speech_end_s: float) -> None:
        """Words judged complete: render the first clause of what the unit would say to them now."""
        if self.preview is None:
            return
        try:
            reply = self.preview(text)
        except Exception as exc:  # a guess only: it must never break the turn, which reports real failures
            log.warning("no reply prepared ahead: %s", exc)
            return
        if reply:
            clause = self.speaker.prepare(reply)
            self.bus.publish(ev.ReplyPrepared(speech_end_s=speech_end_s, text=clause, audio_s=self.audio_s))

    def _interim(self, transcript: Transcript) -> None:
        if self._watch is not None:
            self._watch.heard(transcript)
        self.bus.publish(
            ev.InterimTranscript(text=transcript.text, engine=transcript.engine, audio_s=self.audio_s)
        )

    def _state(self, state: str) -> None:
        self.bus.publish(ev.StateChanged(state=state, audio_s=self.audio_s))

    def _error(self, exc: BaseException, stage: str) -> None:
        code = exc.code if isinstance(exc, LarderError) else stage
        message = exc.message if isinstance(exc, LarderError) else f"{stage}: {exc}"
        log.warning("%s stage failed: %s", stage, message)
        self.bus.publish(ev.ErrorEvent(code=code, message=message, audio_s=self.audio_s))
        self._state("error")
