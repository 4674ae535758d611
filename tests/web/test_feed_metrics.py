"""The live feed and the metrics, fed the pipeline's own events in the order a command produces them."""

from __future__ import annotations

import asyncio
import json

from prometheus_client.parser import text_string_to_metric_families

from device.intent.command import Action, Command, Resolver
from device.pipeline import events as ev
from device.web.feed import LiveFeed
from device.web.metrics import Metrics

OAT = Command(Action.ADD, item="oat milk", quantity=3, unit="carton", location="walk-in", text="add three")


def a_command(resolver: Resolver = Resolver.GRAMMAR, engine: str = "deepgram") -> list[ev.Event]:
    command = OAT.with_(resolver=resolver)
    return [
        ev.Wake(model="okay_nabu", score=0.97, at=10.0),
        ev.StateChanged(state="listening", at=10.0),
        ev.Listening(at=10.0),
        ev.InterimTranscript(text="add three", engine=engine, at=10.5),
        ev.SpeechEnd(reason="silence", speech_s=1.2, endpoint_delay_s=0.42, at=11.0),
        ev.StateChanged(state="thinking", at=11.0),
        ev.TranscriptReady(text="add three cartons of oat milk", engine=engine, seconds=0.31, at=11.31),
        ev.CommandResolved(command=command, seconds=0.02, at=11.33),
        ev.Outcome(status="applied", reply="Added 3 cartons of oat milk.", event_id="e1", at=11.34),
        ev.ReplyStarted(text="Added 3 cartons of oat milk.", at=11.6),
        ev.StateChanged(state="idle", at=12.5),
    ]


def test_the_feed_keeps_state_words_and_the_last_twenty_commands() -> None:
    feed = LiveFeed(clock=lambda: 1_765_000_000.0)
    seen = []
    for event in a_command()[:4]:
        feed.on_event(event)
    seen.append((feed.state, feed.heard, len(feed.recent)))
    for event in a_command()[4:]:
        feed.on_event(event)
    seen.append((feed.state, feed.heard, len(feed.recent)))
    assert seen == [("listening", "add three", 0), ("idle", "add three cartons of oat milk", 1)]
    entry = feed.recent[0]
    assert (entry.transcript, entry.engine, entry.status, entry.event_id) == (
        "add three cartons of oat milk", "deepgram", "applied", "e1"
    )  # fmt: skip
    assert entry.command == "add oat milk 3 carton @ walk-in" and entry.resolver == "grammar"
    feed.on_event(
        ev.Outcome(status="timed_out", reply="Okay, I left it.", event_id="e2")
    )  # no words before it
    assert feed.recent[0].transcript == "" and feed.recent[0].status == "timed_out"
    for n in range(30):
        feed.on_event(ev.Outcome(status="answered", reply=f"reply {n}"))
    assert len(feed.recent) == 20 and feed.recent[0].reply == "reply 29"
    feed.on_event(ev.WakeChecked(score=0.6, accepted=False))
    feed.on_event(ev.WakeChecked(score=0.7, accepted=True))
    assert (feed.wakes_today, feed.checks_down_today) == (1, 1)


def test_the_feed_shows_offline_while_idle_with_a_cloud_part_down() -> None:
    feed = LiveFeed()
    shown = []
    for event in [
        ev.Connectivity(part="speech", online=False, reason="connect_timeout"),
        ev.StateChanged(state="listening"),
        ev.Connectivity(part="sync", online=False, reason="the cloud did not answer"),
        ev.StateChanged(state="idle"),
        ev.Connectivity(part="speech", online=True),
        ev.Connectivity(part="sync", online=True),
    ]:
        feed.on_event(event)
        shown.append((feed.shown_state, sorted(feed.offline)))
    assert shown == [
        ("offline", ["speech"]),
        ("listening", ["speech"]),
        ("listening", ["speech", "sync"]),
        ("offline", ["speech", "sync"]),
        ("offline", ["sync"]),
        ("idle", []),
    ]


def test_connected_pages_get_each_pushed_event_as_json() -> None:
    async def run() -> list[dict[str, object]]:
        feed = LiveFeed()
        queue = feed.connect()
        for event in a_command():
            feed.on_event(event)
        feed.disconnect(queue)
        feed.on_event(ev.StateChanged(state="muted"))  # after leaving: not sent
        return [json.loads(queue.get_nowait()) for _ in range(queue.qsize())]

    kinds = [m["event"] for m in asyncio.run(run())]
    assert kinds == ["state", "listening", "interim", "state", "transcript", "command", "outcome", "state"]


def test_a_page_that_stops_reading_misses_updates_and_nothing_else() -> None:
    async def run() -> tuple[int, str]:
        feed = LiveFeed(queue_size=3)
        slow = feed.connect()
        for n in range(10):
            feed.on_event(ev.InterimTranscript(text=f"w{n}", engine="deepgram"))
        return slow.qsize(), feed.heard

    assert asyncio.run(run()) == (3, "w9")


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_metrics_count_the_bus_in_prometheus_text() -> None:
    status = {"backlog": 4, "quarantined": 1, "last_success": "2026-12-07T10:00:00.000Z", "last_error": None}
    metrics = Metrics(cloud_engine="deepgram", sync_status=lambda: status)
    for event in [*a_command(), *a_command(Resolver.LLM, engine="whisper.tiny.en")]:
        metrics.on_event(event)
    metrics.on_event(ev.WakeChecked(score=0.6, accepted=False))
    metrics.on_event(ev.ErrorEvent(code="stt", message="x"))
    found = _samples(metrics.render().decode())
    assert found[("larder_wakes_total", (("source", "wake_word"),))] == 2
    assert found[("larder_wake_checks_turned_down_total", ())] == 1
    assert found[("larder_commands_total", (("outcome", "applied"), ("resolver", "grammar")))] == 1
    assert found[("larder_commands_total", (("outcome", "applied"), ("resolver", "llm")))] == 1
    assert found[("larder_transcripts_total", (("engine", "deepgram"),))] == 1
    assert found[("larder_stt_failovers_total", ())] == 1  # the whisper transcript while deepgram is first
    for stage in ("endpoint", "transcribe", "resolve", "first_audio"):
        assert found[("larder_stage_seconds_count", (("stage", stage),))] == 2
    assert found[("larder_stage_seconds_bucket", (("le", "0.5"), ("stage", "endpoint")))] == 2
    assert (
        found[("larder_stage_seconds_sum", (("stage", "first_audio"),))] == 2 * 0.27
        or abs(found[("larder_stage_seconds_sum", (("stage", "first_audio"),))] - 0.54) < 1e-6
    )
    assert found[("larder_sync_backlog", ())] == 4 and found[("larder_sync_quarantined", ())] == 1
    assert found[("larder_sync_last_success_timestamp_seconds", ())] > 1.7e9
    assert found[("larder_stage_errors_total", (("code", "stt"),))] == 1
    assert found[("process_resident_memory_bytes", ())] > 1e6
    assert ("process_cpu_seconds_total", ()) in found
