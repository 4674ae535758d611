"""Deepgram's live-streaming wire format, without I/O: the listen URL, audio message sizes, server messages,
errors.

Server messages are read leniently (unknown fields and message types are ignored, missing ones take defaults),
so a new Deepgram field never breaks a command. Connection failures map to a ``DeepgramError.kind`` the
failover and ``larder doctor`` can act on; ``permanent`` marks the ones a retry will not fix (a rejected key,
no credit).
"""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from device.errors import SttError
from device.inventory.catalog import Catalogue
from device.protocols import SAMPLE_RATE

BYTES_PER_SECOND = SAMPLE_RATE * 2
MIN_MESSAGE_BYTES = BYTES_PER_SECOND // 50  # 20 ms
MAX_MESSAGE_BYTES = BYTES_PER_SECOND // 10  # 100 ms
MAX_KEYTERMS = 100  # Deepgram's limit for Nova-3 keyterm prompting
MAX_KEYTERM_CHARS = 1500  # keeps the handshake URL a sane length

STREAM_PARAMS: dict[str, str] = {
    "encoding": "linear16",
    "sample_rate": str(SAMPLE_RATE),
    "channels": "1",
    "interim_results": "true",
    "endpointing": "300",
    "utterance_end_ms": "1000",
    "vad_events": "true",
    "smart_format": "true",
}

_HTTP_KINDS = {401: "auth", 402: "payment", 403: "forbidden", 429: "rate_limit"}
_HTTP_PERMANENT = {401, 402, 403}


