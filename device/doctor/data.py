"""Doctor checks for the local data: the store's integrity, and the sync backlog and quarantine."""

from __future__ import annotations

from device.doctor import CheckResult, failed, passed, warned
from device.settings import Settings


def check_store(settings: Settings) -> CheckResult:
    """Integrity of the store, read-only: the doctor never migrates, moves or creates it."""
    import sqlite3

    path = settings.db_path.resolve()
    if not path.exists():
        return warned("store", f"no store yet at {path}", "the service makes one when it first starts")
    try:
        conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=5)
        try:
            rows = [row[0] for row in conn.execute("PRAGMA quick_check").fetchmany(3)]
            try:
                events = f"{conn.execute('SELECT count(*) FROM events').fetchone()[0]} events"
            except sqlite3.Error:
                events = "no journal yet"
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        rows, events = [str(exc)], ""
    except OSError as exc:
        return failed("store", f"cannot read {path}: {exc}", "run as root: sudo larder doctor")
    if rows != ["ok"]:
        return failed(
            "store",
            f"the store at {path} is damaged: {'; '.join(rows)}",
            "restart the service (sudo systemctl restart larder): it moves the damaged file aside, keeps it "
            "for recovery and starts a fresh store",
        )
    size = path.stat().st_size / 1e6
    return passed("store", f"{events}, integrity ok ({path}, {size:.1f} MB)")


def check_sync(settings: Settings) -> CheckResult:
    """Backlog, quarantine and the last error, from the store (no network)."""
    if not settings.supabase_url:
        return passed("sync", "off (no LARDER_SUPABASE_URL): changes stay on this unit")
    if not settings.db_path.exists():
        return warned(
            "sync", "no store yet: nothing to sync", "the service makes the store when it first starts"
        )
    from cloud_sync.status import sync_status
    from device.inventory.store import Store

    with Store.open(settings.db_path, device_id=settings.device_id or None) as store:
        status = sync_status(store, limit=1)
    backlog, last = status["backlog"], status["last_success"] or "never"
    if status["identity"] is None:
        return failed(
            "sync", f"not provisioned; {backlog} event(s) waiting", "sudo larder provision --code CODE"
        )
    if status["revoked"]:
        return failed(
            "sync",
            f"this unit was revoked in the back office; {backlog} event(s) kept here",
            "provision it again: sudo larder provision --code CODE",
        )
    if status["quarantined"]:
        first = status["quarantine"][0]
        return warned(
            "sync",
            f"{status['quarantined']} event(s) refused by the cloud and kept here; first: {first['reason']}",
            "see them with `sudo larder sync status`; fix the cause, then release them",
        )
    error = status["last_error"]
    if error and (status["last_success"] is None or str(error.get("at")) > str(status["last_success"])):
        return warned(
            "sync",
            f"{backlog} event(s) waiting; last try failed: {error.get('message')}",
            "check the network",
        )
    return passed("sync", f"{backlog} event(s) waiting, none quarantined; last sync {last}")
