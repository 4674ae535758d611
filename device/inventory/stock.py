"""Questions about stock on hand: per item and place, single lots, what expires soon, where stock is kept.

``StockQueries`` is a mixin that ``Store`` inherits; it only reads. Quantities are in the item's base unit.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from device.inventory.catalog import Catalogue
from device.inventory.records import EPSILON, Delta, StockRow, parse_day


class StockQueries:
    """The stock reads, for ``Store``. Needs from the host the methods ``_rows`` (one read) and
    ``catalogue``."""

    if TYPE_CHECKING:

        def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[Any]: ...
        def catalogue(self) -> Catalogue: ...

    def stock(self, item: str | None = None) -> list[StockRow]:
        """Stock per item and location (of one item, if named), summed over lots; empty places left out."""
        where, params = ("WHERE item = ? COLLATE NOCASE", [item]) if item else ("", [])
        rows = self._rows(
            "SELECT item, location, sum(quantity), min(CASE WHEN quantity > 0 THEN expires END), max(unit) "
            f"FROM stock {where} GROUP BY item, location ORDER BY item, location",
            params,
        )
        catalogue = self.catalogue()
        result = []
        for name, location, quantity, expires, unit in rows:
            if abs(quantity) <= EPSILON:
                continue
            known = catalogue.get(name)
            result.append(
                StockRow(
                    name, location, round(quantity, 6), known.unit if known else unit, parse_day(expires)
                )
            )
        return result

    def quantity(self, item: str, location: str | None = None) -> float:
        """Stock of ``item`` in base units, at ``location`` or everywhere."""
        sql = "SELECT total(quantity) FROM stock WHERE item = ? COLLATE NOCASE"
        params = [item]
        if location is not None:
            sql += " AND location = ? COLLATE NOCASE"
            params.append(location)
        return round(float(self._rows(sql, params)[0][0]), 6)

    def lots(self, item: str, *, location: str | None = None, signed: bool = False) -> list[Delta]:
        """Lots of ``item`` in stock (quantity above zero; with ``signed``, negative ones too), soonest expiry
        first and lots without a date last."""
        sql = "SELECT item, location, quantity, expires FROM stock WHERE item = ? COLLATE NOCASE"
        params = [item]
        if location is not None:
            sql += " AND location = ? COLLATE NOCASE"
            params.append(location)
        if not signed:
            sql += " AND quantity > 0"
        sql += " ORDER BY expires IS NULL, expires, location"
        rows = self._rows(sql, params)
        return [Delta(name, place, quantity, parse_day(expires)) for name, place, quantity, expires in rows]

    def expiring(self, until: date) -> list[Delta]:
        """Lots in stock with an expiry on or before ``until`` (past dates included), soonest first."""
        rows = self._rows(
            "SELECT item, location, quantity, expires FROM stock "
            "WHERE quantity > 0 AND expires IS NOT NULL AND expires <= ? ORDER BY expires, item, location",
            [until.isoformat()],
        )
        return [Delta(name, place, quantity, parse_day(expires)) for name, place, quantity, expires in rows]

    def locations(self) -> tuple[str, ...]:
        """Known places: the catalogue's, then any others stock is kept in."""
        extra = [r[0] for r in self._rows("SELECT DISTINCT location FROM stock ORDER BY location")]
        places = self.catalogue().locations
        known = {p.casefold() for p in places}
        return places + tuple(p for p in extra if p.casefold() not in known)
