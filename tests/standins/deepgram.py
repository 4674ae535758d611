"""A stand-in for Deepgram's live streaming: a real ``websockets`` server on 127.0.0.1, port 0, /v1/listen.

It speaks the documented protocol: checks ``Authorization: Token <key>`` and the query parameters (and records
them), takes binary linear16 audio and the text controls ``KeepAlive``, ``Finalize``, ``CloseStream``, and
answers with ``SpeechStarted``, interim and final ``Results``, ``UtteranceEnd`` and ``Metadata`` in Deepgram's
shapes. The transcript is scripted per test (``Script``): words are revealed as audio arrives (one per
``word_every_s`` of audio), segments before the last are finalized as the stream goes, the last one when
``Finalize`` comes or, with ``endpoint_on_silence``, once the audio received has been quiet for the
``endpointing`` milliseconds the client asked for, as Deepgram's endpointing does (``Finalize`` then has
nothing left to answer).

It can be told to fail in each way the real service does: refuse the handshake (HTTP 401/402/429 with a
``dg-error`` header), close mid-stream with 1008/1011, drop the TCP connection, never answer ``Finalize``,
answer late, or send fields and message types the client has never seen. It closes an idle stream with 1011
``NET-0001`` like the real one. ``Blackhole`` is a listening socket that never completes a handshake (connect
timeout).

The server runs on its own event loop in a thread, like a remote service, so tests may block.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import socket
import threading
import uuid
from array import array
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from websockets.asyncio.server import ServerConnection, serve
from websockets.http11 import Request, Response

API_KEY = "dg-test-key-0123456789"
BYTES_PER_SECOND = 32_000
SPEECH_RMS = 200.0  # int16 RMS above which a message counts as speech (for endpointing)
# the server's own logs would show the client's Authorization header at DEBUG: keep them out of tests' logs
_LOG = logging.getLogger(__name__)
_LOG.setLevel(logging.WARNING)
MODEL_INFO = {"name": "general-nova-3", "version": "2025-04-17.21547", "arch": "nova-3"}


@dataclass
class Script:
    """What the stand-in says and how it fails, for the next streams."""

    segments: tuple[str, ...] = ("add three cases of oat milk", "to the walk-in")
    confidence: float = 0.97
    word_every_s: float = 0.2  # one more interim word per this much audio received
    endpoint_last: bool = False  # finalize the last segment with speech_final before Finalize arrives
    endpoint_on_silence: bool = (
        False  # finalize everything (speech_final) after `endpointing` ms of quiet audio
    )
    answer_finalize: bool = True  # False: silence after Finalize
    finalize_delay_s: float = 0.0  # answer Finalize this late
    #: Finalize finalizes only the words revealed so far (as the real service does with the audio it has); the
    #: rest of the script is still revealed by audio sent after it. False: it finalizes the whole script.
    finalize_heard_only: bool = False
    #: seconds of audio received at which each word of the script (all segments, in order) is revealed, instead
    #: of one every ``word_every_s``: a test aligns the words with the speech in its clip
    reveal_at: tuple[float, ...] | None = None
    #: send interim Results only once per this much audio (the words revealed by then), as Deepgram does (its
    #: documented example: one interim per second of audio); None: one interim per word revealed. Finalize
    #: still answers every word revealed.
    interim_every_s: float | None = None
    reject: int | None = None  # refuse the handshake with this HTTP status
    close_after_s: float | None = None  # close the stream after this much audio ...
    close_code: int = 1011  # ... with this code
    close_reason: str = "NET-0000"
    drop_after_s: float | None = None  # drop the TCP connection (no close frame) after this much audio
    extra_fields: bool = False  # add unknown fields and an unknown message type
    malformed: bool = False  # Results whose alternatives are not objects (a broken proxy or server bug)
    idle_timeout_s: float = 10.0  # close 1011 NET-0001 when neither audio nor KeepAlive came for this long


@dataclass
class Stream:
    """What one client connection did, for assertions."""

    path: str
    params: list[tuple[str, str]]
    headers: dict[str, str]
    audio: bytearray = field(default_factory=bytearray)
    message_sizes: list[int] = field(default_factory=list)
    controls: list[str] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)
    empty_frames: int = 0
    outcome: str = "open"

    def param(self, name: str) -> list[str]:
        return [v for k, v in self.params if k == name]


class DeepgramStandIn:
    """Start with ``start()`` (returns the ws:// URL) or as a context manager; set ``script`` per test."""

    def __init__(self, api_key: str = API_KEY) -> None:
        self.api_key = api_key
        self.script = Script()
        self.streams: list[Stream] = []
        self.rejected: list[int] = []
        self.url = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stop: asyncio.Event | None = None

    def __enter__(self) -> DeepgramStandIn:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> str:
        ready = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._serve(ready)), daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the Deepgram stand-in did not start")
        return self.url

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(10)

    def reset(self, script: Script | None = None) -> None:
        self.script = script or Script()
        self.streams.clear()
        self.rejected.clear()

    async def _serve(self, ready: threading.Event) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        # max_queue=None: keep reading while closing, as a real server does, so the client's close reply gets through
        async with serve(
            self._handle, "127.0.0.1", 0, process_request=self._check, logger=_LOG, max_queue=None
        ) as server:
            port = next(iter(server.sockets)).getsockname()[1]
            self.url = f"ws://127.0.0.1:{port}/v1/listen"
            ready.set()
            await self._stop.wait()

    # --- the handshake ---

    def _check(self, connection: ServerConnection, request: Request) -> Response | None:
        parts = urlsplit(request.path)
        params = parse_qsl(parts.query, keep_blank_values=True)
        names = {k for k, _ in params}
        auth = request.headers.get("Authorization", "")
        if parts.path != "/v1/listen":
            return self._refuse(connection, 404, "NOT_FOUND", "Not found.")
        if auth not in {f"Token {self.api_key}", f"token {self.api_key}"}:
            return self._refuse(connection, 401, "INVALID_AUTH", "Invalid credentials.")
        if self.script.reject is not None:
            status = self.script.reject
            codes = {402: "INSUFFICIENT_FUNDS", 429: "TOO_MANY_REQUESTS"}
            return self._refuse(connection, status, codes.get(status, "ERROR"), f"Scripted refusal {status}.")
        model = dict(params).get("model", "")
        if "keyterm" in names and not model.startswith("nova-3"):
            return self._refuse(connection, 400, "Bad Request", "Keyterm is only supported by Nova-3 models.")
        return None

    def _refuse(self, connection: ServerConnection, status: int, code: str, message: str) -> Response:
        self.rejected.append(status)
        body = json.dumps({"err_code": code, "err_msg": message, "request_id": str(uuid.uuid4())})
        response = connection.respond(status, body)
        response.headers["dg-error"] = message
        response.headers["Content-Type"] = "application/json"
        return response

    # --- the stream ---

    async def _handle(self, ws: ServerConnection) -> None:
        assert ws.request is not None
        parts = urlsplit(ws.request.path)
        stream = Stream(
            path=parts.path,
            params=parse_qsl(parts.query, keep_blank_values=True),
            headers={k: v for k, v in ws.request.headers.raw_items()},
        )
        self.streams.append(stream)
        await _Conversation(ws, self.script, stream).run()