class DeepgramError(SttError):
    """Deepgram gave no transcript; ``kind`` says why: ``dns``, ``auth``, ``closed_1011``, ``no_final``..."""

    def __init__(self, kind: str, message: str, *, permanent: bool = False, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.kind = kind
        self.permanent = permanent


@dataclass(frozen=True)
class Result:
    """A ``Results`` message: one stretch of audio (``start``..``end`` s) and its best transcript."""

    transcript: str
    confidence: float
    start: float
    duration: float
    is_final: bool
    speech_final: bool
    from_finalize: bool

    @property
    def end(self) -> float:
        return self.start + self.duration


@dataclass(frozen=True)
class Other:
    """Another message: ``Metadata``, ``SpeechStarted``, ``UtteranceEnd``, ``Error`` or one we don't know."""

    kind: str
    request_id: str | None = None
    description: str = ""


def keyterms(catalogue: Catalogue) -> list[str]:
    """Terms to boost: item names, then locations, then aliases; unique, within Deepgram's limits."""
    terms: dict[str, str] = {}
    used = 0
    words = [*catalogue.names, *catalogue.locations, *(a for item in catalogue.items for a in item.aliases)]
    for word in words:
        term = " ".join(word.split())
        if not term or term.casefold() in terms:
            continue
        if len(terms) >= MAX_KEYTERMS or used + len(term) > MAX_KEYTERM_CHARS:
            break
        terms[term.casefold()] = term
        used += len(term)
    return list(terms.values())


def listen_url(base: str, *, model: str, keyterms: list[str]) -> str:
    """The streaming URL: ``base`` plus model, audio format, result options and vocabulary.

    Parameters already in ``base`` win (a technician may tune them there). Nova-3 takes ``keyterm``; older
    models take ``keywords``.
    """
    parts = urlsplit(base)
    given = parse_qsl(parts.query, keep_blank_values=True)
    names = {name for name, _ in given}
    params = list(given)
    params += [(k, v) for k, v in {"model": model, **STREAM_PARAMS}.items() if k not in names]
    vocabulary = "keyterm" if model.startswith("nova-3") else "keywords"
    if vocabulary not in names:
        params += [(vocabulary, term) for term in keyterms]
    return urlunsplit(parts._replace(query=urlencode(params)))


def split_messages(pending: bytearray, *, final: bool) -> list[bytes]:
    """Take 20-100 ms audio messages off the front of ``pending``.

    Less than 20 ms stays behind for the next call, unless ``final``: then it is padded with silence, so no
    message is ever shorter than 20 ms (and none is ever empty).
    """
    out: list[bytes] = []
    while len(pending) >= MIN_MESSAGE_BYTES or (final and pending):
        if len(pending) < MIN_MESSAGE_BYTES:
            pending.extend(bytes(MIN_MESSAGE_BYTES - len(pending)))
        size = min(len(pending), MAX_MESSAGE_BYTES)
        rest = len(pending) - size
        if 0 < rest < MIN_MESSAGE_BYTES:
            size -= MIN_MESSAGE_BYTES - rest  # leave a whole minimum-size message behind
        out.append(bytes(pending[:size]))
        del pending[:size]
    return out


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


#: ``Other.kind`` of a Results message that breaks Deepgram's documented shape
MALFORMED = "malformed"


def parse_message(data: Any) -> Result | Other:
    """Read one server message (already JSON-decoded)."""
    if not isinstance(data, dict):
        return Other(kind="?")
    kind = data.get("type")
    if kind != "Results":
        metadata = data.get("metadata")
        request_id = (metadata if isinstance(metadata, dict) else data).get("request_id")
        description = data.get("description") or data.get("message") or ""
        return Other(
            kind=str(kind),
            request_id=request_id if isinstance(request_id, str) else None,
            description=str(description)[:200],
        )
    channel = data.get("channel")
    alternatives = channel.get("alternatives") if isinstance(channel, dict) else None
    best = alternatives[0] if isinstance(alternatives, list) and alternatives else None
    transcript = best.get("transcript") if isinstance(best, dict) else None
    if not isinstance(best, dict) or not isinstance(transcript, str):
        # Results always carry channel.alternatives[0].transcript: without it the words are lost, not silence
        return Other(
            kind=MALFORMED, description="a Results message without channel.alternatives[0].transcript"
        )
    return Result(
        transcript=" ".join(transcript.split()),
        confidence=_number(best.get("confidence")),
        start=_number(data.get("start")),
        duration=_number(data.get("duration")),
        is_final=data.get("is_final") is True,
        speech_final=data.get("speech_final") is True,
        from_finalize=data.get("from_finalize") is True,
    )


def connect_error(exc: BaseException, *, timeout_s: float) -> DeepgramError:
    """What a failed connect means, in plain words (never with the key in it)."""
    from websockets.exceptions import InvalidHandshake, InvalidStatus, InvalidURI

    if isinstance(exc, InvalidStatus):
        status = exc.response.status_code
        detail = exc.response.headers.get("dg-error", "") or exc.response.reason_phrase
        kind = _HTTP_KINDS.get(status, "server" if status >= 500 else "handshake")
        hints = {
            "auth": "check LARDER_DEEPGRAM_API_KEY",
            "payment": "the Deepgram account is out of credit",
            "rate_limit": "too many streams at once",
        }
        return DeepgramError(
            kind,
            f"Deepgram refused the connection: HTTP {status} {detail}".strip(),
            permanent=status in _HTTP_PERMANENT,
            hint=hints.get(kind),
        )
    if isinstance(exc, TimeoutError):
        return DeepgramError("connect_timeout", f"Deepgram did not answer within {timeout_s:g} s")
    if isinstance(exc, socket.gaierror):
        return DeepgramError("dns", "cannot look up Deepgram's address (no internet or DNS?)")
    if isinstance(exc, ConnectionRefusedError):
        return DeepgramError("refused", "the Deepgram address refused the connection")
    if isinstance(exc, ssl.SSLError):
        return DeepgramError("tls", f"TLS with Deepgram failed: {exc.__class__.__name__}")
    if isinstance(exc, InvalidURI):
        return DeepgramError("config", "LARDER_DEEPGRAM_URL is not a websocket URL", permanent=True)
    if isinstance(exc, OSError):
        return DeepgramError("network", f"cannot reach Deepgram: {exc.strerror or type(exc).__name__}")
    if isinstance(exc, InvalidHandshake):
        return DeepgramError("handshake", f"the Deepgram handshake failed: {type(exc).__name__}")
    return DeepgramError("error", f"cannot connect to Deepgram: {type(exc).__name__}")


def close_error(code: int | None, reason: str) -> DeepgramError:
    """Deepgram closing the stream before we were done (1008 bad audio, 1011 its side, 1006 dropped)."""
    if code is None or code == 1006:
        return DeepgramError("dropped", "the connection to Deepgram dropped")
    detail = f" ({reason})" if reason else ""
    return DeepgramError(f"closed_{code}", f"Deepgram closed the stream with code {code}{detail}")
