"""Opening the local store's SQLite file safely, and the versioned migrations of its schema.

``open_database`` sets the durability PRAGMAs (WAL, ``synchronous=FULL``, busy timeout, foreign keys) and
checks the file first: a file from a newer Larder is refused untouched, and a damaged file (not a database,
or ``quick_check`` fails) is renamed aside as ``<name>.corrupt-<UTC time>`` with its WAL, so the next start
begins a fresh store instead of crash-looping.

The schema version lives in ``PRAGMA user_version``. ``MIGRATIONS[n]`` takes a store from version ``n`` to
``n + 1``; each runs in its own transaction together with the version bump, so a failed migration leaves
the file at the last good version. Before migrating a file that already holds a schema, a consistent copy
is written next to it as ``<name>.bak-v<N>`` (N = the version it had). Never edit a released migration:
add a new one.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlite_utils import Database

from device.errors import StoreError

log = logging.getLogger(__name__)

Migration = Callable[[Database], None]

_EVENT_COLUMNS_V1 = (
    "id, device_id, at, action, item, quantity, unit, location, to_location, transcript, resolver"
)


def _run(db: Database, *statements: str) -> None:
    for sql in statements:
        db.execute(sql)


def _v1(db: Database) -> None:
    """Catalogue, stock lots, the append-only journal with its deltas, and unit facts (device id)."""
    _run(
        db,
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        """CREATE TABLE items (
            name TEXT PRIMARY KEY COLLATE NOCASE, unit TEXT NOT NULL, aliases TEXT NOT NULL DEFAULT '[]',
            location TEXT, par REAL, packs TEXT NOT NULL DEFAULT '{}', position INTEGER NOT NULL)""",
        "CREATE TABLE locations (name TEXT PRIMARY KEY COLLATE NOCASE, position INTEGER NOT NULL)",
        """CREATE TABLE stock (
            id INTEGER PRIMARY KEY, item TEXT NOT NULL, location TEXT NOT NULL, expires TEXT,
            quantity REAL NOT NULL CHECK (quantity BETWEEN -1e9 AND 1e9), unit TEXT NOT NULL DEFAULT '')""",
        "CREATE UNIQUE INDEX stock_lot ON stock (item, location, ifnull(expires, ''))",
        """CREATE TABLE events (
            id TEXT PRIMARY KEY, device_id TEXT NOT NULL, at TEXT NOT NULL, action TEXT NOT NULL,
            item TEXT, quantity REAL, unit TEXT, location TEXT, to_location TEXT,
            transcript TEXT NOT NULL DEFAULT '', resolver TEXT NOT NULL,
            reverses TEXT REFERENCES events (id),
            synced INTEGER NOT NULL DEFAULT 0 CHECK (synced IN (0, 1)))""",
        "CREATE UNIQUE INDEX events_reverses ON events (reverses) WHERE reverses IS NOT NULL",
        "CREATE INDEX events_unsynced ON events (synced) WHERE synced = 0",
        """CREATE TABLE deltas (
            event_id TEXT NOT NULL REFERENCES events (id), seq INTEGER NOT NULL,
            item TEXT NOT NULL, location TEXT NOT NULL,
            quantity REAL NOT NULL CHECK (quantity BETWEEN -1e9 AND 1e9), expires TEXT,
            PRIMARY KEY (event_id, seq))""",
        """CREATE TRIGGER events_no_delete BEFORE DELETE ON events
            BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END""",
        f"""CREATE TRIGGER events_no_update BEFORE UPDATE OF {_EVENT_COLUMNS_V1}, reverses ON events
            BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END""",
        """CREATE TRIGGER deltas_no_change BEFORE UPDATE ON deltas
            BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END""",
        """CREATE TRIGGER deltas_no_delete BEFORE DELETE ON deltas
            BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END""",
    )


def _v2(db: Database) -> None:
    """Audit fields (confirmation, outcome), quarantine of events the cloud rejects, small durable state."""
    _run(
        db,
        # every event written by schema 1 was an applied change
        "ALTER TABLE events ADD COLUMN confirmation TEXT NOT NULL DEFAULT 'implicit'",
        "ALTER TABLE events ADD COLUMN outcome TEXT NOT NULL DEFAULT 'applied'",
        "DROP TRIGGER events_no_update",
        f"""CREATE TRIGGER events_no_update
            BEFORE UPDATE OF {_EVENT_COLUMNS_V1}, reverses, confirmation, outcome ON events
            BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END""",
        """CREATE TABLE quarantine (
            event_id TEXT PRIMARY KEY REFERENCES events (id), reason TEXT NOT NULL, at TEXT NOT NULL)""",
        "CREATE TABLE state (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at TEXT NOT NULL)",
    )


MIGRATIONS: tuple[Migration, ...] = (_v1, _v2)
SCHEMA_VERSION = len(MIGRATIONS)


def version(db: Database) -> int:
    """The schema version a database file says it has (0 for a new, empty file)."""
    row = db.execute("PRAGMA user_version").fetchone()
    return int(row[0])


def stored_version(path: Path) -> int:
    """The schema version of the store file at ``path`` (0 when there is none yet), read without opening it
    as a store."""
    if not path.is_file() or path.stat().st_size == 0:
        return 0
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return int(conn.execute("PRAGMA user_version").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise StoreError(f"cannot read the schema version of {path}: {exc}") from None


def backup_path(path: Path, from_version: int) -> Path:
    return path.with_name(f"{path.name}.bak-v{from_version}")


def backup(conn: sqlite3.Connection, dest: Path) -> None:
    """A consistent copy of the open database (WAL content included), written atomically to ``dest``."""
    partial = dest.with_name(dest.name + ".partial")
    partial.unlink(missing_ok=True)
    target = sqlite3.connect(partial)
    try:
        conn.backup(target)
    finally:
        target.close()
    partial.replace(dest)


def migrate(db: Database, path: Path | None, *, target: int = SCHEMA_VERSION) -> int:
    """Bring the schema up to ``target``; return the version found. Backs the file up first if it had one."""
    found = version(db)
    if found >= target:
        return found
    if found > 0 and path is not None:
        backup(db.conn, backup_path(path, found))
    for number in range(found, target):
        with db.atomic():
            MIGRATIONS[number](db)
            db.execute(f"PRAGMA user_version = {number + 1}")
    return found


def _corrupt(exc: sqlite3.DatabaseError) -> bool:
    name = getattr(exc, "sqlite_errorname", "") or ""
    return name.startswith(("SQLITE_NOTADB", "SQLITE_CORRUPT"))


def _set_aside(path: Path, clock: Callable[[], datetime], problem: str) -> StoreError:
    """Rename a damaged file (and its WAL) aside; the error that tells the person where it went."""
    stamp = clock().astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = path.with_name(f"{path.name}.corrupt-{stamp}")
    tries = 1
    while aside.exists():
        tries += 1
        aside = path.with_name(f"{path.name}.corrupt-{stamp}-{tries}")
    try:
        path.replace(aside)
        for suffix in ("-wal", "-shm"):
            extra = path.with_name(path.name + suffix)
            if extra.exists():
                extra.replace(aside.with_name(aside.name + suffix))
    except OSError as exc:
        return StoreError(
            f"the store at {path} is damaged ({problem}) and could not be moved aside: {exc}",
            hint=f"move {path} away by hand; `larder` starts a fresh store when it is gone",
        )
    log.error("store %s is damaged (%s); moved aside to %s", path, problem, aside)
    return StoreError(
        f"the store at {path} is damaged ({problem}); it was moved aside to {aside} "
        "and `larder` will start a fresh store on the next run",
        hint="the damaged file is kept for recovery; nothing was deleted",
    )


def _check(db: Database, path: Path, existed: bool, thorough: bool) -> str | None:
    """Refuse a newer schema; return what is wrong with a damaged or foreign file, or None."""
    found = version(db)
    if found > SCHEMA_VERSION:
        raise StoreError(
            f"the store at {path} was written by a newer Larder (schema {found}, this one knows "
            f"{SCHEMA_VERSION}); update Larder, or move the file away to start a fresh store",
            hint="the file was not changed; `sudo scripts/install.sh --rollback` restores the store backup "
            "taken before the upgrade, with the events journalled since",
        )
    if not existed:
        return None
    if found == 0 and db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
        return "it is a SQLite file but not a Larder store"
    return problems(db) if thorough else None


def problems(db: Database) -> str | None:
    """What ``PRAGMA quick_check`` finds wrong (its first few lines), or None when the file is sound."""
    rows = [row[0] for row in db.execute("PRAGMA quick_check").fetchmany(5)]
    if rows == ["ok"]:
        return None
    lines = [line for row in rows for line in str(row).splitlines() if not line.startswith("***")]
    return "; ".join(lines[:3])


def _configure(db: Database) -> None:
    db.execute("PRAGMA busy_timeout = 5000")
    mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        log.warning("the store's file system does not support WAL; journal mode is %s", mode)
    db.execute("PRAGMA synchronous = FULL")
    db.execute("PRAGMA foreign_keys = ON")


def open_database(path: Path, clock: Callable[[], datetime], *, check: bool = True) -> Database:
    """Open, check, configure and migrate the store file; every failure is a ``StoreError``.

    ``check=False`` skips ``quick_check`` (its time grows with the file: ~0.5 ms per MB here); a file that is
    not a database at all is still caught.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        existed = path.exists() and path.stat().st_size > 0
        conn = sqlite3.connect(path, timeout=5.0, check_same_thread=False)
    except (OSError, sqlite3.Error) as exc:
        raise StoreError(f"cannot open the store at {path}: {exc}") from None
    try:
        db = Database(conn, execute_plugins=False)
        problem = _check(db, path, existed, check)
        if problem is None:
            _configure(db)
            migrate(db, path)
            return db
    except sqlite3.DatabaseError as exc:
        conn.close()
        if _corrupt(exc):
            raise _set_aside(path, clock, str(exc)) from None
        raise StoreError(f"cannot open the store at {path}: {exc}") from None
    except OSError as exc:
        conn.close()
        raise StoreError(f"cannot back up the store at {path} before migrating it: {exc}") from None
    except BaseException:
        conn.close()
        raise
    conn.close()
    raise _set_aside(path, clock, problem)
