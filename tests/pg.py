"""A throwaway real PostgreSQL server for tests and benchmarks.

``PostgresServer`` runs ``initdb`` into a temporary folder and starts ``postgres`` listening only on a unix socket
inside that folder (no TCP port, so parallel runs never collide). ``initdb``/``postgres`` refuse to run as root,
which is what CI runs as: then the folder is handed to the ``postgres`` system user and the server runs as that
user. Missing server binaries raise ``PostgresUnavailable`` naming the package to install.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

PORT = 5432  # only names the socket file: the server listens on no TCP port


class PostgresUnavailable(RuntimeError):
    """The PostgreSQL server binaries are missing or the server would not start."""


def find_bin_dir() -> Path:
    """Folder holding ``initdb`` and ``postgres``: the newest Debian one, else whatever is on PATH."""
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).parent)
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "postgres").is_file():
            return folder
    raise PostgresUnavailable(
        "PostgreSQL server binaries (initdb, postgres) were not found; install them with "
        "`apt-get install postgresql` (the project's setup script does this)"
    )


class PostgresServer:
    """One temporary cluster. ``start()`` it, connect with ``conninfo()``, always ``stop()`` it."""

    def __init__(self, bin_dir: Path | None = None) -> None:
        self.bin_dir = bin_dir or find_bin_dir()
        if not (self.bin_dir / "initdb").is_file():
            raise PostgresUnavailable(
                f"no PostgreSQL server binaries in {self.bin_dir} (apt-get install postgresql)"
            )
        self.root = Path(tempfile.mkdtemp(prefix="larder-pg-"))
        self.data = self.root / "data"
        self.socket_dir = self.root
        self._proc: subprocess.Popen[bytes] | None = None
        self._user: str | None = None
        if os.geteuid() == 0:
            self._user = "postgres" if _user_exists("postgres") else "nobody"
            entry = pwd.getpwnam(self._user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)

    def start(self, timeout: float = 30.0) -> PostgresServer:
        log = self.root / "initdb.log"
        with open(log, "wb") as out:
            done = subprocess.run(
                [
                    str(self.bin_dir / "initdb"),
                    "-D",
                    str(self.data),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--locale=C",
                    "--no-sync",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.root,
                check=False,
                user=self._user,
            )
        if done.returncode != 0:
            raise PostgresUnavailable(f"initdb failed: {_tail(log)}")
        server_log = open(self.root / "server.log", "wb")  # noqa: SIM115 - kept open for the server's life
        self._proc = subprocess.Popen(
            [
                str(self.bin_dir / "postgres"),
                "-D",
                str(self.data),
                "-p",
                str(PORT),
                "-k",
                str(self.socket_dir),
                "-c",
                "listen_addresses=",
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
                "-c",
                "max_connections=60",
            ],
            stdout=server_log,
            stderr=subprocess.STDOUT,
            cwd=self.root,
            start_new_session=True,
            user=self._user,
        )
        server_log.close()
        deadline = time.monotonic() + timeout
        while True:
            try:
                with psycopg.connect(self.conninfo(), connect_timeout=2):
                    return self
            except psycopg.OperationalError:
                if self._proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise PostgresUnavailable(
                        f"postgres did not start: {_tail(self.root / 'server.log')}"
                    ) from None
                time.sleep(0.1)

    def conninfo(self, dbname: str = "postgres", user: str = "postgres") -> str:
        return psycopg.conninfo.make_conninfo(host=str(self.socket_dir), port=PORT, dbname=dbname, user=user)

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGINT)  # fast shutdown
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _tail(path: Path, lines: int = 15) -> str:
    with contextlib.suppress(OSError):
        return " | ".join(path.read_text(errors="replace").strip().splitlines()[-lines:])
    return "(no log)"
