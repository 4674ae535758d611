"""What `larder sync status` and `larder doctor` report about sync, read from the store alone (no network)."""

from __future__ import annotations

from typing import Any

from cloud_sync.download import CURSOR
from cloud_sync.errors import DeviceRevoked
from cloud_sync.identity import IDENTITY_STATE
from cloud_sync.worker import LAST_ERROR, LAST_SUCCESS


def sync_status(store: Any, *, limit: int = 20) -> dict[str, Any]:
    """Backlog, last success, last error, quarantined events (the first ``limit``, with reasons), cursor, identity,
    and whether the cloud refused this unit as revoked at the last try."""
    quarantined = store.quarantined()
    last_error = store.get_state(LAST_ERROR)
    return {
        "backlog": store.backlog(),
        "last_success": store.get_state(LAST_SUCCESS),
        "last_error": last_error,
        "revoked": bool(last_error and last_error.get("kind") == DeviceRevoked.__name__),
        "quarantined": len(quarantined),
        "quarantine": [
            {"id": event.id, "at": event.at, "action": event.action, "item": event.item, "reason": reason}
            for event, reason in quarantined[:limit]
        ],
        "cursor": store.get_state(CURSOR),
        "identity": store.get_state(IDENTITY_STATE),
    }


def describe(status: dict[str, Any]) -> list[str]:
    """Plain-words lines for `larder doctor`: empty when sync has nothing to say."""
    lines = []
    if status.get("revoked"):
        lines.append(
            f"this unit was revoked in the back office: {status['backlog']} event(s) are kept on the unit "
            "until it is provisioned again (sudo larder provision --code CODE)"
        )
    if status["quarantined"]:
        first = status["quarantine"][0]
        lines.append(
            f"{status['quarantined']} event(s) were rejected by the cloud and kept on the unit; "
            f"first: {first['action']} {first['item'] or ''} at {first['at']}: {first['reason']}"
        )
    if status["last_error"] and not status.get("revoked"):
        lines.append(
            f"the last sync failed at {status['last_error']['at']}: {status['last_error']['message']}"
        )
    if status["identity"] is None:
        lines.append("this unit is not provisioned for cloud sync")
    return lines


def release_quarantine(store: Any, event_id: str | None = None) -> int:
    """Put quarantined events (one, or all) back in the upload queue after the cause was fixed; returns how many."""
    ids = [event.id for event, _ in store.quarantined() if event_id is None or event.id == event_id]
    for ident in ids:
        store.release(ident)
    return len(ids)
