"""Doctor checks for the cloud: Deepgram, the LLM, and Supabase reachable and authorised."""

from __future__ import annotations

from device.doctor import CheckResult, Status, failed, passed
from device.settings import Settings


def _answer(name: str, answer: tuple[str, str]) -> CheckResult:
    """``device.cloud_checks`` answers ``(status, message)`` with the fix inside the message."""
    status, message = answer
    return CheckResult(name, Status(str(status).upper()), str(message))


def check_deepgram(settings: Settings) -> CheckResult:
    """A short real handshake with the key (device.cloud_checks), or why Deepgram is off."""
    from device.cloud_checks import check_deepgram as probe

    return _answer("deepgram", probe(settings))


def check_llm(settings: Settings) -> CheckResult:
    """The LLM endpoint answers with the key (device.cloud_checks), or why the LLM is off."""
    from device.cloud_checks import check_llm as probe

    return _answer("llm", probe(settings))


def check_supabase(settings: Settings) -> CheckResult:
    """Reachable and authorised: refresh this unit's session if due, then ask for changes since the cursor."""
    if not settings.supabase_url:
        return passed("supabase", "not configured (cloud sync is off)")
    from cloud_sync.download import CURSOR
    from cloud_sync.identity import Identity, credentials_path, load_session, make_remote

    path = credentials_path(settings.data_dir)
    if load_session(path) is None:
        return failed("supabase", "this unit has no cloud credentials", "sudo larder provision --code CODE")
    cursor = None
    if settings.db_path.exists():
        from device.inventory.store import Store

        with Store.open(settings.db_path, device_id=settings.device_id or None) as store:
            cursor = store.get_state(CURSOR)
    remote = make_remote(settings)
    try:
        session = Identity(path, remote).fresh()
        remote.use_token(session.access_token)
        remote.changes_since(cursor)
    finally:
        remote.close()
    host = settings.supabase_url.split("//", 1)[-1].split("/", 1)[0]
    return passed(
        "supabase", f"{host} reachable; authorised as device {session.device_id} (site {session.site_id})"
    )
