"""Doctor checks for the cloud: Deepgram, the LLM, and Supabase reachable and authorised."""

from __future__ import annotations

from device.doctor import CheckResult, Status, Unavailable, failed, passed, warned
from device.settings import Settings


def _cloud(name: str, function: str, settings: Settings) -> CheckResult:
    import importlib

    try:
        module = importlib.import_module("device.cloud_checks")
    except ModuleNotFoundError as exc:
        raise Unavailable("device.cloud_checks") from exc
    status, message = getattr(module, function)(settings)
    return CheckResult(name, Status(str(status).upper()), str(message))


def check_deepgram(settings: Settings) -> CheckResult:
    if settings.deepgram_api_key is None:
        if settings.stt == "deepgram":
            return failed(
                "deepgram",
                "LARDER_STT=deepgram but no LARDER_DEEPGRAM_API_KEY",
                "set the key, or LARDER_STT=auto",
            )
        return warned(
            "deepgram",
            "not configured: Whisper on the unit does all speech to text",
            "set LARDER_DEEPGRAM_API_KEY",
        )
    return _cloud("deepgram", "check_deepgram", settings)


def check_llm(settings: Settings) -> CheckResult:
    if not settings.llm_base_url:
        return passed("llm", "not configured: commands the grammar cannot parse are asked again")
    return _cloud("llm", "check_llm", settings)


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
