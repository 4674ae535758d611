"""Fixtures for the store tests: real SQLite files in tmp_path, a fixed clock and a small catalogue."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from device.inventory.apply import Inventory
from device.inventory.catalog import Catalogue, parse_csv
from device.inventory.store import Store

#: a Wednesday
TODAY = date(2026, 11, 25)

CATALOGUE_CSV = """name,aliases,unit,location,par,packs
oat milk,oatly,carton,walk-in,24,case=12
whole milk,milk,gallon,walk-in,6,case=4
butter,,pound,walk-in,10,case=36
flour,plain flour,kilogram,dry store,25,bag=25
eggs,egg,each,walk-in,60,dozen=12;tray=30
salmon,lox,pound,walk-in,4,
basil,,bunch,walk-in,4,
sourdough,,loaf,dry store,8,
straws,,box,dry store,4,
lids,cup lids,sleeve,dry store,20,case=20
syrup,,bottle,bar,2,case=6
"""


class Clock:
    """A clock that moves one second per reading, from a fixed start."""

    def __init__(self, start: datetime = datetime(2026, 11, 25, 18, 30, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture
def catalogue() -> Catalogue:
    return parse_csv(CATALOGUE_CSV, source="test catalogue")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "larder.db"


@pytest.fixture
def store(db_path: Path, catalogue: Catalogue) -> Iterator[Store]:
    with Store.open(db_path, device_id="unit-a", clock=Clock()) as opened:
        opened.replace_catalogue(catalogue)
        yield opened


@pytest.fixture
def inventory(store: Store) -> Inventory:
    return Inventory(store, today=lambda: TODAY)
