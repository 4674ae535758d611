"""The page over real HTTP (aiohttp on 127.0.0.1, port 0) against a real store: what it shows, who may change
things, and that every change goes through the inventory and dialogue code into the journal."""

from __future__ import annotations

import asyncio
import csv
import io
import time

import pytest

from device.app import Unit
from device.intent.command import Action, Command
from device.pipeline import events as ev
from tests.web.conftest import PIN, SECRET, run, serving


def test_every_page_renders_the_demo_data_and_no_secret(unit: Unit) -> None:
    async def go() -> None:
        async with serving(unit) as (_, client):
            pages = {path: await client.get(path) for path in ("/", "/stock", "/journal", "/unit", "/unlock")}
            for path, (status, html) in pages.items():
                assert status == 200, path
                assert SECRET not in html and "scrypt$" not in html, path
            assert "oat milk" in pages["/stock"][1] and "walk-in" in pages["/stock"][1]
            assert "stocktake demo_stock.csv line 2" in pages["/journal"][1]  # the opening count, journalled
            assert "Nothing heard yet" in pages["/"][1]
            assert "Unlock to change" in pages["/"][1] and 'name="csrf"' not in pages["/"][1]
            async with client.http.get(client.base + "/stock") as response:
                assert response.headers["X-Frame-Options"] == "DENY"
                assert "default-src 'self'" in response.headers["Content-Security-Policy"]
            status, text = await client.get("/metrics")
            assert status == 200 and "larder_sync_backlog" in text and SECRET not in text
            status, html = await client.get("/nowhere")
            assert status == 404 and "Not Found" in html

    run(go())


def test_the_doctor_checks_show_on_the_unit_page(unit: Unit) -> None:
    async def go() -> str:
        async with serving(unit) as (_, client):
            await client.get("/unit")  # starts the checks in a worker thread
            for _ in range(300):
                _, html = await client.get("/unit")
                if "s ago" in html:
                    return html
                await asyncio.sleep(0.1)
        raise AssertionError("the checks did not finish")

    html = run(go())
    assert "store" in html and "integrity ok" in html and "models" not in html.split("Checks")[1]
    assert SECRET not in html


def test_a_change_without_the_pin_is_refused_and_changes_nothing(unit: Unit) -> None:
    before = (unit.store.quantity("oat milk"), len(unit.store.journal()))

    async def go() -> list[tuple[int, str]]:
        async with serving(unit) as (_, client):
            return [
                await client.post("/stock/correct", {"item": "oat milk", "quantity": "1", "csrf": "x"}),
                await client.post("/live/undo", {}),
                await client.post("/catalogue/item", {"name": "rice", "unit": "bag"}),
            ]

    for status, html in run(go()):
        assert status == 403 and "unlock the page first" in html
    assert (unit.store.quantity("oat milk"), len(unit.store.journal())) == before
    assert unit.store.catalogue().get("rice") is None


def test_five_wrong_pins_lock_out_with_backoff(unit: Unit) -> None:
    now = [1000.0]

    async def go() -> None:
        async with serving(unit) as (server, client):
            server.page.monotonic = lambda: now[0]
            for _ in range(4):
                status, html = await client.unlock("1111")
                assert status == 403 and "That PIN is not right." in html
            status, html = await client.unlock("1111")
            assert status == 403 and "try again in 30 seconds" in html
            status, html = await client.unlock(PIN)  # right, but locked out: not even checked
            assert status == 429 and "try again in 30 seconds" in html
            assert client.cookie("larder_session") == ""
            now[0] += 31
            async with client.http.get(client.base + "/unlock") as _:
                pass
            async with client.http.post(
                client.base + "/unlock",
                data={"pin": PIN, "token": client.cookie("larder_login")},
                allow_redirects=False,
            ) as response:
                assert response.status == 303
                cookie = response.headers.getall("Set-Cookie")
            session = next(c for c in cookie if c.startswith("larder_session="))
            assert "HttpOnly" in session and "SameSite=Strict" in session and "Path=/" in session
            assert PIN not in session

    run(go())


def test_unlocking_needs_the_form_from_this_page(unit: Unit) -> None:
    async def go() -> tuple[int, str]:
        async with serving(unit) as (_, client):
            return await client.post("/unlock", {"pin": PIN, "token": "made-up"})

    status, html = run(go())
    assert status == 403 and "did not come from this page" in html


