"""Journald-friendly log lines, and no secret from the settings in any log output."""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from device.logging_setup import (
    JournalFormatter,
    SecretScrubber,
    configure_logging,
    priority,
    stream_is_journal,
)
from device.settings import Settings

DEEPGRAM = "dg_live_4f9c2a7b1e"
LLM = "sk-proj-Zx9/Q+w=="
SUPABASE = "sb_publishable_abc123"
CODE = "PROV-7781"


@pytest.fixture
def root_logger() -> Iterator[logging.Logger]:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    yield root
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])


def settings() -> Settings:
    return Settings(
        deepgram_api_key=DEEPGRAM,
        llm_api_key=LLM,
        supabase_key=SUPABASE,
        provisioning_code=CODE,
        log_level="DEBUG",
    )


def test_every_secret_is_scrubbed_from_messages_args_and_tracebacks(root_logger: logging.Logger) -> None:
    out = io.StringIO()
    configure_logging(settings(), stream=out, environ={})
    log = logging.getLogger("larder.cloud.test")
    log.info("connecting with key %s to %s", DEEPGRAM, "wss://api.deepgram.com")
    log.warning("llm said no to %r", {"authorization": f"Bearer {LLM}"})
    log.debug("url https://x.supabase.co/rest/v1?apikey=%s", "sb_publishable_abc123")
    log.info("quoted form: %s", "sk-proj-Zx9%2FQ%2Bw%3D%3D")
    try:
        raise RuntimeError(f"provisioning failed for code {CODE}")
    except RuntimeError:
        log.exception("provision")
    text = out.getvalue()
    for secret in (DEEPGRAM, LLM, SUPABASE, CODE, "sk-proj-Zx9%2FQ%2Bw%3D%3D"):
        assert secret not in text
    assert text.count("***") == 5
    assert "RuntimeError: provisioning failed for code ***" in text
    assert "wss://api.deepgram.com" in text


def test_a_secret_inside_another_is_masked_whole() -> None:
    scrub = SecretScrubber(["abc", "xxabcxx"]).scrub
    assert scrub("key=xxabcxx and abc") == "key=*** and ***"
    assert SecretScrubber([]).scrub("nothing to hide") == "nothing to hide"


def test_journal_stream_gets_priority_prefixes_on_every_line(
    tmp_path: Path, root_logger: logging.Logger
) -> None:
    path = tmp_path / "journal"
    with path.open("w+") as stream:
        st = os.fstat(stream.fileno())
        env = {"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"}
        assert stream_is_journal(stream, env)
        configure_logging(settings(), stream=stream, environ=env)
        logging.getLogger("larder.sync").warning("backlog %d", 3)
        logging.getLogger("larder.audio").info("mic up")
        try:
            raise ValueError(f"bad key {DEEPGRAM}")
        except ValueError:
            logging.getLogger("larder").error("boom", exc_info=True)
    lines = path.read_text().splitlines()
    assert lines[0] == "<4>larder.sync: backlog 3"
    assert lines[1] == "<6>larder.audio: mic up"
    assert all(line.startswith("<3>") for line in lines[2:]), lines[2:]
    assert lines[-1] == "<3>ValueError: bad key ***"


def test_plain_lines_when_stderr_is_not_the_journal(tmp_path: Path) -> None:
    with (tmp_path / "a").open("w") as stream:
        other = os.fstat(stream.fileno())
    with (tmp_path / "b").open("w") as stream:
        assert not stream_is_journal(stream, {"JOURNAL_STREAM": f"{other.st_dev}:{other.st_ino}"})
        assert not stream_is_journal(stream, {"JOURNAL_STREAM": "garbage"})
        assert not stream_is_journal(stream, {})
    assert not stream_is_journal(io.StringIO(), {"JOURNAL_STREAM": "1:2"})


def test_priorities_follow_sd_daemon() -> None:
    assert [priority(level) for level in (10, 20, 30, 40, 50)] == [7, 6, 4, 3, 2]
    assert priority(25) == 6 and priority(5) == 7
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "a\nb", None, None)
    assert JournalFormatter().format(record) == "<3>x: a\n<3>b"


def test_level_comes_from_settings(root_logger: logging.Logger) -> None:
    out = io.StringIO()
    configure_logging(Settings(log_level="WARNING"), stream=out, environ={})
    logging.getLogger("larder").info("hidden")
    logging.getLogger("larder").warning("shown")
    assert "hidden" not in out.getvalue() and "WARNING larder: shown" in out.getvalue()
