"""Download: apply catalogue and stock changes made elsewhere to the unit.

``changes_since(cursor)`` returns rows changed since the cursor (paged on transaction ids, so rows committed out of
order are never skipped; a row may come twice, and applying it again is harmless). The unit keeps a mirror of the
site's server rows in the store's state and rebuilds from it:

- Catalogue: when the server has items for the site, they replace the unit's catalogue (``Store.replace_catalogue``)
  and ``on_catalogue`` tells the grammar and the speech-to-text prompts, so they follow without a restart. A site
  with no items on the server leaves the unit's own catalogue alone.
- Stock: the server is authoritative for the site (it sums every device's accepted events). The unit's stock is
  the server's stock plus the deltas of its own events the server does not have yet (unsynced, and quarantined
  ones, which stay true in the kitchen until a person resolves them). The rebase runs after stock rows changed
  on the server or this unit marked events synced (``sync.stock_pending``), and only after an upload phase in
  which every request was confirmed: an upload whose answer was lost may already be in the server's stock.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Any

from cloud_sync.remote import Changes
from device.inventory.catalog import Catalogue, Item

log = logging.getLogger(__name__)

CURSOR = "sync.cursor"
CATALOGUE_MIRROR = "sync.server_catalogue"
STOCK_MIRROR = "sync.server_stock"
STOCK_PENDING = "sync.stock_pending"
_EPSILON = 1e-9

LotKey = tuple[str, str, str]  # item, location, expires ('' when none)


def _lot_key(row: Mapping[str, Any]) -> str:
    return "\x1f".join((str(row["item"]), str(row["location"]), str(row.get("expires") or "")))


def merge(
    mirror: dict[str, Any], rows: Iterable[Mapping[str, Any]], key: Callable[[Mapping[str, Any]], str]
) -> bool:
    """Fold changed rows into a mirror keyed by ``key``; deleted rows leave it. True if anything changed."""
    changed = False
    for row in rows:
        k = key(row)
        if row.get("deleted"):
            changed |= mirror.pop(k, None) is not None
        elif mirror.get(k) != dict(row):
            mirror[k] = dict(row)
            changed = True
    return changed


def build_catalogue(items: Iterable[Mapping[str, Any]], locations: Iterable[Mapping[str, Any]]) -> Catalogue:
    """A ``Catalogue`` from server rows, in their (position, name) order; a malformed row is skipped and logged."""
    built: list[Item] = []
    for row in sorted(items, key=lambda r: (r.get("position") or 0, str(r.get("name")))):
        try:
            par = row.get("par")
            built.append(
                Item(
                    name=str(row["name"]),
                    unit=str(row["unit"]).lower(),
                    aliases=tuple(str(a) for a in row.get("aliases") or ()),
                    location=str(row["location"]) if row.get("location") else None,
                    par=float(par) if par is not None else None,
                    packs=MappingProxyType(
                        {str(k).lower(): float(v) for k, v in (row.get("packs") or {}).items()}
                    ),
                )
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            log.warning("skipping malformed catalogue item from the cloud %r: %s", row.get("name"), exc)
    places = [
        str(r["name"]) for r in sorted(locations, key=lambda r: (r.get("position") or 0, str(r.get("name"))))
    ]
    return Catalogue(items=tuple(built), locations=tuple(dict.fromkeys(places)))


def apply_changes(store: Any, changes: Changes) -> tuple[Catalogue | None, dict[str, Any]]:
    """Fold ``changes`` into the unit, then move the cursor. Returns the new catalogue (if it changed) and a summary.

    Call it only after an upload phase in which every request sent was confirmed. Each step is written before
    the record that it was done, so a crash at any point repeats work, never skips it.
    """
    mirror = store.get_state(CATALOGUE_MIRROR) or {"items": {}, "locations": {}}
    items_changed = merge(mirror["items"], changes.items, lambda r: str(r["name"]))
    places_changed = merge(mirror["locations"], changes.locations, lambda r: str(r["name"]))
    catalogue: Catalogue | None = None
    if items_changed or places_changed:
        built = build_catalogue(mirror["items"].values(), mirror["locations"].values())
        if built.items:
            store.replace_catalogue(built)
            catalogue = built
        store.set_state(CATALOGUE_MIRROR, mirror)
    stock_mirror = store.get_state(STOCK_MIRROR) or {}
    if merge(stock_mirror, changes.stock, _lot_key):
        store.set_state(STOCK_PENDING, True)
        store.set_state(STOCK_MIRROR, stock_mirror)
    rebased = False
    if store.get_state(STOCK_PENDING):
        rebase_stock(store, stock_mirror.values())
        store.set_state(STOCK_PENDING, None)
        rebased = True
    store.set_state(CURSOR, changes.cursor)
    return catalogue, {
        "catalogue": catalogue is not None,
        "stock_rows": len(changes.stock),
        "rebased": rebased,
    }


def rebase_stock(store: Any, server_lots: Iterable[Mapping[str, Any]]) -> None:
    """In ONE store transaction: stock lots := the server's lots + deltas of this unit's events not synced yet.

    Works on the store's SQLite database (``store.db``) under the store's own lock; it belongs in ``Store`` as
    ``rebase_stock(base)`` (asked of the store's owner).
    """
    lots: dict[LotKey, float] = {}
    for row in server_lots:
        quantity = float(row["quantity"])
        if math.isfinite(quantity):
            key = (str(row["item"]), str(row["location"]), str(row.get("expires") or ""))
            lots[key] = lots.get(key, 0.0) + quantity
    catalogue = store.catalogue()
    db = store.db
    with store._lock, db.atomic():  # the store's lock serialises this process's threads on its connection
        for item, location, quantity, expires in db.execute(
            "SELECT d.item, d.location, d.quantity, d.expires FROM deltas d JOIN events e ON e.id = d.event_id "
            "WHERE e.synced = 0 ORDER BY e.rowid, d.seq"
        ):
            key = (item, location, expires or "")
            lots[key] = lots.get(key, 0.0) + float(quantity)
        units = dict(db.execute("SELECT item, max(unit) FROM stock GROUP BY item").fetchall())
        db.execute("DELETE FROM stock")
        rows = []
        for (item, location, expires), quantity in lots.items():
            if abs(quantity) <= _EPSILON or abs(quantity) > 1e9:
                continue
            known = catalogue.get(item)
            unit = known.unit if known else units.get(item, "")
            rows.append((item, location, expires or None, round(quantity, 6), unit))
        db.conn.executemany(
            "INSERT INTO stock (item, location, expires, quantity, unit) VALUES (?,?,?,?,?)", rows
        )
