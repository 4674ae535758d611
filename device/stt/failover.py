"""Speech-to-text failover that loses nothing: the cloud engine first, the on-device engine behind it.

A ``FailoverSession`` keeps every chunk of the command it is fed. It streams to the primary (Deepgram) while
the circuit breaker allows; when the primary fails at any point (start, mid-stream, or at ``finish``) the same
audio is replayed into a fallback (Whisper) session and the fallback answers. The cook hears the usual reply,
never about the cloud; ``Transcript.engine`` says who answered and the log says why. The audio is dropped once
transcribed.

``build_speech_to_text`` picks the engine from ``LARDER_STT`` (auto, deepgram, whisper): the daemon, ``larder
listen`` and ``larder simulate`` all build it here so they follow the same path.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable

from device.connectivity import Link
from device.errors import ConfigError, SttError
from device.inventory.catalog import Catalogue
from device.protocols import Audio, FinalizingSession, SpeechToText, SttSession, Transcript
from device.settings import Settings, SttEngine
from device.stt.breaker import CircuitBreaker

log = logging.getLogger(__name__)

Interim = Callable[[Transcript], None]


class FailoverSpeechToText:
    """``primary`` while it works and the breaker allows, ``fallback`` for everything else."""

    name = "failover"

    def __init__(
        self,
        primary: SpeechToText,
        fallback: SpeechToText,
        breaker: CircuitBreaker,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.primary = primary
        self.fallback = fallback
        self.breaker = breaker
        self.clock = clock
        #: whether the primary answers; ``link.on_change`` hears when it stops and when it answers again
        self.link = Link()

    @property
    def last_failure(self) -> str | None:
        """Why the primary last failed (a ``DeepgramError.kind``), for status and doctor; None after a success."""
        return self.link.reason

    def set_catalogue(self, catalogue: Catalogue) -> None:
        self.primary.set_catalogue(catalogue)
        self.fallback.set_catalogue(catalogue)

    async def start(self, on_interim: Interim | None = None) -> FailoverSession:
        session = FailoverSession(self, on_interim)
        if self.breaker.allow(self.clock()):
            try:
                session.primary = await self.primary.start(on_interim)
            except Exception as exc:
                await session.switch(exc)
        else:
            log.debug("speech: %s skipped (circuit open), using %s", self.primary.name, self.fallback.name)
            session.fallback = await self.fallback.start(on_interim)
        return session

    async def close(self) -> None:
        """Close engines that hold connections (Deepgram sends CloseStream)."""
        for engine in (self.primary, self.fallback):
            closer = getattr(engine, "close", None)
            if closer is not None:
                with contextlib.suppress(Exception):
                    await closer()


class FailoverSession:
    """One command: the audio kept until a transcript is final, fed to whichever engine is live."""

    def __init__(self, owner: FailoverSpeechToText, on_interim: Interim | None) -> None:
        self._owner = owner
        self._on_interim = on_interim
        self._audio: list[Audio] = []
        self.primary: SttSession | None = None
        self.fallback: SttSession | None = None
        #: why the primary was given up for this command, if it was
        self.failure: str | None = None

    async def feed(self, chunk: Audio) -> None:
        self._audio.append(chunk.copy())
        if self.primary is not None:
            try:
                await self.primary.feed(chunk)
            except Exception as exc:
                await self.switch(exc)  # replays everything, this chunk included
        elif self.fallback is not None:
            await self.fallback.feed(chunk)

    async def finish(self) -> Transcript:
        try:
            if self.primary is not None:
                try:
                    transcript = await self.primary.finish()
                except Exception as exc:
                    await self.switch(exc)
                else:
                    self._owner.breaker.record_success(self._owner.clock())
                    self._owner.link.record(None)
                    return transcript
            if self.fallback is None:
                raise SttError("no speech-to-text engine was started for this command")
            return await self.fallback.finish()
        finally:
            self._audio.clear()  # privacy: the command's audio is not kept once transcribed

    async def finalize(self) -> Transcript | None:
        """The primary's final transcript of the audio so far, the stream kept open (``FinalizingSession``);
        None when no primary streams or it failed (it is then given up, and ``finish`` asks the fallback)."""
        primary = self.primary
        if not isinstance(primary, FinalizingSession):
            return None
        try:
            transcript = await primary.finalize()
        except Exception as exc:
            if self.primary is primary:
                await self.switch(exc)
            return None
        self._owner.breaker.record_success(self._owner.clock())
        self._owner.link.record(None)
        return transcript

    async def abort(self) -> None:
        self._audio.clear()
        for session in (self.primary, self.fallback):
            if session is not None:
                with contextlib.suppress(Exception):
                    await session.abort()

    async def switch(self, exc: BaseException) -> None:
        """Give up the primary for this command and replay the audio so far into a fallback session."""
        owner = self._owner
        kind = str(getattr(exc, "kind", type(exc).__name__))
        if not isinstance(exc, SttError):
            log.exception("speech: %s raised unexpectedly", owner.primary.name, exc_info=exc)
        owner.breaker.record_failure(owner.clock(), trip=bool(getattr(exc, "permanent", False)))
        owner.link.record(kind)
        self.failure = kind
        log.warning(
            "speech: %s failed (%s: %s); %s answers this command (circuit %s)",
            owner.primary.name,
            kind,
            exc,
            owner.fallback.name,
            owner.breaker.state,
        )
        if self.primary is not None:
            with contextlib.suppress(Exception):
                await self.primary.abort()
            self.primary = None
        self.fallback = await owner.fallback.start(self._on_interim)
        for chunk in self._audio:
            await self.fallback.feed(chunk)


def build_speech_to_text(settings: Settings, catalogue: Catalogue, whisper: SpeechToText) -> SpeechToText:
    """The engine ``LARDER_STT`` asks for: Whisper alone, or Deepgram with Whisper failover."""
    key = settings.deepgram_api_key.get_secret_value() if settings.deepgram_api_key is not None else ""
    if settings.stt is SttEngine.WHISPER:
        return whisper
    if not key:
        if settings.stt is SttEngine.DEEPGRAM:
            raise ConfigError(
                "LARDER_STT is deepgram but no Deepgram API key is set",
                hint="set LARDER_DEEPGRAM_API_KEY, or LARDER_STT=auto to use Whisper alone",
            )
        return whisper
    from device.stt.deepgram import DeepgramSpeechToText

    deepgram = DeepgramSpeechToText(
        url=settings.deepgram_url,
        api_key=key,
        model=settings.deepgram_model,
        catalogue=catalogue,
        finalize_timeout_s=settings.deepgram_timeout_s,
    )
    return FailoverSpeechToText(deepgram, whisper, CircuitBreaker())
