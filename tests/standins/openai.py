"""A stand-in for an OpenAI-compatible API: a real HTTP server (stdlib) on 127.0.0.1, port 0, under /v1.

``POST /v1/chat/completions`` checks the Bearer key, the model and the request's shape (messages, function tools,
a ``tool_choice`` naming one of them) as the real API does, records every request, and answers with a
``chat.completion`` object whose ``choices[0].message.tool_calls`` carries the scripted arguments as a JSON string.
``GET /v1/models`` lists the models. Errors use the real ``{"error": {message, type, param, code}}`` body.

Each test scripts the answers: ``replies`` is a queue of ``Reply`` (the last one repeats), or ``responder`` builds
one from the request (``transcript_of(body)`` reads the transcript back). A ``Reply`` can also fail: an HTTP status
(401, 429, 500), a delay longer than the client's time box, malformed arguments, a text answer without a tool call,
two tool calls, or arguments that break the rules (an item not in the catalogue, an absurd quantity).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

API_KEY = "sk-test-standin-0123456789abcdef"
MODELS = ("gpt-4o-mini", "gpt-4.1-mini")
UNKNOWN = {
    "action": "unknown",
    "item": None,
    "quantity": None,
    "unit": None,
    "location": None,
    "to_location": None,
    "within_days": None,
}


def command(action: str, **fields: Any) -> dict[str, Any]:
    """Tool-call arguments with every schema field present (``None`` unless given)."""
    return {**UNKNOWN, "action": action, **fields}


@dataclass
class Reply:
    """One scripted answer."""

    arguments: dict[str, Any] | str | None = (
        None  # a dict is JSON-encoded; a str is sent as is (malformed tests)
    )
    status: int = 200
    delay_s: float = 0.0
    content: str | None = None  # a plain text answer (no tool call) when arguments is None
    tool_name: str | None = None  # default: the function the request offered
    calls: int = 1


_ERRORS = {
    401: ("Incorrect API key provided: sk-te***cdef.", "invalid_request_error", "invalid_api_key"),
    429: ("Rate limit reached for requests. Please try again in 1s.", "requests", "rate_limit_exceeded"),
    500: ("The server had an error while processing your request. Sorry about that!", "server_error", None),
    503: ("The engine is currently overloaded, please try again later.", "server_error", None),
}


def error_body(
    status: int, message: str | None = None, kind: str | None = None, code: str | None = None
) -> dict:
    default = _ERRORS.get(status, ("Error.", "invalid_request_error", None))
    return {
        "error": {
            "message": message or default[0],
            "type": kind or default[1],
            "param": None,
            "code": code or default[2],
        }
    }


def transcript_of(body: dict[str, Any]) -> str:
    """The transcript a request carries (the last user message, as the client encodes it)."""
    content = [m for m in body.get("messages", []) if m.get("role") == "user"][-1]["content"]
    try:
        return str(json.loads(content)["transcript"])
    except (ValueError, KeyError, TypeError):
        return str(content)


class OpenAIStandIn:
    """Start with ``start()`` (returns the base URL, ``http://127.0.0.1:<port>/v1``) or as a context manager."""

    def __init__(self, api_key: str = API_KEY) -> None:
        self.api_key = api_key
        self.replies: list[Reply] = [Reply(arguments=UNKNOWN)]
        self.responder: Callable[[dict[str, Any]], Reply] | None = None
        self.requests: list[dict[str, Any]] = []
        self.statuses: list[int] = []
        self.base_url = ""
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def __enter__(self) -> OpenAIStandIn:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> str:
        owner = self

        class Handler(_Handler):
            standin = owner

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}/v1"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def reset(self, *replies: Reply, responder: Callable[[dict[str, Any]], Reply] | None = None) -> None:
        with self._lock:
            self.replies = list(replies) or [Reply(arguments=UNKNOWN)]
            self.responder = responder
            self.requests.clear()
            self.statuses.clear()

    def next_reply(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            self.requests.append(body)
            if self.responder is not None:
                return self.responder(body)
            return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]


