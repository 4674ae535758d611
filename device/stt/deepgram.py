"""Deepgram live streaming speech-to-text over a websocket (``websockets.asyncio.client``).

One connection per command, opened at wake in the background so connecting overlaps the cook's first words:
fed audio waits in a queue until the socket is up. Audio goes as 16 kHz linear16 in 20-100 ms binary messages
(never an empty one); ``KeepAlive`` is sent if no audio has gone for a few seconds; ``finish`` sends
``Finalize`` when our own endpointer ends the command and waits (``finalize_timeout_s``) for the final
``Results``; the connection then ends with ``CloseStream``. ``finalize`` sends it early (semantic endpointing:
the words already close a command) and keeps streaming, so words the cook goes on with are heard too. Interim
``Results`` reach ``on_interim`` as the words so far.

Every way Deepgram can fail (DNS, connect timeout, refused handshake 401/402/429, close 1008/1011, a dropped
socket, no final transcript in time) raises ``DeepgramError`` with a ``kind``: the failover replays the same
audio to Whisper. Wire helpers (URL, message parsing, error mapping) live in ``deepgram_wire``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from typing import Any

import numpy as np
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from device.errors import ConfigError
from device.inventory.catalog import Catalogue
from device.protocols import Audio, Transcript
from device.settings import require_tls
from device.stt.deepgram_wire import (
    MALFORMED,
    DeepgramError,
    Result,
    close_error,
    connect_error,
    keyterms,
    listen_url,
    parse_message,
    split_messages,
)

log = logging.getLogger(__name__)
# websockets logs handshake headers (the API key) and every frame at DEBUG: keep its logger at INFO.
_WIRE_LOG = logging.getLogger(__name__ + ".wire")
_WIRE_LOG.setLevel(logging.INFO)

KEEPALIVE_S = 4.0  # Deepgram closes a stream after ~10 s without data
CLOSE_WAIT_S = 1.0  # how long to wait for Metadata and the close after CloseStream
SETTLE_S = 0.6  # audio after the last final that may stay unfinalized once Deepgram ended the utterance
GRACE_S = 0.1  # after Finalize, wait at least this long for a from_finalize result before settling
POLL_S = 0.05  # how often finish looks for a close frame that arrived while waiting

_KEEPALIVE = json.dumps({"type": "KeepAlive"})
_FINALIZE = json.dumps({"type": "Finalize"})
_CLOSE = json.dumps({"type": "CloseStream"})

Interim = Callable[[Transcript], None]


class DeepgramSpeechToText:
    """Opens a ``DeepgramSession`` per command (``SpeechToText`` protocol)."""

    name = "deepgram"

    def __init__(
        self,
        *,
        url: str,
        api_key: str,
        model: str = "nova-3",
        catalogue: Catalogue,
        finalize_timeout_s: float = 1.5,
        connect_timeout_s: float = 1.0,
        keepalive_s: float = KEEPALIVE_S,
    ) -> None:
        if not api_key:
            raise ConfigError("Deepgram needs an API key", hint="set LARDER_DEEPGRAM_API_KEY")
        try:
            require_tls(url)
        except ValueError as exc:
            raise ConfigError(f"LARDER_DEEPGRAM_URL: expected {exc}") from None
        self.url = url
        self.model = model
        self.finalize_timeout_s = finalize_timeout_s
        self.connect_timeout_s = connect_timeout_s
        self.keepalive_s = keepalive_s
        self._headers = {"Authorization": f"Token {api_key}"}
        self._keyterms = keyterms(catalogue)
        self._sessions: set[DeepgramSession] = set()

    def set_catalogue(self, catalogue: Catalogue) -> None:
        self._keyterms = keyterms(catalogue)

    def stream_url(self) -> str:
        """The URL the next session connects to (no secrets in it)."""
        return listen_url(self.url, model=self.model, keyterms=self._keyterms)

    async def start(self, on_interim: Interim | None = None) -> DeepgramSession:
        session = DeepgramSession(self, on_interim)
        self._sessions.add(session)
        session.task.add_done_callback(lambda _: self._sessions.discard(session))
        return session

    async def close(self) -> None:
        """End every open stream with ``CloseStream`` (shutdown)."""
        sessions = list(self._sessions)
        for session in sessions:
            await session.abort()
        await asyncio.gather(*(s.closed() for s in sessions), return_exceptions=True)


class DeepgramSession:
    """One command's stream: ``feed`` audio, ``finish`` for the transcript, or ``abort``."""

    def __init__(self, owner: DeepgramSpeechToText, on_interim: Interim | None) -> None:
        self._owner = owner
        self._on_interim = on_interim
        self._outbox: asyncio.Queue[bytes | str] = asyncio.Queue()
        self._pending = bytearray()
        self._ws: ClientConnection | None = None
        self._failure: DeepgramError | None = None
        self._changed = asyncio.Event()
        self._closing = False
        self._finishing = False
        self.sent_s = 0.0
        self.request_id: str | None = None
        #: seconds the websocket took to open (None until it has), for metrics and the benchmark
        self.connect_s: float | None = None
        self._finals: list[Result] = []
        self._interim = ""
        self._finalize_sent = 0
        self._finalize_answered = 0  # final Results marked from_finalize
        self.task = asyncio.create_task(self._run(), name="deepgram-session")

    # --- the caller's side ---

    async def feed(self, chunk: Audio) -> None:
        self._check_closed()
        if self._failure is not None:
            raise self._failure
        if self._finishing or self._closing:
            return
        self._pending.extend(np.asarray(chunk, dtype="<i2").tobytes())
        self._queue_audio(final=False)

    async def finalize(self) -> Transcript:
        """The final transcript of the audio so far, asked for with ``Finalize`` while the stream stays open:
        audio fed afterwards is still heard, and a later ``finish`` finalizes it too (the words of both)."""
        if self._failure is not None:
            raise self._failure
        self._queue_audio(final=True)
        await self._finalized()
        return self._transcript()

    async def finish(self) -> Transcript:
        if self._failure is not None:
            raise self._failure
        self._finishing = True
        self._queue_audio(final=True)
        await self._finalized()
        self._close_soon()
        return self._transcript()

    async def _finalized(self) -> None:
        """Send ``Finalize`` and wait for its answer (or for Deepgram to have ended the utterance itself)."""
        self._outbox.put_nowait(_FINALIZE)
        self._finalize_sent += 1
        wanted = self._finalize_sent
        loop = asyncio.get_running_loop()
        sent_at = loop.time()
        deadline = sent_at + self._owner.finalize_timeout_s
        try:
            while True:
                self._changed.clear()
                self._check_closed()
                if self._failure is not None:
                    raise self._failure
                now = loop.time()
                if self._finalize_answered >= wanted or (now - sent_at >= GRACE_S and self._settled()):
                    return
                if now >= deadline:
                    if self._finals and not self._interim:
                        return  # Deepgram finalized everything it heard before we asked
                    raise DeepgramError(
                        "no_final",
                        f"Deepgram sent no final transcript within {self._owner.finalize_timeout_s:g} s",
                    )
                wake = min(deadline if now - sent_at >= GRACE_S else sent_at + GRACE_S, now + POLL_S)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), max(0.0, wake - now))
        except BaseException:
            await self.abort()
            raise

    async def abort(self) -> None:
        if self._closing:
            return
        self._closing = True
        if self._ws is None:
            self.task.cancel()  # still connecting: nothing to close
        else:
            self._outbox.put_nowait(_CLOSE)

    async def closed(self) -> None:
        """Wait until the connection is gone (after ``finish`` or ``abort``)."""
        with contextlib.suppress(BaseException):
            await asyncio.wait_for(asyncio.shield(self.task), CLOSE_WAIT_S * 3)
        self.task.cancel()

    # --- state ---

    def _check_closed(self) -> None:
        """Fail as soon as Deepgram's close frame arrives (recv only raises once TCP is gone, maybe much later)."""
        close = self._ws.protocol.close_rcvd if self._ws is not None else None
        if close is not None and not self._closing:
            self._fail(close_error(close.code, close.reason))

    def _queue_audio(self, *, final: bool) -> None:
        for message in split_messages(self._pending, final=final):
            self._outbox.put_nowait(message)

    def _settled(self) -> bool:
        """Deepgram ended the utterance itself, nothing is pending, and the finals reach our audio's end."""
        if not self._finals or self._interim or not any(r.speech_final for r in self._finals):
            return False
        return self._finals[-1].end >= self.sent_s - SETTLE_S

    def _transcript(self) -> Transcript:
        spoken = [r for r in self._finals if r.transcript]
        text = " ".join(r.transcript for r in spoken)
        confidence = sum(r.confidence for r in spoken) / len(spoken) if spoken else None
        return Transcript(text=text, engine=self._owner.name, confidence=confidence, is_final=True)

    def _fail(self, error: DeepgramError) -> None:
        if self._failure is None and not self._closing:
            self._failure = error
            log.warning("deepgram: %s (%s)", error.message, error.kind)
        self._changed.set()

    def _close_soon(self) -> None:
        self._closing = True
        self._outbox.put_nowait(_CLOSE)

    # --- the connection's side ---

    async def _run(self) -> None:
        owner = self._owner
        started = asyncio.get_running_loop().time()
        try:
            try:
                async with asyncio.timeout(owner.connect_timeout_s):
                    self._ws = await connect(
                        owner.stream_url(),
                        additional_headers=owner._headers,
                        open_timeout=None,
                        compression=None,
                        close_timeout=CLOSE_WAIT_S,
                        logger=_WIRE_LOG,
                    )
            except Exception as exc:
                raise connect_error(exc, timeout_s=owner.connect_timeout_s) from None
            self.connect_s = asyncio.get_running_loop().time() - started
            self.request_id = self._ws.response.headers.get("dg-request-id") if self._ws.response else None
            sender = asyncio.create_task(self._send_loop(self._ws))
            try:
                await self._receive_loop(self._ws)
            finally:
                sender.cancel()
                with contextlib.suppress(BaseException):
                    await sender
        except DeepgramError as error:
            self._fail(error)
        except Exception as exc:  # a bug here must not lose the command: the failover takes over
            log.exception("deepgram session failed")
            self._fail(DeepgramError("error", f"Deepgram client error: {type(exc).__name__}"))
        finally:
            if self._ws is not None:
                with contextlib.suppress(Exception):
                    await self._ws.close()
            self._changed.set()

    async def _send_loop(self, ws: ClientConnection) -> None:
        try:
            while True:
                try:
                    item = await asyncio.wait_for(self._outbox.get(), self._owner.keepalive_s)
                except TimeoutError:
                    await ws.send(_KEEPALIVE)
                    continue
                await ws.send(item)
                if isinstance(item, bytes):
                    self.sent_s += len(item) / 32_000
                elif item == _CLOSE:
                    await asyncio.sleep(CLOSE_WAIT_S)  # time for Metadata and the server's close
                    await ws.close()
                    return
        except ConnectionClosed:
            return  # the receiver reports how it closed

    async def _receive_loop(self, ws: ClientConnection) -> None:
        try:
            async for message in ws:
                if isinstance(message, str):
                    self._handle(message)
        except ConnectionClosed:
            pass
        if not self._closing:
            raise close_error(ws.close_code, ws.close_reason or "")

    def _handle(self, text: str) -> None:
        try:
            data: Any = json.loads(text)
        except ValueError:
            log.debug("deepgram: ignored a non-JSON message")
            return
        message = parse_message(data)
        if isinstance(message, Result):
            if message.is_final:
                self._finals.append(message)
                self._interim = ""
                self._finalize_answered += int(message.from_finalize and self._finalize_sent > 0)
            else:
                self._interim = message.transcript
            self._report_interim()
        elif message.kind == "Metadata":
            self.request_id = self.request_id or message.request_id
        elif message.kind in {"Error", "Warning"}:
            log.warning("deepgram %s: %s", message.kind.lower(), message.description)
        elif message.kind == MALFORMED:
            self._fail(DeepgramError("protocol", f"Deepgram sent {message.description}"))
        self._changed.set()

    def _report_interim(self) -> None:
        if self._on_interim is None:
            return
        words = [r.transcript for r in self._finals if r.transcript] + (
            [self._interim] if self._interim else []
        )
        if not words:
            return
        try:
            self._on_interim(Transcript(text=" ".join(words), engine=self._owner.name, is_final=False))
        except Exception:
            log.exception("interim transcript subscriber failed")