class _Conversation:
    """One stream's state: how much audio came, which words are out, how the script wants it to end."""

    def __init__(self, ws: ServerConnection, script: Script, stream: Stream) -> None:
        self.ws = ws
        self.script = script
        self.stream = stream
        self.request_id = str(uuid.uuid4())
        self.segments = [s.split() for s in script.segments]
        self.segment = 0  # the segment being revealed
        self.revealed = 0  # words of it sent in interims
        self.segment_start = 0.0
        self.next_word_at = script.reveal_at[0] if script.reveal_at else script.word_every_s
        self.reveals = 0
        self.next_interim_at = script.interim_every_s or 0.0
        self.finalized_all = False
        self.tasks: set[asyncio.Task[None]] = set()
        params = dict(stream.params)
        self.endpointing_s = (
            int(params.get("endpointing", "10")) / 1000 if params.get("endpointing", "").isdigit() else 0.01
        )
        self.last_loud_s = 0.0
        self.decodable = params.get("encoding") == "linear16" and params.get("sample_rate") == "16000"

    @property
    def heard_s(self) -> float:
        return len(self.stream.audio) / BYTES_PER_SECOND

    async def run(self) -> None:
        try:
            while True:
                try:
                    message = await asyncio.wait_for(self.ws.recv(), self.script.idle_timeout_s)
                except TimeoutError:
                    self.stream.outcome = "idle_closed"
                    await self.ws.close(1011, "NET-0001")
                    return
                if isinstance(message, bytes):
                    if not await self._audio(message):
                        return
                elif not await self._control(message):
                    return
        except Exception:  # the client went away
            if self.stream.outcome == "open":
                self.stream.outcome = "client_gone"
        finally:
            for task in self.tasks:
                task.cancel()

    async def _audio(self, data: bytes) -> bool:
        s = self.script
        if not data:  # an empty frame ends the stream, as CloseStream does
            self.stream.empty_frames += 1
            return await self._control(json.dumps({"type": "CloseStream"}))
        if not self.decodable:
            self.stream.outcome = "closed_1008"
            await self.ws.close(1008, "DATA-0000")
            return False
        first = not self.stream.audio
        if _rms(data) >= SPEECH_RMS:
            self.last_loud_s = self.heard_s + len(data) / BYTES_PER_SECOND
        self.stream.audio.extend(data)
        self.stream.message_sizes.append(len(data))
        if first:
            await self._send({"type": "SpeechStarted", "channel": [0], "timestamp": 0.02})
        if s.drop_after_s is not None and self.heard_s >= s.drop_after_s:
            self.stream.outcome = "dropped"
            self.ws.transport.abort()
            return False
        if s.close_after_s is not None and self.heard_s >= s.close_after_s:
            self.stream.outcome = f"closed_{s.close_code}"
            await self.ws.close(s.close_code, s.close_reason)
            return False
        while self.heard_s >= self.next_word_at and not self.finalized_all:
            self.reveals += 1
            if s.reveal_at is None:
                self.next_word_at += s.word_every_s
            else:
                self.next_word_at = s.reveal_at[self.reveals] if self.reveals < len(s.reveal_at) else math.inf
            await self._advance()
        if s.interim_every_s is not None and self.heard_s >= self.next_interim_at:
            self.next_interim_at += s.interim_every_s
            words = self.segments[self.segment] if self.segment < len(self.segments) else []
            if self.revealed and not self.finalized_all:
                await self._result(" ".join(words[: self.revealed]), is_final=False, cadence=True)
        quiet_s = self.heard_s - self.last_loud_s
        if (
            s.endpoint_on_silence
            and self.last_loud_s > 0
            and quiet_s >= self.endpointing_s
            and not self.finalized_all
        ):
            while self.segment < len(self.segments):  # Deepgram's endpointing: the pause ends the utterance
                await self._finalize_segment(speech_final=self.segment == len(self.segments) - 1)
            self.finalized_all = True
        return True

    async def _advance(self) -> None:
        words = self.segments[self.segment] if self.segment < len(self.segments) else []
        last = self.segment >= len(self.segments) - 1
        if self.revealed < len(words):
            self.revealed += 1
            await self._result(" ".join(words[: self.revealed]), is_final=False)
        elif not last:
            await self._finalize_segment(speech_final=False)
            if self.script.reveal_at is not None:
                await self._advance()  # the time was the next word's
        elif self.script.endpoint_last:
            await self._finalize_segment(speech_final=True)
            self.finalized_all = True

    async def _finalize_segment(self, *, speech_final: bool, from_finalize: bool = False) -> None:
        words = self.segments[self.segment] if self.segment < len(self.segments) else []
        await self._result(
            " ".join(words), is_final=True, speech_final=speech_final, from_finalize=from_finalize
        )
        self.segment += 1
        self.revealed = 0
        self.segment_start = self.heard_s

    async def _control(self, text: str) -> bool:
        try:
            kind = json.loads(text).get("type")
        except (ValueError, AttributeError):
            await self.ws.close(1008, "DATA-0000")
            return False
        self.stream.controls.append(str(kind))
        if kind == "Finalize":
            if self.script.answer_finalize:
                task = asyncio.create_task(self._answer_finalize())
                self.tasks.add(task)
                task.add_done_callback(self.tasks.discard)
        elif kind == "CloseStream":
            await self._send(self._metadata())
            self.stream.outcome = "close_stream"
            await self.ws.close(1000)
            return False
        return True

    async def _answer_finalize(self) -> None:
        await asyncio.sleep(self.script.finalize_delay_s)
        if self.finalized_all:
            return  # nothing left buffered: Deepgram does not promise a from_finalize reply then
        if self.script.finalize_heard_only:
            await self._finalize_heard()
            return
        while self.segment < len(self.segments):
            last = self.segment == len(self.segments) - 1
            await self._finalize_segment(speech_final=False, from_finalize=last)
        self.finalized_all = True
        await self._send({"type": "UtteranceEnd", "channel": [0, 1], "last_word_end": round(self.heard_s, 3)})

    async def _finalize_heard(self) -> None:
        """Finalize the words revealed so far; the rest of the current segment is revealed by later audio."""
        if self.segment >= len(self.segments):
            await self._result("", is_final=True, from_finalize=True)
            self.finalized_all = True
            return
        words = self.segments[self.segment]
        heard, rest = words[: self.revealed], words[self.revealed :]
        self.segments[self.segment] = heard
        await self._finalize_segment(speech_final=False, from_finalize=True)
        if rest:
            self.segment -= 1
            self.segments[self.segment] = rest
        self.finalized_all = self.segment >= len(self.segments)
        await self._send({"type": "UtteranceEnd", "channel": [0, 1], "last_word_end": round(self.heard_s, 3)})

    async def _result(
        self,
        text: str,
        *,
        is_final: bool,
        speech_final: bool = False,
        from_finalize: bool = False,
        cadence: bool = False,
    ) -> None:
        if not is_final and self.script.interim_every_s is not None and not cadence:
            return  # an interim waits for the cadence
        start, end = self.segment_start, max(self.heard_s, self.segment_start + 0.01)
        words = text.split()
        step = (end - start) / max(len(words), 1)
        alternative: dict[str, Any] = {
            "transcript": text,
            "confidence": self.script.confidence if text else 0.0,
            "words": [
                {
                    "word": w.lower(),
                    "start": round(start + i * step, 3),
                    "end": round(start + (i + 1) * step, 3),
                    "confidence": self.script.confidence,
                    "punctuated_word": w,
                }
                for i, w in enumerate(words)
            ],
        }
        message: dict[str, Any] = {
            "type": "Results",
            "channel_index": [0, 1],
            "duration": round(end - start, 3),
            "start": round(start, 3),
            "is_final": is_final,
            "speech_final": speech_final,
            "channel": {"alternatives": [1, 2] if self.script.malformed else [alternative]},
            "metadata": {
                "request_id": self.request_id,
                "model_info": MODEL_INFO,
                "model_uuid": str(uuid.uuid4()),
            },
            "from_finalize": from_finalize,
        }
        if self.script.extra_fields:
            alternative["languages"] = ["en"]
            alternative["sentiment"] = {"label": "neutral"}
            message["future_field"] = {"nested": [1, 2, 3]}
            message["channel"]["extra"] = True
            await self._send({"type": "SomethingNew", "payload": {"x": 1}})
        await self._send(message)

    def _metadata(self) -> dict[str, Any]:
        return {
            "type": "Metadata",
            "transaction_key": "deprecated",
            "request_id": self.request_id,
            "sha256": "0" * 64,
            "created": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "duration": round(self.heard_s, 3),
            "channels": 1,
            "models": [MODEL_INFO["name"]],
            "model_info": {MODEL_INFO["name"]: MODEL_INFO},
        }

    async def _send(self, message: dict[str, Any]) -> None:
        self.stream.sent.append(message)
        await self.ws.send(json.dumps(message))


def _rms(data: bytes) -> float:
    samples = array("h", data[: len(data) // 2 * 2])
    return math.sqrt(sum(x * x for x in samples) / len(samples)) if samples else 0.0


class Blackhole:
    """A listening TCP socket that never accepts: connects succeed, the websocket handshake never answers."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"ws://127.0.0.1:{self.sock.getsockname()[1]}/v1/listen"

    def close(self) -> None:
        self.sock.close()
