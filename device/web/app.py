"""The page's aiohttp application: what it is built from (``Page``), its routes, and who may change things.

``Page`` holds what the handlers use: the store, the dialogue, an ``Inventory`` for corrections, the live feed,
the metrics, the sessions and the PIN lockout. Reading pages need no login. A change needs a session opened with
the PIN and the session's CSRF token in its form: ``Page.authorise`` refuses anything else with a clear
message, before the change is looked at. Errors a person can cause (``LarderError``, a bad form) become a page
that says what was wrong, with nothing changed; never a traceback.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import jinja2
from aiohttp import web

from device.errors import LarderError
from device.settings import Settings
from device.web.feed import LiveFeed
from device.web.metrics import Metrics
from device.web.pin import parse_hash
from device.web.security import Lockout, Session, Sessions, same_token

log = logging.getLogger(__name__)

SESSION_COOKIE = "larder_session"
LOGIN_COOKIE = "larder_login"
PAGE: web.AppKey[Page] = web.AppKey("page")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Refused(Exception):
    """A request the page will not carry out: ``status`` and one sentence saying why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Page:
    """Everything the page's handlers use; built once per daemon by ``server.PageServer``."""

    settings: Settings
    store: Any
    dialogue: Any
    inventory: Any
    feed: LiveFeed
    metrics: Metrics
    #: say a dialogue turn as the unit (the pipeline's ``announce``), or just publish its outcome
    announce: Callable[[Any], Awaitable[None]]
    #: hand a new catalogue to the grammar and the speech prompts
    catalogue_changed: Callable[[Any], None]
    publish: Callable[[Any], None]
    #: wall-clock seconds as the dialogue counts them (a file played fast keeps its own time)
    clock: Callable[[], float] = time.time
    monotonic: Callable[[], float] = time.monotonic
    sessions: Sessions = field(default_factory=Sessions)
    lockout: Lockout = field(default_factory=Lockout)
    flashes: dict[str, str] = field(default_factory=dict)
    templates: jinja2.Environment = field(
        default_factory=lambda: jinja2.Environment(
            loader=jinja2.PackageLoader("device.web", "templates"),
            autoescape=True,
            trim_blocks=True,
            lstrip_blocks=True,
        )
    )

    @property
    def pin_hash(self) -> str | None:
        """The stored PIN hash when one is set and well formed (a malformed one leaves the page read-only)."""
        secret = self.settings.screen_pin_hash
        value = secret.get_secret_value() if secret else ""
        return value if value and parse_hash(value) else None

    def session(self, request: web.Request) -> Session | None:
        return self.sessions.get(request.cookies.get(SESSION_COOKIE), self.monotonic())

    async def authorise(self, request: web.Request) -> dict[str, str]:
        """The form of a change, once the session and its CSRF token are right; else ``Refused``."""
        form = {k: str(v) for k, v in (await request.post()).items()}
        if self.pin_hash is None:
            raise Refused(403, "This unit has no screen PIN, so its page is read-only: nothing was changed.")
        session = self.session(request)
        if session is None:
            raise Refused(403, "Changes need the PIN: unlock the page first. Nothing was changed.")
        if not same_token(form.get("csrf"), session.csrf):
            raise Refused(
                403, "This form is out of date or did not come from this page: nothing was changed."
            )
        return form

    def render(self, request: web.Request, name: str, status: int = 200, **values: Any) -> web.Response:
        session = self.session(request)
        flash = self.flashes.pop(session.id, "") if session else ""
        html = self.templates.get_template(name).render(
            unlocked=session is not None,
            csrf=session.csrf if session else "",
            has_pin=self.pin_hash is not None,
            flash=flash,
            path=request.path,
            **values,
        )
        return web.Response(text=html, content_type="text/html", status=status, headers=_NO_STORE)

    def done(self, request: web.Request, message: str, to: str) -> web.Response:
        """After a change: remember what was done for the next page, and go there (POST, redirect, GET)."""
        session = self.session(request)
        if session is not None:
            self.flashes[session.id] = message
        raise web.HTTPSeeOther(to)


_NO_STORE = {"Cache-Control": "no-store"}
_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'",
}


@web.middleware
async def plain_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refusals and bad input become a short page saying why; security headers go on every answer."""
    page = request.app[PAGE]
    try:
        response = await handler(request)
    except Refused as exc:
        response = page.render(request, "message.html", status=exc.status, message=exc.message)
    except LarderError as exc:
        response = page.render(
            request, "message.html", status=400, message=f"{exc.message} Nothing was changed."
        )
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        response = page.render(request, "message.html", status=exc.status, message=exc.reason)
    for key, value in _HEADERS.items():
        response.headers.setdefault(key, value)
    return response


def build_app(page: Page) -> web.Application:
    from device.web import actions, views

    app = web.Application(middlewares=[plain_errors], client_max_size=64 * 1024)
    app[PAGE] = page
    app[views.CHECKS] = views.Checks()
    app.router.add_get("/", views.live)
    app.router.add_get("/live/panel", views.live_panel)
    app.router.add_get("/stock", views.stock)
    app.router.add_get("/stock.csv", views.stock_csv)
    app.router.add_get("/journal", views.journal)
    app.router.add_get("/journal.csv", views.journal_csv)
    app.router.add_get("/unit", views.unit)
    app.router.add_get("/ws", views.websocket)
    app.router.add_get("/metrics", views.metrics)
    app.router.add_get("/unlock", actions.unlock_form)
    app.router.add_post("/unlock", actions.unlock)
    app.router.add_post("/lock", actions.lock)
    app.router.add_post("/live/{answer:confirm|cancel|undo}", actions.answer)
    app.router.add_post("/stock/correct", actions.correct)
    app.router.add_post("/catalogue/item", actions.save_item)
    app.router.add_post("/unit/release", actions.release)
    app.router.add_static("/static", _static_dir(), show_index=False)
    return app


def _static_dir() -> str:
    from importlib import resources

    return str(resources.files("device.web").joinpath("static"))
