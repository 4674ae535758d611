"""Apply the Supabase schema (``cloud_sync/supabase/migrations/*.sql``) to a PostgreSQL database, in file order.

Each file is plain SQL that is safe to re-run; each is applied in its own transaction and recorded in
``app.schema_migrations``. On Supabase the same files are applied by the Supabase CLI (``supabase db push`` from
``cloud_sync/``); this module is what tests and ``python -m cloud_sync.migrate <conninfo>`` use.
"""

from __future__ import annotations

import sys
from importlib import resources
from typing import Any


def migration_files() -> list[tuple[str, str]]:
    """``(name, sql)`` of every migration, in the order they apply."""
    folder = resources.files("cloud_sync").joinpath("supabase", "migrations")
    names = sorted(p.name for p in folder.iterdir() if p.name.endswith(".sql"))
    return [(name, folder.joinpath(name).read_text(encoding="utf-8")) for name in names]


def apply_migrations(conn: Any) -> list[str]:
    """Apply every migration on an open psycopg connection (as the database owner); returns the names applied."""
    applied = []
    for name, sql in migration_files():
        with conn.transaction():
            conn.execute(sql)
            conn.execute(
                "insert into app.schema_migrations (name) values (%s) "
                "on conflict (name) do update set applied_at = now()",
                (name,),
            )
        applied.append(name)
    return applied


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m cloud_sync.migrate <postgres conninfo or URL>", file=sys.stderr)
        return 2
    import psycopg

    with psycopg.connect(args[0], autocommit=True) as conn:
        for name in apply_migrations(conn):
            print(f"applied {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
