"""The page's changing handlers: unlock with the PIN, answer the pending question, undo, correct a quantity,
add or edit a catalogue item, release a quarantined event.

Changes run on the event loop, as the pipeline's own dialogue turns do, so they never interleave with a
spoken one. Each change is authorised first (``Page.authorise``: PIN session and CSRF token) and then goes through the
same code as voice: the dialogue for confirm, cancel and undo, the inventory for a correction (a ``set`` with
the transcript "corrected on screen"), the store's catalogue replace for an item. Commands carry the resolver
``screen``, so the journal says where they came from; their journal events sync like any other. The outcome is
published on the bus (Live and the sync worker hear it) and, for answers, spoken by the unit.
"""

from __future__ import annotations

import asyncio
import logging
import math

from aiohttp import web

from device.intent.command import Action, Command, Resolver
from device.inventory.catalog import Catalogue, item_from_fields
from device.pipeline import events as ev
from device.web.app import LOGIN_COOKIE, PAGE, SESSION_COOKIE, Page, Refused
from device.web.pin import verify_pin
from device.web.security import same_token

log = logging.getLogger(__name__)

CORRECTED = "corrected on screen"
_TEXT = {"confirm": "(confirm on screen)", "cancel": "(cancel on screen)", "undo": "(undo on screen)"}
_ACTION = {"confirm": Action.CONFIRM, "cancel": Action.CANCEL, "undo": Action.UNDO}
_COOKIE = {"httponly": True, "samesite": "Strict", "path": "/"}


def _back(request: web.Request, default: str) -> str:
    """Where to go after a change: the form's own page (a path on this site only)."""
    to = request.query.get("to", "")
    return to if to.startswith("/") and not to.startswith("//") else default


async def unlock_form(request: web.Request) -> web.Response:
    import secrets

    page = request.app[PAGE]
    token = secrets.token_urlsafe(24)
    response = page.render(
        request,
        "unlock.html",
        title="Unlock",
        login_token=token,
        to=_back(request, "/"),
        wait_s=math.ceil(page.lockout.wait_s(page.monotonic())),
    )
    response.set_cookie(LOGIN_COOKIE, token, max_age=900, **_COOKIE)  # type: ignore[arg-type]
    return response


async def unlock(request: web.Request) -> web.Response:
    page = request.app[PAGE]
    form = await request.post()
    if not same_token(str(form.get("token", "")), request.cookies.get(LOGIN_COOKIE, "")):
        raise Refused(403, "This form is out of date or did not come from this page: open Unlock again.")
    stored = page.pin_hash
    if stored is None:
        raise Refused(403, "This unit has no screen PIN, so its page is read-only.")
    wait = page.lockout.wait_s(page.monotonic())
    if wait > 0:
        raise Refused(429, f"Too many wrong PINs: try again in {math.ceil(wait)} seconds.")
    if not await asyncio.to_thread(verify_pin, str(form.get("pin", "")), stored):
        wait = page.lockout.failed(page.monotonic())
        log.warning("a wrong screen PIN was entered (%d in a row)", page.lockout.misses)
        later = f" Too many wrong PINs: try again in {math.ceil(wait)} seconds." if wait else ""
        raise Refused(403, "That PIN is not right." + later)
    page.lockout.succeeded()
    old = page.session(request)
    if old is not None:
        page.sessions.close(old.id)
    session = page.sessions.open(page.monotonic())
    page.flashes[session.id] = "Unlocked: changes are allowed on this device until you lock it."
    response = web.HTTPSeeOther(_back(request, "/"))
    response.set_cookie(SESSION_COOKIE, session.id, max_age=int(page.sessions.lifetime_s), **_COOKIE)  # type: ignore[arg-type]
    response.del_cookie(LOGIN_COOKIE, path="/")
    raise response


async def lock(request: web.Request) -> web.Response:
    page = request.app[PAGE]
    await page.authorise(request)
    session = page.session(request)
    if session is not None:
        page.sessions.close(session.id)
    response = web.HTTPSeeOther("/")
    response.del_cookie(SESSION_COOKIE, path="/")
    raise response


