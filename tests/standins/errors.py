"""The error every gateway stand-in part raises to answer with a status, a JSON body and headers."""

from __future__ import annotations

from typing import Any


class HttpError(Exception):
    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        super().__init__(body.get("message"))
        self.status, self.body, self.headers = status, body, headers or {}
