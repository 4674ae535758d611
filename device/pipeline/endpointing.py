"""The endpointer: a pure segmenter that decides when a spoken command has ended.

It is fed ``(chunk_seconds, is_speech)`` per chunk, or ``(chunk_seconds, probability)`` with the VAD's speech
probability, and knows nothing of audio, clocks or asyncio; all times are seconds from the first chunk fed. Rules:

- a probability counts as speech at ``speech_threshold`` until a command has ``min_speech_s`` of speech (so a
  short "no" is not taken for a blip), and only at the higher ``hold_threshold`` after that: kitchen clatter
  right after the last word scores in between, and would otherwise hold the command open (measured: endpoint
  delay p95 0.85 -> 0.76 s over 96 noisy clips, none cut);

- speech starts after ``start_chunks`` speech chunks in a row (one noisy chunk does not start a command);
- inside a command, a gap shorter than ``end_silence_s`` is bridged, and a lone speech chunk inside a gap is
  treated as noise (it takes ``resume_chunks`` in a row to resume), so flickering noise cannot hold it open;
- speech shorter than ``min_speech_s`` is a blip (a cough, a clatter): forgotten, and listening goes on; so is
  speech that ends within the first ``preroll_s`` (audio from before the wake: the wake word's own tail), or
  less than ``WAKE_TAIL_S`` after it (Silero scores a chunk or two past the end of a word);
- it ends by ``silence`` after ``end_silence_s`` without speech, by ``semantic`` when the caller ends it early
  (``end_now``: the words heard close a command, see ``semantic``), by ``max_length`` at ``max_command_s`` after
  speech started, or by ``no_speech`` when nothing has started ``no_speech_timeout_s`` after the first chunk.
"""

from __future__ import annotations

from dataclasses import dataclass

from device.settings import Settings

#: Speech that ends less than this after the pre-roll is still the wake word (Silero lags a word by 1-2 chunks).
WAKE_TAIL_S = 0.1


@dataclass(frozen=True)
class EndpointConfig:
    end_silence_s: float = 0.5
    min_speech_s: float = 0.25
    max_command_s: float = 10.0
    no_speech_timeout_s: float = 4.0
    start_chunks: int = 2
    resume_chunks: int = 2
    speech_threshold: float = 0.5
    hold_threshold: float = 0.7

    @classmethod
    def from_settings(cls, settings: Settings, *, no_speech_timeout_s: float | None = None) -> EndpointConfig:
        """From settings; a follow-up turn passes its own ``no_speech_timeout_s`` (``followup_s``)."""
        return cls(
            end_silence_s=settings.end_silence_s,
            min_speech_s=settings.min_command_s,
            max_command_s=settings.max_command_s,
            no_speech_timeout_s=no_speech_timeout_s or settings.no_speech_timeout_s,
            speech_threshold=settings.vad_threshold,
            hold_threshold=max(settings.vad_threshold, settings.vad_hold_threshold),
        )


@dataclass(frozen=True)
class Endpoint:
    """Why and when a command ended; times are seconds from the first chunk fed."""

    reason: str  # "silence" | "semantic" | "max_length" | "no_speech"
    speech_start_s: float | None
    speech_end_s: float | None
    decided_at_s: float

    @property
    def speech_s(self) -> float:
        if self.speech_start_s is None or self.speech_end_s is None:
            return 0.0
        return self.speech_end_s - self.speech_start_s

    @property
    def delay_s(self) -> float:
        """From the end of speech to the decision (the endpointing latency)."""
        return self.decided_at_s - self.speech_end_s if self.speech_end_s is not None else 0.0


