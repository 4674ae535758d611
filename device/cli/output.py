"""Plain-text output for the CLI: aligned tables a person can read in a terminal."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TextIO


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return "; ".join(str(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}={_cell(v)}" for k, v in value.items())
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def print_table(rows: Iterable[Mapping[str, Any]], columns: Sequence[str], out: TextIO | None = None) -> None:
    """Print rows as an aligned table with a header; columns missing from every row are left out."""
    import sys

    stream = out or sys.stdout
    table = [[_cell(row.get(c)) for c in columns] for row in rows]
    keep = [i for i, _ in enumerate(columns) if any(r[i] for r in table)]
    header = [columns[i] for i in keep]
    body = [[r[i] for i in keep] for r in table]
    widths = [max(len(h), *(len(r[j]) for r in body)) if body else len(h) for j, h in enumerate(header)]
    for line in [header, *body]:
        stream.write("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip() + "\n")
