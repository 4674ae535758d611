"""Device identity: exchange a one-time provisioning code for the unit's own credentials, and keep them fresh.

The credentials (an access token and a single-use refresh token, never a service key) live in
``<data_dir>/credentials.json``, mode 0600, written atomically (temporary file, fsync, rename, fsync of the
folder) so a pulled plug leaves the old file or the new one, never half of either. A refreshed session is
written to disk *before* it is used. Refreshes take an exclusive file lock and re-read the file first, so the
daemon and a `larder sync now` never present a refresh token the other has already rotated. If the unit dies
between the server rotating a token and the new one reaching disk, the old token is presented again: Supabase
Auth answers a revoked token whose child is still the active one with that same child.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

from cloud_sync.errors import CredentialsRefused, NotProvisioned
from cloud_sync.remote import RemoteStore, Session
from device.errors import SyncError
from device.files import write_atomic

CREDENTIALS_FILE = "credentials.json"
REFRESH_MARGIN_S = 60
IDENTITY_STATE = "sync.identity"


def credentials_path(data_dir: Path) -> Path:
    return Path(data_dir) / CREDENTIALS_FILE


def load_session(path: Path) -> Session | None:
    """The stored credentials, or None when the unit was never provisioned."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        session = Session(**{k: data[k] for k in Session.__dataclass_fields__})
        if not isinstance(session.expires_at, int) or not all(
            isinstance(getattr(session, k), str)
            for k in ("access_token", "refresh_token", "device_id", "site_id")
        ):
            raise TypeError("a field has the wrong type")
        return session
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SyncError(
            f"the credentials file {path} cannot be read ({type(exc).__name__})",
            hint="provision the unit again with a new code",
        ) from None


def save_session(path: Path, session: Session) -> None:
    """Write the credentials durably and readable by the service's user only (0600)."""
    write_atomic(path, json.dumps(asdict(session)).encode(), mode=0o600)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


class Identity:
    """The unit's credentials on disk, refreshed through a ``RemoteStore``."""

    def __init__(self, path: Path, remote: RemoteStore, *, clock: Any = time.time) -> None:
        self.path = path
        self.remote = remote
        self._clock = clock

    def current(self) -> Session:
        session = load_session(self.path)
        if session is None:
            raise NotProvisioned()
        return session

    def fresh(self, margin_s: float = REFRESH_MARGIN_S) -> Session:
        """The stored session, refreshed first when it expires within ``margin_s``."""
        session = self.current()
        if session.expires_at - self._clock() > margin_s:
            return session
        return self.refresh(session)

    def refresh(self, stale: Session) -> Session:
        """Rotate ``stale``'s refresh token, persist the new session, then return it."""
        with _locked(self.path):
            on_disk = self.current()
            if on_disk.refresh_token != stale.refresh_token:
                return on_disk  # another process refreshed meanwhile
            new = self.remote.refresh(on_disk.refresh_token)
            save_session(self.path, new)
            return new


def provision(
    settings: Any,
    code: str | None = None,
    *,
    store: Any = None,
    remote: RemoteStore | None = None,
    name: str = "",
) -> Session:
    """Exchange a provisioning code (``code``, else ``settings.provisioning_code``) for this unit's credentials.

    The device id sent is the store's, so events journalled before provisioning upload under it. The new
    credentials are written to ``<data_dir>/credentials.json`` (0600) and the non-secret part (device and
    site) to the store's state for `larder sync status`.
    """
    if code is None and settings.provisioning_code is not None:
        code = settings.provisioning_code.get_secret_value()
    if not code or not code.strip():
        raise SyncError(
            "no provisioning code was given", hint="set LARDER_PROVISIONING_CODE or pass the code"
        )
    own_store = store is None
    if store is None:
        from device.inventory.store import Store

        store = Store.open(settings.db_path, device_id=settings.device_id or None)
    own_remote = remote is None
    try:
        if remote is None:
            remote = make_remote(settings)
        session = remote.provision(code.strip(), store.device_id, name)
        if session.device_id != store.device_id:
            raise CredentialsRefused(
                f"the cloud issued credentials for device {session.device_id!r}, not {store.device_id!r}"
            )
        path = credentials_path(settings.data_dir)
        with _locked(path):
            save_session(path, session)
        store.set_state(
            IDENTITY_STATE,
            {"device_id": session.device_id, "site_id": session.site_id, "provisioned_at": int(time.time())},
        )
        return session
    finally:
        if own_remote and remote is not None:
            remote.close()
        if own_store:
            store.close()


def make_remote(settings: Any) -> RemoteStore:
    """The supabase-py remote from settings (URL and publishable key), or a clear error when sync is not set up."""
    if not settings.supabase_url:
        raise SyncError("cloud sync is off: LARDER_SUPABASE_URL is not set")
    if settings.supabase_key is None or not settings.supabase_key.get_secret_value():
        raise SyncError("LARDER_SUPABASE_KEY (the project's publishable key) is not set")
    from cloud_sync.remote import SupabaseRemote

    try:
        return SupabaseRemote(settings.supabase_url, settings.supabase_key.get_secret_value())
    except Exception as exc:  # supabase-py validates the URL and key on construction
        raise SyncError(f"cannot set up the Supabase client: {exc}") from None
