"""A stocktake from a CSV file: a unit's opening count, or a periodic count, as ``set`` commands.

``parse_stocktake`` is pure: rows of ``item,quantity[,unit][,location]`` become ``set`` commands (resolver
``manual``), items named by their catalogue name or an alias, with the rows it could not read kept as errors.
``check`` adds every row the inventory's own planning would refuse (unknown item, unit or place, too much) and
raises ``CatalogError`` naming all of them, so a file with one bad row changes nothing; ``count`` then applies
the rows through the journal like spoken commands (they sync too).
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

from device.errors import CatalogError
from device.intent.command import Action, Command, Resolver
from device.inventory.apply import Inventory
from device.inventory.catalog import Catalogue
from device.inventory.planning import Result
from device.inventory.units import canonical

COLUMNS = ("item", "quantity", "unit", "location")
REQUIRED = ("item", "quantity")


@dataclass(frozen=True)
class Counted:
    """One row of a stocktake: its line in the file and the ``set`` command it makes."""

    line: int
    command: Command


@dataclass(frozen=True)
class Stocktake:
    """A stocktake file read: its rows, and the lines that could not be read (``line N: why``)."""

    source: str
    rows: tuple[Counted, ...]
    errors: tuple[tuple[int, str], ...] = ()


def parse_stocktake(text: str, catalogue: Catalogue, source: str = "stocktake") -> Stocktake:
    """The rows of a stocktake CSV as ``set`` commands; ``CatalogError`` when the header or file is unusable."""
    reader = csv.DictReader(io.StringIO(text))
    header = [(h or "").strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED if c not in header]
    unknown = [h for h in header if h not in COLUMNS]
    if missing or unknown:
        raise CatalogError(
            f"{source}: the header must be item,quantity[,unit][,location]"
            + (f" (missing: {', '.join(missing)})" if missing else "")
            + (f" (unknown: {', '.join(repr(u) for u in unknown)})" if unknown else "")
        )
    reader.fieldnames = header
    names = {n.casefold(): item.name for item in catalogue.items for n in (item.name, *item.aliases)}
    rows: list[Counted] = []
    errors: list[tuple[int, str]] = []
    seen: dict[tuple[str, str], int] = {}
    for row in reader:
        line = reader.line_num
        if None in row:
            errors.append((line, "more values than columns"))
            continue
        values = {k: (v or "").strip() for k, v in row.items()}
        if not any(values.values()):
            continue
        problems = []
        said = values["item"]
        item = names.get(said.casefold(), said)
        if not said:
            problems.append("the item is empty")
        quantity = _quantity(values["quantity"])
        if quantity is None:
            problems.append(f"quantity {values['quantity']!r} is not a number of zero or more")
        known = catalogue.get(item)
        place = values.get("location") or (known.location if known and known.location else "")
        key = (item.casefold(), place.casefold())
        if said and key in seen:
            problems.append(
                f"{said!r}{' in ' + place if place else ''} is already counted on line {seen[key]}"
            )
        if problems:
            errors.append((line, "; ".join(problems)))
            continue
        seen[key] = line
        unit = values.get("unit") or ""
        command = Command(
            Action.SET,
            item=item,
            quantity=quantity,
            unit=canonical(unit) if unit else None,
            location=place or None,
            resolver=Resolver.MANUAL,
            text=f"stocktake {Path(source).name} line {line}",
        )
        rows.append(Counted(line, command))
    if not rows and not errors:
        raise CatalogError(f"{source}: no rows to count")
    return Stocktake(source, tuple(rows), tuple(errors))


def load_stocktake(path: Path, catalogue: Catalogue) -> Stocktake:
    """Read a stocktake file; an unreadable file or bad rows become ``CatalogError``."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogError(f"cannot read {path}: {exc}") from None
    return parse_stocktake(text, catalogue, source=str(path))


def check(inventory: Inventory, stocktake: Stocktake) -> None:
    """Raise ``CatalogError`` naming every row that could not be read or that the inventory would refuse."""
    bad = list(stocktake.errors)
    for row in stocktake.rows:
        planned = inventory.plan(row.command)
        if isinstance(planned, Result):
            bad.append((row.line, planned.reply))
    if bad:
        listed = " | ".join(f"line {line}: {why}" for line, why in sorted(bad))
        raise CatalogError(f"{stocktake.source}: nothing counted, {len(bad)} bad row(s): {listed}")


def count(inventory: Inventory, stocktake: Stocktake) -> list[str]:
    """Check every row, then apply them all; the reply for each row."""
    check(inventory, stocktake)
    return [inventory.execute(row.command, confirmation="none").reply for row in stocktake.rows]


def _quantity(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None
