"""Serving the page from the daemon's own event loop (aiohttp ``AppRunner`` + ``TCPSite``), started and stopped
with it.

``open_page`` builds the ``Page`` from a ``Unit``: the live feed and the metrics subscribe to the unit's bus, an
``Inventory`` over the unit's store takes corrections, and the pipeline's ``announce`` says answers given on
the page. A page that cannot listen (the port is taken, the address is not this machine's) is logged as a
warning and the unit goes on without it: voice never stops for the page.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from device.pipeline import events as ev
from device.web.app import Page, build_app
from device.web.feed import LiveFeed
from device.web.metrics import Metrics

log = logging.getLogger(__name__)


class PageServer:
    """The page's HTTP server; ``url`` once it listens."""

    def __init__(
        self, page: Page, host: str, port: int, *, unsubscribe: Callable[[], None] = lambda: None
    ) -> None:
        self.page = page
        self.host = host
        self.port = port
        self.url: str | None = None
        self._runner: web.AppRunner | None = None
        self._unsubscribe = unsubscribe

    async def start(self) -> str | None:
        """Listen; the page's URL, or ``None`` (logged) when it cannot."""
        runner = web.AppRunner(
            build_app(self.page), access_log=None, handle_signals=False, shutdown_timeout=1.0
        )
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            log.warning(
                "the unit's page could not listen on %s:%s (%s); the unit goes on without it",
                self.host,
                self.port,
                exc.strerror or exc,
            )
            return None
        self._runner = runner
        port = runner.addresses[0][1] if runner.addresses else self.port
        shown = "localhost" if self.host in ("0.0.0.0", "::", "") else self.host
        self.url = f"http://{shown}:{port}/"
        log.info("the unit's page is at %s", self.url)
        return self.url

    async def stop(self) -> None:
        self._unsubscribe()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


def _cloud_engine(settings: Any) -> str | None:
    """The engine tried first when it is a cloud one (a transcript from another is a failover)."""
    wants = str(settings.stt)
    if wants == "deepgram" or (wants == "auto" and settings.deepgram_api_key):
        return "deepgram"
    return None


async def open_page(
    unit: Any,
    *,
    announce: Callable[[Any], Awaitable[None]] | None = None,
    clock: Callable[[], float] = time.time,
) -> PageServer | None:
    """The unit's page, listening as the settings say; ``None`` when it is off or cannot listen."""
    settings = unit.settings
    if not settings.web_enabled:
        return None
    from cloud_sync.status import sync_status
    from device.inventory.apply import Inventory

    feed = LiveFeed()
    metrics = Metrics(
        cloud_engine=_cloud_engine(settings), sync_status=lambda: sync_status(unit.store, limit=0)
    )

    async def publish_turn(turn: Any) -> None:
        unit.bus.publish(ev.Outcome(status=turn.status, reply=turn.reply, event_id=turn.event_id))

    page = Page(
        settings=settings,
        store=unit.store,
        dialogue=unit.dialogue,
        inventory=Inventory(unit.store, max_quantity=settings.max_quantity),
        feed=feed,
        metrics=metrics,
        announce=announce or publish_turn,
        catalogue_changed=unit.catalogue_changed,
        publish=unit.bus.publish,
        clock=clock,
    )
    if settings.screen_pin_hash is not None and page.pin_hash is None:
        log.warning(
            "LARDER_SCREEN_PIN_HASH is not a hash install.sh --screen-pin wrote: the page stays read-only"
        )
    stops = [unit.bus.subscribe(feed.on_event), unit.bus.subscribe(metrics.on_event)]

    def unsubscribe() -> None:
        for stop in stops:
            stop()

    server = PageServer(page, settings.web_host, settings.web_port, unsubscribe=unsubscribe)
    if await server.start() is None:
        unsubscribe()
        return None
    return server