class Endpointer:
    """Feed it chunk by chunk; it returns ``None`` until it decides, then the same ``Endpoint`` every time.

    ``finish`` forces a decision when the audio runs out first.
    """

    def __init__(self, config: EndpointConfig | None = None, *, preroll_s: float = 0.0) -> None:
        self.config = config or EndpointConfig()
        self.preroll_s = preroll_s
        self._now = 0.0
        self._run = 0  # speech chunks in a row
        self._run_start = 0.0
        self._speech_start: float | None = None  # set while a command is in progress
        self._speech_end = 0.0  # end of the last speech chunk counted
        self._in_gap = False
        self._result: Endpoint | None = None

    @property
    def elapsed_s(self) -> float:
        return self._now

    @property
    def in_speech(self) -> bool:
        """A command has started and not yet ended."""
        return self._speech_start is not None and self._result is None

    @property
    def speech_end_s(self) -> float | None:
        """End of the last speech counted in the command in progress."""
        return self._speech_end if self.in_speech else None

    @property
    def past_wake_word(self) -> bool:
        """The command in progress has speech beyond the wake word's tail in the pre-roll."""
        return self.in_speech and self._speech_end > self._wake_tail_s + 1e-9

    @property
    def silence_s(self) -> float:
        """How long the command in progress has been silent (0 while speaking or before it starts)."""
        return self._now - self._speech_end if self.in_speech else 0.0

    def feed(self, chunk_seconds: float, is_speech: bool) -> Endpoint | None:
        if self._result is not None:
            return self._result
        chunk_start = self._now
        self._now += chunk_seconds
        if is_speech:
            if self._run == 0:
                self._run_start = chunk_start
            self._run += 1
        else:
            self._run = 0
        if self._speech_start is None:
            self._result = self._waiting()
        else:
            self._result = self._speaking(is_speech)
        return self._result

    def feed_probability(self, chunk_seconds: float, probability: float) -> Endpoint | None:
        """Feed the VAD's speech probability; the threshold depends on whether a command is in progress."""
        cfg = self.config
        held = self._speech_start is not None and self._speech_end - self._speech_start >= cfg.min_speech_s
        return self.feed(chunk_seconds, probability >= (cfg.hold_threshold if held else cfg.speech_threshold))

    def end_now(self, reason: str = "semantic") -> Endpoint | None:
        """End the command in progress now, on the caller's judgement (its words already close it); None when
        no command is in progress. The decision is kept, as every other one is."""
        if self._result is None and self.in_speech:
            assert self._speech_start is not None
            if not self._is_command(self._speech_start, self._speech_end):
                return None
            self._result = Endpoint(reason, self._speech_start, self._speech_end, self._now)
        return self._result

    def finish(self) -> Endpoint:
        """The audio ended (a file, a closed microphone): decide now from what was heard."""
        if self._result is None:
            start, end = self._speech_start, self._speech_end
            if start is not None and self._is_command(start, end):
                self._result = Endpoint("silence", start, end, self._now)
            else:
                self._result = Endpoint("no_speech", None, None, self._now)
        return self._result

    def _waiting(self) -> Endpoint | None:
        cfg = self.config
        if self._run >= cfg.start_chunks:
            self._speech_start = self._run_start
            self._speech_end = self._now
            self._in_gap = False
            return self._speaking(True)
        if self._now >= cfg.no_speech_timeout_s:
            return Endpoint("no_speech", None, None, self._now)
        return None

    def _speaking(self, is_speech: bool) -> Endpoint | None:
        cfg = self.config
        assert self._speech_start is not None
        if is_speech and (not self._in_gap or self._run >= cfg.resume_chunks):
            self._speech_end = self._now
            self._in_gap = False
        elif not is_speech:
            self._in_gap = True
        if self._now - self._speech_start >= cfg.max_command_s:
            return Endpoint("max_length", self._speech_start, self._speech_end, self._now)
        if self._now - self._speech_end < cfg.end_silence_s:
            return None
        if self._is_command(self._speech_start, self._speech_end):
            return Endpoint("silence", self._speech_start, self._speech_end, self._now)
        # A blip, or the wake word's tail: forget it and keep listening.
        self._speech_start = None
        self._in_gap = False
        if self._now >= cfg.no_speech_timeout_s:
            return Endpoint("no_speech", None, None, self._now)
        return None

    @property
    def _wake_tail_s(self) -> float:
        return self.preroll_s + WAKE_TAIL_S if self.preroll_s > 0 else 0.0

    def _is_command(self, start: float, end: float) -> bool:
        return end - start >= self.config.min_speech_s and end > self._wake_tail_s + 1e-9