class _Handler(BaseHTTPRequestHandler):
    standin: OpenAIStandIn
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _send(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        self.standin.statuses.append(status)
        data = json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("x-request-id", f"req_{uuid.uuid4().hex[:24]}")
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (its time box)

    def _authorised(self) -> bool:
        if self.headers.get("Authorization") == f"Bearer {self.standin.api_key}":
            return True
        given = self.headers.get("Authorization") is not None
        message = None if given else "You didn't provide an API key."
        self._send(401, error_body(401, message, code="invalid_api_key" if given else None))
        return False

    def do_GET(self) -> None:
        if not self._authorised():
            return
        if self.path.rstrip("/") != "/v1/models":
            self._send(404, error_body(404, f"Invalid URL (GET {self.path})"))
            return
        created = int(time.time())
        models = [{"id": m, "object": "model", "created": created, "owned_by": "system"} for m in MODELS]
        self._send(200, {"object": "list", "data": models})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if not self._authorised():
            return
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._send(404, error_body(404, f"Invalid URL (POST {self.path})"))
            return
        try:
            body = json.loads(raw)
        except ValueError:
            self._send(400, error_body(400, "We could not parse the JSON body of your request."))
            return
        problem = _check_request(body)
        if problem is not None:
            status, message, code = problem
            self._send(status, error_body(status, message, code=code))
            return
        reply = self.standin.next_reply(body)
        if reply.delay_s:
            time.sleep(reply.delay_s)
        if reply.status != 200:
            self._send(
                reply.status, error_body(reply.status), {"retry-after": "1"} if reply.status == 429 else None
            )
            return
        self._send(200, _completion(body, reply))


def _check_request(body: Any) -> tuple[int, str, str | None] | None:
    if not isinstance(body, dict) or not isinstance(body.get("model"), str):
        return 400, "you must provide a model parameter", None
    if body["model"] not in MODELS:
        return (
            404,
            f"The model `{body['model']}` does not exist or you do not have access to it.",
            "model_not_found",
        )
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages or not all(isinstance(m, dict) for m in messages):
        return 400, "'messages' must be a non-empty array", None
    tools = body.get("tools") or []
    names = []
    for tool in tools:
        function = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(tool, dict) or tool.get("type") != "function" or not isinstance(function, dict):
            return 400, "Invalid 'tools': each tool must be of type function", None
        if not isinstance(function.get("name"), str) or not isinstance(function.get("parameters", {}), dict):
            return 400, "Invalid 'tools[].function'", None
        names.append(function["name"])
    choice = body.get("tool_choice")
    if isinstance(choice, dict) and choice.get("function", {}).get("name") not in names:
        return 400, "Invalid value for 'tool_choice': no function with that name in 'tools'", None
    return None


def _completion(body: dict[str, Any], reply: Reply) -> dict[str, Any]:
    offered = [t["function"]["name"] for t in body.get("tools") or []]
    message: dict[str, Any] = {"role": "assistant", "content": None, "refusal": None}
    finish = "stop"
    if reply.arguments is not None:
        arguments = reply.arguments if isinstance(reply.arguments, str) else json.dumps(reply.arguments)
        name = reply.tool_name or (offered[0] if offered else "function")
        message["tool_calls"] = [
            {
                "id": f"call_{uuid.uuid4().hex[:24]}",
                "type": "function",
                "function": {"name": name, "arguments": arguments},
            }
            for _ in range(reply.calls)
        ]
        finish = "tool_calls"
    else:
        message["content"] = reply.content or "I can only help with inventory."
    prompt_tokens = sum(len(str(m.get("content", ""))) for m in body["messages"]) // 4
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:29]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body["model"],
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": 24,
            "total_tokens": prompt_tokens + 24,
        },
        "system_fingerprint": "fp_standin",
    }