def test_a_forged_csrf_token_is_refused_then_the_real_one_corrects_stock(unit: Unit) -> None:
    heard: list[ev.Event] = []
    unit.bus.subscribe(heard.append)

    async def go() -> tuple[tuple[int, str], tuple[int, str]]:
        async with serving(unit) as (_, client):
            await client.unlock()
            token = await client.csrf()
            forged = await client.post(
                "/stock/correct", {"item": "oat milk", "quantity": "5", "csrf": token[:-2] + "xx"}
            )
            assert unit.store.quantity("oat milk") == 24
            real = await client.post(
                "/stock/correct", {"item": "oat milk", "location": "walk-in", "quantity": "5", "csrf": token}
            )
            return forged, real

    forged, real = run(go())
    assert forged[0] == 403 and "did not come from this page" in forged[1]
    assert real[0] == 200 and "now 5" in real[1]  # the reply, shown once on the next page
    assert unit.store.quantity("oat milk", "walk-in") == 5
    event = unit.store.journal()[-1]
    assert (event.action, event.item, event.quantity, event.transcript, event.resolver, event.confirmation) == (
        "set", "oat milk", 5, "corrected on screen", "screen", "explicit"
    )  # fmt: skip
    assert event.id in [e.id for e in unit.store.unsynced(1000)]  # it waits for upload like any other event
    outcome = [e for e in heard if isinstance(e, ev.Outcome)][-1]
    assert outcome.event_id == event.id and outcome.status == "applied"


def test_a_bad_correction_says_why_and_changes_nothing(unit: Unit) -> None:
    async def go() -> list[tuple[int, str]]:
        async with serving(unit) as (_, client):
            await client.unlock()
            token = await client.csrf()
            return [
                await client.post("/stock/correct", {"item": "oat milk", "quantity": "lots", "csrf": token}),
                await client.post("/stock/correct", {"item": "oat milk", "quantity": "-2", "csrf": token}),
                await client.post("/stock/correct", {"item": "caviar", "quantity": "2", "csrf": token}),
                await client.post("/stock/correct", {"item": "oat milk", "quantity": "1e9", "csrf": token}),
            ]

    answers = run(go())
    assert [status for status, _ in answers] == [400, 400, 400, 400]
    assert "'lots' is not a number" in answers[0][1] and "zero or more" in answers[1][1]
    assert "caviar" in answers[2][1] and "Nothing was changed" in answers[3][1]
    assert unit.store.quantity("oat milk") == 24
    assert "Traceback" not in "".join(html for _, html in answers)


def test_confirm_on_the_page_applies_the_pending_question(unit: Unit) -> None:
    turn = unit.dialogue.handle(unit.grammar.parse("eighty six the oat milk"), time.time())
    assert turn.status == "pending"

    async def go() -> tuple[str, tuple[int, str]]:
        async with serving(unit) as (_, client):
            await client.unlock()
            _, live = await client.get("/")
            token = await client.csrf("/")
            return live, await client.post("/live/confirm", {"csrf": token})

    live, (status, html) = run(go())
    assert (
        "Mark oat milk as out" in live and 'id="confirm"' in live and "marking an item out is risky" in live
    )
    assert status == 200 and 'id="confirm"' not in html
    assert unit.store.quantity("oat milk") == 0 and unit.dialogue.pending is None
    event = unit.store.journal()[-1]
    assert (event.action, event.outcome, event.confirmation) == ("out", "applied", "explicit")


def test_cancel_and_undo_go_through_the_dialogue(unit: Unit) -> None:
    unit.dialogue.handle(unit.grammar.parse("eighty six the oat milk"), time.time())

    async def go() -> list[tuple[int, str]]:
        async with serving(unit) as (_, client):
            await client.unlock()
            token = await client.csrf("/")
            cancelled = await client.post("/live/cancel", {"csrf": token})
            again = await client.post("/live/cancel", {"csrf": token})
            unit.dialogue.handle(
                Command(Action.ADD, item="eggs", quantity=12, text="add a dozen eggs"), time.time()
            )
            undone = await client.post("/live/undo", {"csrf": token})
            return [cancelled, again, undone]

    cancelled, again, undone = run(go())
    assert cancelled[0] == 200 and unit.store.quantity("oat milk") == 24
    assert again[0] == 409 and "no question waiting" in again[1]
    assert undone[0] == 200 and unit.store.quantity("eggs") == 30
    undo = unit.store.journal()[-1]
    assert (undo.action, undo.resolver, undo.transcript) == ("undo", "screen", "(undo on screen)")


