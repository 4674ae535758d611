"""The pre-roll buffer: the last moments of audio before a wake, so the first word after the wake word is not
clipped."""

from __future__ import annotations

from collections import deque

from device.protocols import CHUNK_SECONDS, Audio


class PreRoll:
    """Ring buffer of the last ``seconds`` of chunks, so words just after the wake word are not clipped."""

    def __init__(self, seconds: float, chunk_seconds: float = CHUNK_SECONDS) -> None:
        self.seconds = seconds
        self._chunks: deque[Audio] = deque(maxlen=max(1, round(seconds / chunk_seconds)))
        self._enabled = seconds > 0

    def push(self, chunk: Audio) -> None:
        if self._enabled:
            self._chunks.append(chunk)

    def drain(self, seconds: float | None = None) -> list[Audio]:
        """The last ``seconds`` (default: all) of buffered chunks, oldest first; the buffer is left empty."""
        chunks = list(self._chunks)
        self._chunks.clear()
        if seconds is not None:
            keep = max(1, round(seconds / CHUNK_SECONDS))
            chunks = chunks[-keep:]
        return chunks

    def clear(self) -> None:
        self._chunks.clear()
