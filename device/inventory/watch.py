"""Following what other processes write to the store (``larder catalog import``, ``larder count``, ``larder say``).

``StoreWatcher.check`` asks SQLite's ``PRAGMA data_version`` on the daemon's own connection, a read of one
number that moves only when another connection commits, so the daemon polls no table. On a change it reads the
catalogue (cached by its revision, so only an import costs a reload) and calls ``on_change(catalogue or None)``:
the daemon then hands a new catalogue to the grammar and the speech prompts and tells the pages.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from device.errors import StoreError
from device.inventory.catalog import Catalogue
from device.inventory.store import Store

log = logging.getLogger(__name__)

INTERVAL_S = 0.5


class StoreWatcher:
    """Calls ``on_change`` with the new catalogue (or ``None`` if only stock and journal moved)."""

    def __init__(self, store: Store, on_change: Callable[[Catalogue | None], None]) -> None:
        self._store = store
        self._on_change = on_change
        self._version = store.data_version()
        self._catalogue = store.catalogue()

    def check(self) -> bool:
        """One look; True when another process changed the store since the last one."""
        version = self._store.data_version()
        if version == self._version:
            return False
        self._version = version
        catalogue = self._store.catalogue()
        changed = catalogue is not self._catalogue
        self._catalogue = catalogue
        self._on_change(catalogue if changed else None)
        return True

    async def run(self, interval_s: float = INTERVAL_S) -> None:
        while True:
            await asyncio.sleep(interval_s)
            try:
                self.check()
            except StoreError as exc:
                log.warning("could not look for changes from other processes: %s", exc.message)
