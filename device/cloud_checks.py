"""Reachability checks for ``larder doctor``: are Deepgram and the LLM endpoint reachable, and the keys accepted?

Each check is blocking (the doctor runs it in a worker thread) and returns ``(status, message)``: ``PASS``,
``WARN`` or ``FAIL`` and one plain sentence with the fix. A rejected key or an exhausted account is FAIL (a
technician must act); an unreachable service is WARN, because the unit keeps working without it (Whisper answers
instead of Deepgram; the grammar alone resolves commands). Keys never appear in a message.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING

import httpx

from device.settings import Settings, SttEngine

if TYPE_CHECKING:
    from websockets.sync.connection import Connection

PASS, WARN, FAIL = "PASS", "WARN", "FAIL"
HANDSHAKE_TIMEOUT_S = 5.0
CLOSE_WAIT_S = 2.0


def _secret(value: object) -> str:
    getter = getattr(value, "get_secret_value", None)
    return str(getter()) if getter is not None else ""


def check_deepgram(settings: Settings) -> tuple[str, str]:
    """A short handshake with the real key, then ``CloseStream``: the stream opens and Deepgram answers."""
    key = _secret(settings.deepgram_api_key)
    if settings.stt is SttEngine.WHISPER:
        return PASS, "Deepgram is off (LARDER_STT=whisper): Whisper on the unit does all speech to text"
    if not key:
        if settings.stt is SttEngine.DEEPGRAM:
            return (
                FAIL,
                "LARDER_STT=deepgram but no Deepgram key; set LARDER_DEEPGRAM_API_KEY or LARDER_STT=auto",
            )
        return (
            WARN,
            "no Deepgram key: Whisper on the unit does all speech to text; set LARDER_DEEPGRAM_API_KEY",
        )
    from websockets.exceptions import WebSocketException
    from websockets.sync.client import connect

    from device.inventory.catalog import demo_catalogue
    from device.stt.deepgram_wire import connect_error, keyterms, listen_url

    url = listen_url(
        settings.deepgram_url, model=settings.deepgram_model, keyterms=keyterms(demo_catalogue())[:5]
    )
    started = time.monotonic()
    try:
        with connect(
            url,
            additional_headers={"Authorization": f"Token {key}"},
            open_timeout=HANDSHAKE_TIMEOUT_S,
            close_timeout=CLOSE_WAIT_S,
            compression=None,
        ) as ws:
            opened_ms = (time.monotonic() - started) * 1000
            ws.send(json.dumps({"type": "CloseStream"}))
            answered = _wait_for_metadata(ws)
    except (OSError, TimeoutError, WebSocketException) as exc:
        error = connect_error(exc, timeout_s=HANDSHAKE_TIMEOUT_S)
        hint = f"; {error.hint}" if error.hint else ""
        if error.permanent:
            return FAIL, f"{error.message}{hint}"
        return WARN, f"{error.message}{hint}; until it is back, Whisper on the unit answers"
    note = "" if answered else " (it closed without its summary message)"
    return (
        PASS,
        f"Deepgram reachable and the key accepted ({settings.deepgram_model}, {opened_ms:.0f} ms){note}",
    )


def _wait_for_metadata(ws: Connection) -> bool:
    from websockets.exceptions import ConnectionClosed

    deadline = time.monotonic() + CLOSE_WAIT_S
    try:
        while (remaining := deadline - time.monotonic()) > 0:
            message = ws.recv(timeout=remaining)
            if isinstance(message, str) and '"Metadata"' in message:
                return True
    except (ConnectionClosed, TimeoutError):
        pass
    return False


def check_llm(settings: Settings) -> tuple[str, str]:
    """``GET {base}/models`` with the key (a tiny completion when the server has no model list)."""
    base = settings.llm_base_url.rstrip("/")
    if not base:
        return (
            PASS,
            "the LLM fallback is off (LARDER_LLM_BASE_URL is empty): the grammar alone reads commands",
        )
    key = _secret(settings.llm_api_key)
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    model = settings.llm_model
    try:
        with httpx.Client(timeout=HANDSHAKE_TIMEOUT_S, headers=headers) as client:
            response = client.get(f"{base}/models")
            if response.status_code == 404:
                body = {"model": model, "max_tokens": 1, "messages": [{"role": "user", "content": "ping"}]}
                response = client.post(f"{base}/chat/completions", json=body)
                if response.status_code == 200:
                    return PASS, f"LLM endpoint reachable, key accepted, {model} answers"
    except httpx.HTTPError as exc:
        return WARN, f"the LLM endpoint is unreachable ({type(exc).__name__}); unclear commands get a 'sorry'"
    status = response.status_code
    if status in (401, 403):
        return FAIL, f"the LLM endpoint rejected the API key (HTTP {status}); check LARDER_LLM_API_KEY"
    if status == 404:
        return FAIL, f"the LLM endpoint does not know the model {model!r}; check LARDER_LLM_MODEL"
    if status == 429:
        return WARN, "the LLM endpoint is rate limiting this key (HTTP 429); it may be out of quota"
    if status != 200:
        return (
            WARN,
            f"the LLM endpoint answered HTTP {status}; unclear commands get a 'sorry' until it recovers",
        )
    try:
        listed = {m.get("id") for m in response.json().get("data", []) if isinstance(m, dict)}
    except (ValueError, AttributeError):
        return WARN, "the LLM endpoint answered, but not with a model list; check LARDER_LLM_BASE_URL"
    if model not in listed:
        return (
            WARN,
            f"LLM endpoint reachable and the key accepted, but {model!r} is not listed; check LARDER_LLM_MODEL",
        )
    return PASS, f"LLM endpoint reachable, key accepted, {model} available"