def _publish(page: Page, command: Command, status: str, reply: str, event_id: str | None) -> None:
    page.publish(ev.CommandResolved(command=command, seconds=0.0))
    page.publish(ev.Outcome(status=status, reply=reply, event_id=event_id))


async def answer(request: web.Request) -> web.Response:
    """Confirm or cancel the pending question, or undo the last change, as the buttons and voice do."""
    page = request.app[PAGE]
    await page.authorise(request)
    which = request.match_info["answer"]
    if which != "undo" and page.dialogue.pending is None:
        raise Refused(409, "There is no question waiting for an answer any more: nothing was changed.")
    command = Command(_ACTION[which], resolver=Resolver.SCREEN, text=_TEXT[which])
    turn = page.dialogue.handle(command, page.clock())
    page.publish(ev.CommandResolved(command=command, seconds=0.0))
    await page.announce(turn)  # the unit says it, and Live shows it
    return page.done(request, turn.reply, "/")


async def correct(request: web.Request) -> web.Response:
    """Set an item's quantity at a place, journalled as a ``set`` "corrected on screen"."""
    page = request.app[PAGE]
    form = await page.authorise(request)
    item = form.get("item", "").strip()
    try:
        quantity = float(form.get("quantity", ""))
    except ValueError:
        raise Refused(400, f"{form.get('quantity', '')!r} is not a number: nothing was changed.") from None
    if not math.isfinite(quantity) or quantity < 0:
        raise Refused(400, "A quantity is a number of zero or more: nothing was changed.")
    command = Command(
        Action.SET,
        item=item,
        quantity=quantity,
        location=form.get("location", "").strip() or None,
        resolver=Resolver.SCREEN,
        text=CORRECTED,
    )
    result = page.inventory.execute(command, confirmation="explicit")
    event_id = result.event.id if result.event is not None else None
    _publish(page, command, result.status, result.reply, event_id)
    if result.status != "applied":
        raise Refused(400, f"{result.reply} Nothing was changed.")
    return page.done(request, result.reply, _back(request, "/stock"))


async def save_item(request: web.Request) -> web.Response:
    """Add a catalogue item, or edit one (its name stays: stock and journal keep it)."""
    page = request.app[PAGE]
    form = await page.authorise(request)
    item = item_from_fields(
        {k: form.get(k, "") for k in ("name", "aliases", "unit", "location", "par", "packs")}
    )
    original = form.get("original", "").strip()
    catalogue: Catalogue = page.store.catalogue()
    if original and original.casefold() != item.name.casefold():
        raise Refused(
            400, "An item's name cannot be changed (its stock and journal keep it): add a new item instead."
        )
    existing = catalogue.get(item.name)
    if existing is not None and not original:
        raise Refused(
            400, f"{existing.name} is already in the catalogue: edit it instead. Nothing was changed."
        )
    if original and existing is None:
        raise Refused(404, f"{original} is not in the catalogue any more: nothing was changed.")
    items = [item if i is existing else i for i in catalogue.items] if existing else [*catalogue.items, item]
    places = dict.fromkeys([*catalogue.locations, *([item.location] if item.location else [])])
    updated = Catalogue(items=tuple(items), locations=tuple(places))
    page.store.replace_catalogue(updated)
    page.catalogue_changed(page.store.catalogue())
    page.publish(ev.StoreChanged(catalogue=True))
    said = "Saved" if existing else "Added"
    return page.done(request, f"{said} {item.name} in the catalogue.", "/stock")


async def release(request: web.Request) -> web.Response:
    """Put a quarantined event back in the upload queue."""
    from cloud_sync.status import release_quarantine

    page = request.app[PAGE]
    form = await page.authorise(request)
    event_id = form.get("event", "")
    released = release_quarantine(page.store, event_id) if event_id else 0
    if not released:
        raise Refused(404, "That event is not in quarantine: nothing was changed.")
    page.publish(ev.StoreChanged())
    return page.done(request, "Released: the event goes back in the upload queue.", "/unit")