def test_a_catalogue_item_added_on_the_page_is_understood_at_once(unit: Unit) -> None:
    async def go() -> list[tuple[int, str]]:
        async with serving(unit) as (_, client):
            await client.unlock()
            token = await client.csrf()
            fields = {
                "name": "rice",
                "aliases": "basmati",
                "unit": "bag",
                "location": "dry store",
                "par": "4",
            }
            added = await client.post("/catalogue/item", fields | {"csrf": token})
            twice = await client.post("/catalogue/item", fields | {"csrf": token})
            bad = await client.post(
                "/catalogue/item", fields | {"par": "plenty", "original": "rice", "csrf": token}
            )
            edited = await client.post(
                "/catalogue/item", fields | {"par": "6", "original": "rice", "csrf": token}
            )
            renamed = await client.post(
                "/catalogue/item", fields | {"name": "risotto", "original": "rice", "csrf": token}
            )
            return [added, twice, bad, edited, renamed]

    added, twice, bad, edited, renamed = run(go())
    assert added[0] == 200 and "Added rice" in added[1]
    assert twice[0] == 400 and "already in the catalogue" in twice[1]
    assert bad[0] == 400 and "par 'plenty' is not a number" in bad[1].lower()
    assert edited[0] == 200 and unit.store.catalogue()["rice"].par == 6
    assert renamed[0] == 400 and unit.store.catalogue().get("risotto") is None
    command = asyncio.run(unit.resolver.resolve("add two bags of basmati"))
    assert (command.action, command.item, command.quantity) == (Action.ADD, "rice", 2)
    assert unit.catalogue.get("rice") is not None


def test_a_quarantined_event_is_shown_and_released(unit: Unit) -> None:
    event = unit.store.journal()[0]
    unit.store.quarantine(event.id, "item not in the site's catalogue")

    async def go() -> tuple[str, tuple[int, str], tuple[int, str]]:
        async with serving(unit) as (_, client):
            _, before = await client.get("/unit")
            await client.unlock()
            token = await client.csrf("/unit")
            released = await client.post("/unit/release", {"event": event.id, "csrf": token})
            again = await client.post("/unit/release", {"event": event.id, "csrf": token})
            return before, released, again

    before, released, again = run(go())
    assert "item not in the site's catalogue" in before
    assert released[0] == 200 and unit.store.quarantined() == []
    assert again[0] == 404 and "not in quarantine" in again[1]


def test_csv_downloads_parse(unit: Unit) -> None:
    async def go() -> tuple[str, str, str]:
        async with serving(unit) as (_, client):
            async with client.http.get(client.base + "/stock.csv?q=milk") as response:
                assert response.headers["Content-Type"].startswith("text/csv")
                assert "attachment" in response.headers["Content-Disposition"]
                stock = await response.text()
            _, journal = await client.get("/journal.csv?action=set")
            _, none = await client.get("/journal.csv?day=1999-01-01")
            return stock, journal, none

    stock, journal, none = run(go())
    rows = list(csv.DictReader(io.StringIO(stock)))
    assert {r["item"] for r in rows} == {"oat milk", "whole milk", "skim milk", "almond milk", "soy milk"}
    assert next(r for r in rows if r["item"] == "oat milk")["quantity"] == "24"
    events = list(csv.DictReader(io.StringIO(journal)))
    assert len(events) == len(unit.store.journal()) and {e["action"] for e in events} == {"set"}
    assert list(csv.DictReader(io.StringIO(none))) == [] and none.startswith("id,time,transcript")


def test_the_page_that_cannot_listen_leaves_the_unit_running(unit: Unit) -> None:
    async def go() -> object:
        async with serving(unit) as (server, _):
            taken = unit.settings.model_copy(
                update={"web_port": int(server.url.rsplit(":", 1)[1].strip("/"))}
            )
            from device.web.server import open_page

            other = Unit(taken)
            other.__dict__["store"] = unit.store
            return await open_page(other)

    assert run(go()) is None


def test_the_page_turned_off_is_not_served(unit: Unit) -> None:
    from device.web.server import open_page

    off = Unit(unit.settings.model_copy(update={"web_enabled": False}))
    off.__dict__["store"] = unit.store
    assert run(open_page(off)) is None


def test_the_journal_page_lists_the_latest_and_the_csv_has_all(
    unit: Unit, monkeypatch: pytest.MonkeyPatch
) -> None:
    from device.web import views

    monkeypatch.setattr(views, "SHOWN", 5)

    async def go() -> tuple[str, str]:
        async with serving(unit) as (_, client):
            return (await client.get("/journal"))[1], (await client.get("/journal.csv"))[1]

    page, table = run(go())
    total = len(unit.store.journal())
    assert f"The latest 5 are shown; {total - 5} more are in the CSV." in page
    assert len(list(csv.DictReader(io.StringIO(table)))) == total
