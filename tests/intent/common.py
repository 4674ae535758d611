"""Constants shared by the intent tests: where the evaluation data lives, and a fixed "today"."""

from __future__ import annotations

from datetime import date
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data"
HOLDOUT = Path(__file__).resolve().parent / "data"
#: a fixed "today" (a Tuesday) so expiry dates are reproducible
TODAY = date(2025, 11, 25)
