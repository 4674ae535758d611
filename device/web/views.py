"""The page's reading handlers: Live, Stock, Journal, Unit, their CSV downloads, the WebSocket and ``/metrics``.

Nothing here changes anything. Store reads are small and indexed; the doctor's checks run in a worker thread,
at most once a minute, and the page shows the last results with their age.
"""

from __future__ import annotations

import asyncio
import contextlib
import platform
import time
from datetime import date, datetime
from typing import Any

from aiohttp import WSMsgType, web

import device
from device.web.app import PAGE, Page
from device.web.metrics import CONTENT_TYPE
from device.web.tables import JournalLine, StockLine, journal_rows, stock_rows, to_csv, waste_by_item

#: why the unit asks first, in words for the page (``device.dialogue.policy.Reason``)
WHY_ASKED = {
    "ambiguous": "more than one item matched what was said",
    "llm": "the command was worked out by the cloud language model",
    "runner_up": "it came from the recogniser's second guess at the words",
    "low_confidence": "the words were unclear",
    "out": "marking an item out is risky",
    "set_zero": "setting an item to zero is risky",
    "large": "the amount is unusually large",
    "all_of_it": "it uses or throws away all of an item",
}
STATES = ("idle", "listening", "thinking", "speaking", "muted", "offline", "error")


def _live_values(page: Page) -> dict[str, Any]:
    pending = page.dialogue.pending
    question = page.dialogue.question() if pending is not None else None
    return {
        "state": page.feed.shown_state,
        "rest": page.feed.state,
        "offline": dict(page.feed.offline),
        "heard": page.feed.heard,
        "recent": list(page.feed.recent),
        "question": question,
        "why": WHY_ASKED.get(pending.reason, pending.reason) if pending is not None else "",
        "choosing": pending is not None and pending.kind.value == "choose",
        "can_undo": page.store.last_change() is not None,
    }


async def live(request: web.Request) -> web.Response:
    page = request.app[PAGE]
    return page.render(request, "live.html", title="Live", **_live_values(page))


async def live_panel(request: web.Request) -> web.Response:
    """The commands and the pending question, re-fetched by the page when the feed says something changed."""
    page = request.app[PAGE]
    return page.render(request, "live_panel.html", **_live_values(page))


def _stock(page: Page, search: str) -> list[Any]:
    return stock_rows(page.store.catalogue(), page.store.stock(), date.today(), search=search)


async def stock(request: web.Request) -> web.Response:
    page = request.app[PAGE]
    search = request.query.get("q", "")[:100]
    catalogue = page.store.catalogue()
    editing = catalogue.get(request.query.get("edit", ""))
    return page.render(
        request,
        "stock.html",
        title="Stock",
        rows=_stock(page, search),
        search=search,
        locations=page.store.locations(),
        items=catalogue.items,
        editing=editing,
    )


def _csv(text: str, name: str) -> web.Response:
    return web.Response(
        text=text,
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


async def stock_csv(request: web.Request) -> web.Response:
    page = request.app[PAGE]
    return _csv(
        to_csv(_stock(page, request.query.get("q", "")[:100]), StockLine), f"stock-{date.today()}.csv"
    )


def _journal_filters(request: web.Request) -> dict[str, str]:
    return {k: request.query.get(k, "").strip()[:100] for k in ("day", "item", "action")}


def _journal(page: Page, filters: dict[str, str]) -> list[Any]:
    quarantined = [event.id for event, _ in page.store.quarantined()]
    return journal_rows(page.store.journal(), quarantined, **filters)


#: the page lists this many of the latest matching events (the CSV has them all)
SHOWN = 500


async def journal(request: web.Request) -> web.Response:
    page = request.app[PAGE]
    filters = _journal_filters(request)
    events = page.store.journal()
    catalogue = page.store.catalogue()
    quarantined = [event.id for event, _ in page.store.quarantined()]
    rows = journal_rows(events, quarantined, **filters)
    return page.render(
        request,
        "journal.html",
        title="Journal",
        rows=rows[:SHOWN],
        more=max(0, len(rows) - SHOWN),
        filters=filters,
        waste=waste_by_item(events, catalogue, datetime.now().astimezone()),
        items=sorted({e.item for e in events if e.item}, key=str.casefold),
        actions=sorted({e.action for e in events}),
    )


async def journal_csv(request: web.Request) -> web.Response:
    page = request.app[PAGE]
    return _csv(to_csv(_journal(page, _journal_filters(request)), JournalLine), f"journal-{date.today()}.csv")


class Checks:
    """The doctor's checks for the Unit page, run in a worker thread at most once per ``every_s``."""

    SKIP = ("models",)  # the daemon holds the models: loading them again would double its memory

    def __init__(self, every_s: float = 60.0) -> None:
        self.every_s = every_s
        self.results: list[Any] = []
        self.at: float | None = None
        self._task: asyncio.Task[None] | None = None

    def refresh(self, page: Page) -> None:
        stale = self.at is None or time.monotonic() - self.at > self.every_s
        if stale and (self._task is None or self._task.done()):
            self._task = asyncio.get_running_loop().create_task(self._run(page))

    async def _run(self, page: Page) -> None:
        from device import doctor

        names = [spec.name for spec in doctor.all_checks() if spec.name not in self.SKIP]
        self.results = await asyncio.to_thread(doctor.run_checks, page.settings, only=names)
        self.at = time.monotonic()


CHECKS: web.AppKey[Checks] = web.AppKey("checks")


async def unit(request: web.Request) -> web.Response:
    from cloud_sync.status import sync_status

    page = request.app[PAGE]
    checks = request.app[CHECKS]
    checks.refresh(page)
    settings = page.settings
    versions = {
        "Larder": device.__version__,
        "Python": platform.python_version(),
        "Whisper model": str(settings.whisper_model),
        "Wake word model": str(settings.wake_model),
        "Speech to text": str(settings.stt),
        "Language model": settings.llm_model if settings.llm_base_url else "off",
    }
    return page.render(
        request,
        "unit.html",
        title="Unit",
        checks=checks.results,
        checked_s=round(time.monotonic() - checks.at) if checks.at is not None else None,
        sync=sync_status(page.store),
        sync_on=bool(settings.supabase_url),
        mic=page.feed.mic,
        wakes=page.feed.wakes_today,
        checks_down=page.feed.checks_down_today,
        versions=versions,
        clients=page.feed.clients,
    )


async def websocket(request: web.Request) -> web.WebSocketResponse:
    """Every pushed event, as a JSON text message, while the page is open."""
    page = request.app[PAGE]
    socket = web.WebSocketResponse(heartbeat=30.0)
    await socket.prepare(request)
    queue = page.feed.connect()

    async def drain() -> None:  # the page sends nothing; reading notices when it leaves
        async for message in socket:
            if message.type == WSMsgType.ERROR:
                break

    reader = asyncio.ensure_future(drain())
    try:
        while not reader.done():
            getting = asyncio.ensure_future(queue.get())
            done, _ = await asyncio.wait({getting, reader}, return_when=asyncio.FIRST_COMPLETED)
            if getting not in done:
                getting.cancel()
                break
            await socket.send_str(getting.result())
    except (ConnectionError, RuntimeError):
        pass
    finally:
        page.feed.disconnect(queue)
        reader.cancel()
        with contextlib.suppress(Exception):
            await socket.close()
    return socket


async def metrics(request: web.Request) -> web.Response:
    page = request.app[PAGE]
    body = await asyncio.to_thread(page.metrics.render)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})
