"""The catalogue as plain immutable data: items (names, aliases, units, pack sizes, par) and locations.

Read by the grammar (pure, no I/O) and written by the store. ``load_csv`` parses a catalogue file and reports every
bad row by line number; a file with any error imports nothing. The embedded demo catalogue
(``device/data/demo_catalog.csv``) is what a fresh unit uses until a catalogue is imported.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType

from device.errors import CatalogError

REQUIRED_COLUMNS = ("name", "aliases", "unit", "location", "par")
#: optional column: pack sizes as ``case=12;sleeve=6`` (one case holds 12 of the item's unit)
PACKS_COLUMN = "packs"


@dataclass(frozen=True)
class Item:
    """One stocked item. ``unit`` is the unit stock is counted in; ``packs`` maps pack unit -> units inside."""

    name: str
    unit: str
    aliases: tuple[str, ...] = ()
    location: str | None = None
    par: float | None = None
    packs: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class Catalogue:
    """All items and locations a unit knows."""

    items: tuple[Item, ...]
    locations: tuple[str, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {i.name.casefold(): i for i in self.items})

    def get(self, name: str) -> Item | None:
        by_name: dict[str, Item] = self._by_name  # type: ignore[attr-defined]
        return by_name.get(name.casefold())

    def __getitem__(self, name: str) -> Item:
        item = self.get(name)
        if item is None:
            raise KeyError(name)
        return item

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(i.name for i in self.items)

    def units(self) -> tuple[str, ...]:
        """Every unit the catalogue uses (base units and pack units), in a stable order."""
        seen: dict[str, None] = {}
        for item in self.items:
            seen[item.unit] = None
            for pack in item.packs:
                seen[pack] = None
        return tuple(seen)


def _split(value: str, sep: str = ";") -> tuple[str, ...]:
    return tuple(p.strip() for p in value.split(sep) if p.strip())


def _parse_packs(value: str) -> dict[str, float]:
    packs: dict[str, float] = {}
    for part in _split(value):
        unit, sep, size = part.partition("=")
        if not sep or not unit.strip():
            raise ValueError(f"pack size {part!r} is not of the form case=12")
        number = float(size)
        if not number > 0:
            raise ValueError(f"pack size {part!r} must be above zero")
        packs[unit.strip().lower()] = number
    return packs


def _row(values: Mapping[str, str]) -> tuple[Item | None, list[str]]:
    """One catalogue row (stripped values by column) as an ``Item``, or what is wrong with it."""
    name = values.get("name", "")
    problems = []
    if not name:
        problems.append("the name is empty")
    if not values.get("unit"):
        problems.append("the unit is empty")
    par: float | None = None
    if values.get("par"):
        try:
            par = float(values["par"])
            if not 0 <= par < math.inf:  # also NaN
                raise ValueError
        except ValueError:
            problems.append(f"par {values['par']!r} is not a number of zero or more")
    packs: dict[str, float] = {}
    try:
        packs = _parse_packs(values.get(PACKS_COLUMN, ""))
    except ValueError as exc:
        problems.append(str(exc))
    if problems:
        return None, problems
    item = Item(
        name=name,
        unit=values["unit"].lower(),
        aliases=_split(values.get("aliases", "")),
        location=values.get("location") or None,
        par=par,
        packs=MappingProxyType(packs),
    )
    return item, []


def item_from_fields(values: Mapping[str, str]) -> Item:
    """An item from the fields of a form (name, aliases, unit, location, par, packs); ``CatalogError`` if bad."""
    item, problems = _row({k: (v or "").strip() for k, v in values.items()})
    if item is None:
        raise CatalogError("; ".join(problems).capitalize() + ".")
    return item


def parse_csv(text: str, source: str = "catalogue") -> Catalogue:
    """Parse catalogue CSV text; raise ``CatalogError`` listing every bad row (``line N: reason``)."""
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise CatalogError(
            f"{source}: the header must be name,aliases,unit,location,par (missing: {', '.join(missing)})"
        )
    reader.fieldnames = header
    errors: list[str] = []
    items: list[Item] = []
    seen: dict[str, int] = {}
    locations: dict[str, None] = {}
    for row in reader:
        line = reader.line_num
        if None in row:
            errors.append(f"line {line}: more values than columns")
            continue
        values = {k: (v or "").strip() for k, v in row.items()}
        if not any(values.values()):
            continue
        name = values["name"]
        item, problems = _row(values)
        if name and name.casefold() in seen:
            problems.insert(0, f"{name!r} is already on line {seen[name.casefold()]}")
        if problems or item is None:
            errors.append(f"line {line}: " + "; ".join(problems))
            continue
        seen[name.casefold()] = line
        if item.location:
            locations.setdefault(item.location, None)
        items.append(item)
    if errors:
        raise CatalogError(f"{source}: nothing imported, {len(errors)} bad row(s): " + " | ".join(errors))
    if not items:
        raise CatalogError(f"{source}: no items found")
    return Catalogue(items=tuple(items), locations=tuple(locations))


def load_csv(path: Path) -> Catalogue:
    """Read a catalogue file; unreadable files and bad rows become ``CatalogError``."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogError(f"cannot read {path}: {exc}") from None
    return parse_csv(text, source=str(path))


def demo_catalogue() -> Catalogue:
    """The embedded catalogue of a typical cafe."""
    text = resources.files("device.data").joinpath("demo_catalog.csv").read_text(encoding="utf-8")
    return parse_csv(text, source="demo catalogue")


def with_locations(catalogue: Catalogue, extra: Iterable[str]) -> Catalogue:
    """The catalogue with more known locations (e.g. ones only seen in stock rows)."""
    merged = dict.fromkeys(catalogue.locations)
    merged.update(dict.fromkeys(extra))
    return Catalogue(items=catalogue.items, locations=tuple(merged))
