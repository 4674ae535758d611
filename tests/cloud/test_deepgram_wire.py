"""Deepgram's wire format without I/O: the URL, audio message sizes, lenient message parsing, error mapping."""

from __future__ import annotations

import socket
from urllib.parse import parse_qsl, urlsplit

from hypothesis import given
from hypothesis import strategies as st

from device.inventory.catalog import Catalogue, Item
from device.stt.deepgram_wire import (
    MALFORMED,
    MAX_KEYTERMS,
    MAX_MESSAGE_BYTES,
    MIN_MESSAGE_BYTES,
    Other,
    Result,
    close_error,
    connect_error,
    keyterms,
    listen_url,
    parse_message,
    split_messages,
)


def test_listen_url_has_the_stream_options_and_one_keyterm_per_term() -> None:
    url = listen_url("wss://api.deepgram.com/v1/listen", model="nova-3", keyterms=["oat milk", "walk-in"])
    parts = urlsplit(url)
    params = parse_qsl(parts.query)
    values = dict(params)
    assert (parts.scheme, parts.netloc, parts.path) == ("wss", "api.deepgram.com", "/v1/listen")
    assert values["model"] == "nova-3"
    assert values["encoding"] == "linear16" and values["sample_rate"] == "16000" and values["channels"] == "1"
    assert values["interim_results"] == "true" and values["vad_events"] == "true"
    assert values["smart_format"] == "true"
    assert values["endpointing"] == "300" and values["utterance_end_ms"] == "1000"
    assert [v for k, v in params if k == "keyterm"] == ["oat milk", "walk-in"]


def test_listen_url_keeps_parameters_given_in_the_setting_and_uses_keywords_before_nova3() -> None:
    url = listen_url(
        "wss://dg.example/v1/listen?endpointing=500&tag=kitchen", model="nova-2", keyterms=["oat milk"]
    )
    params = parse_qsl(urlsplit(url).query)
    assert [v for k, v in params if k == "endpointing"] == ["500"]
    assert ("tag", "kitchen") in params
    assert ("keywords", "oat milk") in params and not any(k == "keyterm" for k, _ in params)


def test_keyterms_are_items_then_locations_then_aliases_unique_and_capped() -> None:
    items = tuple(Item(name=f"item {i}", unit="each", aliases=("oat milk",)) for i in range(150))
    catalogue = Catalogue(items=(Item(name="Oat milk", unit="carton"), *items), locations=("walk-in", "bar"))
    terms = keyterms(catalogue)
    assert terms[0] == "Oat milk"
    assert len(terms) == MAX_KEYTERMS
    assert len({t.casefold() for t in terms}) == len(terms)  # "oat milk" alias not repeated
    small = Catalogue(
        items=(Item(name="basil", unit="bunch", aliases=("fresh basil",)),), locations=("walk-in",)
    )
    assert keyterms(small) == ["basil", "walk-in", "fresh basil"]


@given(st.lists(st.integers(min_value=0, max_value=9000).map(lambda n: n * 2), max_size=30), st.booleans())
def test_audio_messages_are_20_to_100_ms_and_lose_nothing(feeds: list[int], final: bool) -> None:
    pending = bytearray()
    sent: list[bytes] = []
    data = bytearray()
    for size in feeds:
        chunk = bytes((i % 251) + 1 for i in range(size))  # non-zero bytes, so padding is visible
        data.extend(chunk)
        pending.extend(chunk)
        sent += split_messages(pending, final=False)
    sent += split_messages(pending, final=final)
    assert all(MIN_MESSAGE_BYTES <= len(m) <= MAX_MESSAGE_BYTES for m in sent)
    joined = b"".join(sent)
    if final:
        assert not pending
        assert joined[: len(data)] == bytes(data) and set(joined[len(data) :]) <= {0}
        assert len(joined) - len(data) < MIN_MESSAGE_BYTES
    else:
        assert len(pending) < MIN_MESSAGE_BYTES
        assert joined + bytes(pending) == bytes(data)


def test_results_are_read_and_unknown_fields_or_types_tolerated() -> None:
    message = {
        "type": "Results",
        "channel_index": [0, 1],
        "duration": 1.25,
        "start": 0.5,
        "is_final": True,
        "speech_final": False,
        "from_finalize": True,
        "channel": {
            "alternatives": [{"transcript": " add  three ", "confidence": 0.9, "words": [], "new": 1}]
        },
        "metadata": {"request_id": "r1", "model_info": {"name": "x"}},
        "brand_new_field": {"a": [1]},
    }
    result = parse_message(message)
    assert result == Result("add three", 0.9, 0.5, 1.25, True, False, True)
    assert result.end == 1.75
    empty = {"type": "Results", "channel": {"alternatives": [{"transcript": ""}]}, "start": "x"}
    assert parse_message(empty) == Result("", 0.0, 0.0, 0.0, False, False, False)
    for broken in ({}, {"channel": {"alternatives": "?"}}, {"channel": {"alternatives": [1, 2]}}):
        assert parse_message({"type": "Results", **broken}).kind == MALFORMED  # words lost, not silence
    assert parse_message({"type": "Metadata", "request_id": "abc"}) == Other("Metadata", "abc")
    assert parse_message({"type": "Error", "description": "bad"}).description == "bad"
    assert parse_message({"type": "FutureThing"}).kind == "FutureThing"
    assert parse_message([1, 2]).kind == "?"


def test_close_codes_and_connect_failures_map_to_kinds() -> None:
    assert close_error(1011, "NET-0001").kind == "closed_1011"
    assert close_error(1008, "DATA-0000").kind == "closed_1008"
    assert close_error(None, "").kind == "dropped" and close_error(1006, "").kind == "dropped"
    assert connect_error(TimeoutError(), timeout_s=1).kind == "connect_timeout"
    assert connect_error(socket.gaierror(-2, "Name or service not known"), timeout_s=1).kind == "dns"
    assert connect_error(ConnectionRefusedError(), timeout_s=1).kind == "refused"
    assert connect_error(OSError(101, "Network is unreachable"), timeout_s=1).kind == "network"
