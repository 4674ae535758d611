"""Shared fixtures for the intent tests: the demo catalogue, the evaluation catalogue, and grammars for both."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from device.intent.grammar import Grammar
from device.inventory.catalog import Catalogue, demo_catalogue, load_csv

DATA = Path(__file__).resolve().parents[1] / "data"
HOLDOUT = Path(__file__).resolve().parent / "data"
#: a fixed "today" (a Tuesday) so expiry dates are reproducible
TODAY = date(2025, 11, 25)


@pytest.fixture(scope="session")
def demo() -> Catalogue:
    return demo_catalogue()


@pytest.fixture(scope="session")
def eval_catalogue() -> Catalogue:
    return load_csv(DATA / "eval_catalog.csv")


@pytest.fixture(scope="session")
def grammar(demo: Catalogue) -> Grammar:
    return Grammar(demo)


@pytest.fixture(scope="session")
def eval_grammar(eval_catalogue: Catalogue) -> Grammar:
    return Grammar(eval_catalogue)
