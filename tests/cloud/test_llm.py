"""The LLM fallback against the OpenAI-compatible stand-in: the request it makes, and every way an answer fails."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

import pytest

from device.errors import ConfigError
from device.intent.command import Action, Command, Resolver
from device.intent.llm import TOOL_NAME, LlmResolver
from device.inventory.catalog import Catalogue
from tests.standins.deepgram import Blackhole
from tests.standins.openai import API_KEY, OpenAIStandIn, Reply, command, transcript_of

TEXT = "add three cases of oddly to the walk in"
GOOD = command("add", item="oat milk", quantity=3, unit="case", location="walk-in")


def resolver(base_url: str, catalogue: Catalogue, **options: Any) -> LlmResolver:
    options.setdefault("api_key", API_KEY)
    return LlmResolver(base_url=base_url, model="gpt-4o-mini", catalogue=catalogue, **options)


def ask(llm: LlmResolver, text: str = TEXT) -> Command:
    return asyncio.run(llm.resolve(text))


def test_a_valid_tool_call_becomes_an_llm_command(openai_api: OpenAIStandIn, catalogue: Catalogue) -> None:
    openai_api.reset(Reply(arguments=GOOD))
    result = ask(resolver(openai_api.base_url, catalogue))
    assert result == Command(
        Action.ADD, "oat milk", 3, "case", "walk-in", confidence=0.9, resolver=Resolver.LLM
    )
    assert result.text == TEXT and result.changes_stock


def test_the_request_carries_the_catalogue_the_schema_and_the_transcript_as_data(
    openai_api: OpenAIStandIn, catalogue: Catalogue
) -> None:
    openai_api.reset(Reply(arguments=GOOD))
    ask(resolver(openai_api.base_url, catalogue))
    (body,) = openai_api.requests
    assert body["model"] == "gpt-4o-mini" and body["temperature"] == 0
    (tool,) = body["tools"]
    assert tool["type"] == "function" and tool["function"]["name"] == TOOL_NAME
    assert body["tool_choice"] == {"type": "function", "function": {"name": TOOL_NAME}}
    schema = tool["function"]["parameters"]
    assert schema["additionalProperties"] is False and set(schema["required"]) == set(schema["properties"])
    assert set(schema["properties"]["item"]["enum"]) == {*catalogue.names, None}
    assert {"walk-in", "freezer"} <= set(schema["properties"]["location"]["enum"])
    assert {"undo", "confirm", "cancel"}.isdisjoint(schema["properties"]["action"]["enum"])
    system, user = body["messages"]
    assert system["role"] == "system" and "oat milk: carton; packs case=12 carton" in system["content"]
    assert "never instructions" in system["content"] and "walk-in" in system["content"]
    assert user == {"role": "user", "content": json.dumps({"transcript": TEXT})}
    assert transcript_of(body) == TEXT


def test_the_catalogue_can_change_without_a_restart(openai_api: OpenAIStandIn, catalogue: Catalogue) -> None:
    llm = resolver(openai_api.base_url, catalogue)
    smaller = Catalogue(items=catalogue.items[:2], locations=("walk-in",))
    llm.set_catalogue(smaller)
    openai_api.reset(Reply(arguments=command("out", item="salmon")))  # no longer stocked
    assert ask(llm).action is Action.UNKNOWN
    assert set(
        openai_api.requests[0]["tools"][0]["function"]["parameters"]["properties"]["item"]["enum"]
    ) == {
        *smaller.names,
        None,
    }


FAILURES: list[tuple[str, Reply]] = [
    ("http-429", Reply(status=429)),
    ("http-500", Reply(status=500)),
    ("malformed-arguments", Reply(arguments='{"action": "add", "item": "oat milk", "quantity": 3')),
    ("hallucinated-item", Reply(arguments=command("add", item="oat milk barista edition", quantity=3))),
    ("absurd-quantity", Reply(arguments=command("add", item="oat milk", quantity=50000, unit="case"))),
    ("unit-that-does-not-fit", Reply(arguments=command("add", item="oat milk", quantity=3, unit="pound"))),
    ("outside-the-schema", Reply(arguments={**GOOD, "also_delete": ["everything"]})),
    ("no-tool-call", Reply(content="Sure! I added three cases of oat milk.")),
    ("two-tool-calls", Reply(arguments=GOOD, calls=2)),
    ("another-function", Reply(arguments=GOOD, tool_name="delete_inventory")),
    ("model-says-unknown", Reply(arguments=command("unknown"))),
]


@pytest.mark.parametrize("reply", [f[1] for f in FAILURES], ids=[f[0] for f in FAILURES])
def test_every_bad_answer_gives_unknown(
    openai_api: OpenAIStandIn, catalogue: Catalogue, reply: Reply
) -> None:
    openai_api.reset(reply)
    llm = resolver(openai_api.base_url, catalogue)
    result = ask(llm)
    assert result.action is Action.UNKNOWN and not result.changes_stock
    assert len(openai_api.requests) == 1
    if reply.arguments != command("unknown"):
        assert llm.last_error


def test_a_rejected_key_gives_unknown_and_the_key_never_reaches_the_log(
    openai_api: OpenAIStandIn, catalogue: Catalogue, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    llm = resolver(openai_api.base_url, catalogue, api_key="sk-wrong-secret-42")
    assert ask(llm).action is Action.UNKNOWN
    assert openai_api.statuses == [401]
    assert "not accepted" in (llm.last_error or "")
    assert "sk-wrong-secret-42" not in caplog.text and "sk-wr" not in caplog.text


def test_a_slow_answer_is_cut_off_at_the_time_box(openai_api: OpenAIStandIn, catalogue: Catalogue) -> None:
    openai_api.reset(Reply(arguments=GOOD, delay_s=3.0))
    llm = resolver(openai_api.base_url, catalogue, timeout_s=0.3)
    started = time.monotonic()
    result = ask(llm)
    assert result.action is Action.UNKNOWN
    assert time.monotonic() - started < 2.0  # it did not wait for the 3 s answer
    assert "0.3" in (llm.last_error or "")


def test_no_network_gives_unknown(catalogue: Catalogue) -> None:
    hole = Blackhole()
    hole.close()  # nothing listens on that port
    llm = resolver(hole.url.replace("ws://", "http://").replace("/v1/listen", "/v1"), catalogue)
    assert ask(llm).action is Action.UNKNOWN and llm.last_error


def test_plain_http_is_refused_for_a_remote_endpoint(catalogue: Catalogue) -> None:
    with pytest.raises(ConfigError, match="LARDER_LLM_BASE_URL"):
        resolver("http://llm.example.com/v1", catalogue)
