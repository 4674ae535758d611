"""Shared fixtures for the intent tests: the demo catalogue, the evaluation catalogue, and grammars for both."""

from __future__ import annotations

import pytest

from device.intent.grammar import Grammar
from device.inventory.catalog import Catalogue, demo_catalogue, load_csv
from tests.intent.common import DATA


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
