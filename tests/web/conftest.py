"""A unit with the demo catalogue and opening stock in a real SQLite store, and its page on 127.0.0.1, port 0."""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from device.app import Unit
from device.inventory.apply import Inventory
from device.inventory.stocktake import count, load_stocktake
from device.settings import load_settings
from device.web.pin import hash_pin
from device.web.server import PageServer, open_page

PIN = "2468"
SECRET = "dg-live-5ecret-0123456789"


def demo_stock() -> Path:
    return Path(str(resources.files("device.data").joinpath("demo_stock.csv")))


def make_unit(data_dir: Path, **overrides: Any) -> Unit:
    """A unit (no models: the store, the dialogue and the grammar) with the demo's opening stock counted."""
    settings = dict(
        data_dir=data_dir, web_host="127.0.0.1", web_port=0, gpio=False, screen_pin_hash=hash_pin(PIN),
        deepgram_api_key=SECRET, stt="whisper",
    )  # fmt: skip
    unit = Unit(load_settings(**(settings | overrides)))
    inventory = Inventory(unit.store, max_quantity=unit.settings.max_quantity)
    count(inventory, load_stocktake(demo_stock(), unit.store.catalogue()))
    return unit


@pytest.fixture
def unit(tmp_path: Path) -> Iterator[Unit]:
    made = make_unit(tmp_path / "data")
    yield made
    made.close()


@dataclass
class Client:
    """An HTTP client of the page with its own cookies (as one browser)."""

    http: aiohttp.ClientSession
    base: str

    async def get(self, path: str) -> tuple[int, str]:
        """The status and the page's text (HTML entities read back as characters)."""
        async with self.http.get(self.base + path) as response:
            return response.status, html.unescape(await response.text())

    async def post(self, path: str, data: dict[str, str]) -> tuple[int, str]:
        async with self.http.post(self.base + path, data=data, allow_redirects=True) as response:
            return response.status, html.unescape(await response.text())

    async def unlock(self, pin: str = PIN) -> tuple[int, str]:
        await self.get("/unlock")
        return await self.post("/unlock", {"pin": pin, "token": self.cookie("larder_login")})

    def cookie(self, name: str) -> str:
        for cookie in self.http.cookie_jar:
            if cookie.key == name:
                return cookie.value
        return ""

    async def csrf(self, path: str = "/stock") -> str:
        _, html = await self.get(path)
        found = re.search(r'name="csrf" value="([^"]+)"', html)
        assert found, "no CSRF token on the page: not unlocked?"
        return found.group(1)


@asynccontextmanager
async def serving(unit: Unit) -> AsyncIterator[tuple[PageServer, Client]]:
    server = await open_page(unit)
    assert server is not None and server.url is not None
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        try:
            yield server, Client(http, server.url.rstrip("/"))
        finally:
            await server.stop()


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)
