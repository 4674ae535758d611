"""Logging for the daemon and the CLI: journald-friendly lines, and no secret ever reaches a log.

Under systemd with stderr connected to the journal (``$JOURNAL_STREAM`` names stderr's device and inode),
each line starts with an sd-daemon priority prefix such as ``<6>`` so journald records the level, and carries
no timestamp (journald adds its own). Elsewhere lines look like
``2026-11-25 18:30:00,123 INFO larder.sync: message``.

``SecretScrubber`` is a handler filter that replaces every secret from ``Settings.secrets()`` in the message,
its arguments, the traceback and the stack text with ``***``, whichever logger the record came from.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterable, Mapping
from typing import TextIO
from urllib.parse import quote, quote_plus

from device.settings import Settings

MASK = "***"

# sd-daemon(3) priorities
_PRIORITY = {
    logging.DEBUG: 7,
    logging.INFO: 6,
    logging.WARNING: 4,
    logging.ERROR: 3,
    logging.CRITICAL: 2,
}


def priority(levelno: int) -> int:
    """The syslog priority of a logging level (levels between named ones round to the more severe)."""
    for level in sorted(_PRIORITY, reverse=True):
        if levelno >= level:
            return _PRIORITY[level]
    return 7


class SecretScrubber(logging.Filter):
    """Replaces each secret (and its URL-encoded forms) with ``***`` in everything a record will print."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        forms: set[str] = set()
        for secret in secrets:
            if secret:
                forms.update({secret, quote(secret, safe=""), quote_plus(secret)})
        # longest first, so a secret that contains another is masked whole
        self._forms = sorted(forms, key=len, reverse=True)

    def scrub(self, text: str) -> str:
        for form in self._forms:
            if form in text:
                text = text.replace(form, MASK)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._forms:
            return True
        record.msg = self.scrub(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = self.scrub(record.stack_info)
        return True


class JournalFormatter(logging.Formatter):
    """``<6>larder.sync: message``, with the prefix repeated on every line of a traceback."""

    def __init__(self) -> None:
        super().__init__("%(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        prefix = f"<{priority(record.levelno)}>"
        return "\n".join(prefix + line for line in super().format(record).splitlines() or [""])


def stream_is_journal(stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    """True when ``stream`` is the journal stream systemd connected (``$JOURNAL_STREAM`` = ``dev:inode``)."""
    env = os.environ if environ is None else environ
    value = env.get("JOURNAL_STREAM", "")
    dev, _, ino = value.partition(":")
    if not (dev.isdigit() and ino.isdigit()):
        return False
    try:
        st = os.fstat(stream.fileno())
    except (OSError, ValueError, AttributeError):
        return False
    return st.st_dev == int(dev) and st.st_ino == int(ino)


def configure_logging(
    settings: Settings | None = None,
    *,
    level: str | int | None = None,
    stream: TextIO | None = None,
    environ: Mapping[str, str] | None = None,
    secrets: Iterable[str] = (),
) -> logging.Handler:
    """Set up the root logger: one stderr handler, journald prefixes under systemd, secrets scrubbed.

    ``level`` overrides ``settings.log_level``; ``secrets`` adds to ``settings.secrets()``. Replaces handlers
    installed earlier (for example by ``logging.basicConfig``). Returns the handler.
    """
    out = stream if stream is not None else sys.stderr
    handler = logging.StreamHandler(out)
    if stream_is_journal(out, environ):
        handler.setFormatter(JournalFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    all_secrets = [*(settings.secrets() if settings is not None else []), *secrets]
    handler.addFilter(SecretScrubber(all_secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    chosen = level if level is not None else (settings.log_level if settings is not None else "INFO")
    root.setLevel(chosen.upper() if isinstance(chosen, str) else chosen)
    # chatty libraries stay at WARNING unless we are debugging
    if root.level > logging.DEBUG:
        for name in ("httpx", "httpcore", "websockets", "hpack", "urllib3", "faster_whisper"):
            logging.getLogger(name).setLevel(logging.WARNING)
    logging.captureWarnings(True)
    return handler
