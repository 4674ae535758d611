"""``/metrics`` in the Prometheus text format (prometheus-client), counted from the event bus.

Wakes, wake checks turned down, commands by outcome and resolver, a latency histogram per stage (endpoint,
transcribe, resolve, first audio), transcripts per speech-to-text engine and failovers (a transcript from
another engine than the cloud one configured), and at scrape time the sync backlog, quarantine and last
error/success times read from the store, plus the process's CPU and resident memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from device.pipeline import events as ev

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
BUCKETS = (0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0)


class SyncCollector(Collector):
    """Sync backlog, quarantine and the times of the last success and error, read at scrape time."""

    def __init__(self, status: Callable[[], dict[str, Any]]) -> None:
        self._status = status

    def collect(self) -> Iterator[GaugeMetricFamily]:
        status = self._status()
        yield GaugeMetricFamily("larder_sync_backlog", "Journal events waiting for upload", status["backlog"])
        yield GaugeMetricFamily(
            "larder_sync_quarantined", "Events the cloud rejected, kept on the unit", status["quarantined"]
        )
        success = status.get("last_success")
        yield GaugeMetricFamily(
            "larder_sync_last_success_timestamp_seconds", "When a sync pass last succeeded", _epoch(success)
        )
        error = status.get("last_error") or {}
        yield GaugeMetricFamily(
            "larder_sync_last_error_timestamp_seconds",
            "When a sync pass last failed",
            _epoch(error.get("at")),
        )


def _epoch(value: Any) -> float:
    if not isinstance(value, str) or not value:
        return 0.0
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


class Metrics:
    """The unit's metrics; ``on_event`` subscribes to the bus. ``cloud_engine``: the STT engine tried first."""

    def __init__(self, *, cloud_engine: str | None, sync_status: Callable[[], dict[str, Any]] | None) -> None:
        self.registry = CollectorRegistry()
        self.cloud_engine = cloud_engine
        reg = self.registry
        self.wakes = Counter(
            "larder_wakes", "Wakes, by source (wake_word, button, followup)", ["source"], registry=reg
        )
        self.checks_down = Counter(
            "larder_wake_checks_turned_down", "Borderline wakes a check turned down", registry=reg
        )
        self.commands = Counter(
            "larder_commands", "Commands by outcome and resolver", ["outcome", "resolver"], registry=reg
        )
        self.latency = Histogram(
            "larder_stage_seconds", "Latency per stage", ["stage"], buckets=BUCKETS, registry=reg
        )
        self.transcripts = Counter(
            "larder_transcripts", "Transcripts by speech-to-text engine", ["engine"], registry=reg
        )
        self.failovers = Counter(
            "larder_stt_failovers",
            "Transcripts the on-device engine gave in place of the cloud one",
            registry=reg,
        )
        self.errors = Counter("larder_stage_errors", "Stage errors by code", ["code"], registry=reg)
        ProcessCollector(registry=reg)
        if sync_status is not None:
            reg.register(SyncCollector(sync_status))
        self._resolver = "none"
        self._resolved_at: float | None = None

    def on_event(self, event: ev.Event) -> None:
        match event:
            case ev.Wake():
                self.wakes.labels(event.source).inc()
            case ev.WakeChecked() if not event.accepted:
                self.checks_down.inc()
            case ev.Listening():
                self._resolver, self._resolved_at = "none", None
            case ev.SpeechEnd() if event.reason != "no_speech":
                self.latency.labels("endpoint").observe(event.endpoint_delay_s)
            case ev.TranscriptReady():
                self.latency.labels("transcribe").observe(event.seconds)
                self.transcripts.labels(event.engine).inc()
                if self.cloud_engine and not event.engine.startswith(self.cloud_engine):
                    self.failovers.inc()
            case ev.CommandResolved():
                if event.command.resolver != "screen":  # typed on the page: nothing was resolved
                    self.latency.labels("resolve").observe(event.seconds)
                self._resolver, self._resolved_at = str(event.command.resolver), event.at
            case ev.Outcome():
                self.commands.labels(event.status, self._resolver).inc()
                self._resolver = "none"
            case ev.ReplyStarted() if self._resolved_at is not None:
                self.latency.labels("first_audio").observe(max(0.0, event.at - self._resolved_at))
                self._resolved_at = None
            case ev.ErrorEvent():
                self.errors.labels(event.code).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
