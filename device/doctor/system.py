"""Doctor checks that need only the settings and the OS: version, config, the systemd unit, the clock."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from datetime import UTC, datetime

from device.doctor import CheckResult, failed, passed, warned
from device.settings import DEFAULT_ENV_FILE, Settings, env_file


def check_version(settings: Settings) -> CheckResult:
    """Which Larder this is, where it runs from, and the store schema it reads and writes."""
    from device import __version__
    from device.inventory.migrations import SCHEMA_VERSION

    return passed(
        "version",
        f"Larder {__version__} (store schema {SCHEMA_VERSION}), Python {platform.python_version()}, "
        f"from {sys.prefix}",
    )


def check_config(settings: Settings) -> CheckResult:
    # the path the settings loader would read (it names LARDER_ENV_FILE or the default)
    named = os.environ.get("LARDER_ENV_FILE", str(DEFAULT_ENV_FILE))
    source = env_file()
    where = f"data in {settings.data_dir}, site {settings.site!r}"
    if source is None and os.path.exists(named):
        return warned(
            "config",
            f"cannot read {named}: checking with the environment only ({where})",
            "run: sudo larder doctor",
        )
    origin = f"from {source}" if source is not None else "no env file, environment and defaults"
    return passed("config", f"valid ({origin}); {where}")


def check_clock(settings: Settings) -> CheckResult:
    now = datetime.now(UTC)
    if now.year < 2025:
        return failed(
            "clock", f"the clock says {now:%Y-%m-%d %H:%M} UTC", "connect the unit to the network (NTP)"
        )
    try:
        answer = subprocess.run(
            ["timedatectl", "show", "--property=NTPSynchronized", "--value"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return warned("clock", f"cannot tell whether the clock is synchronised ({exc})")
    value = answer.stdout.strip()
    if answer.returncode != 0 or value not in {"yes", "no"}:
        reason = (answer.stderr.strip().splitlines() or ["no answer from timedatectl"])[0]
        return warned("clock", f"cannot tell whether the clock is synchronised ({reason})")
    if value == "no":
        return warned(
            "clock",
            f"not synchronised with NTP yet ({now:%Y-%m-%d %H:%M} UTC)",
            "check the network: timedatectl",
        )
    return passed("clock", f"synchronised ({now:%Y-%m-%d %H:%M} UTC)")


def systemd_unit_state() -> dict[str, str] | None:
    """``systemctl show larder.service`` properties, or None when systemd cannot be asked."""
    props = "LoadState,ActiveState,SubState,UnitFileState,StatusText,NRestarts"
    try:
        answer = subprocess.run(
            ["systemctl", "show", "larder.service", f"--property={props}"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if answer.returncode != 0:
        return None
    return dict(line.partition("=")[::2] for line in answer.stdout.splitlines() if "=" in line)


def service_running() -> bool:
    state = systemd_unit_state()
    return state is not None and state.get("ActiveState") == "active"


def check_service(settings: Settings) -> CheckResult:
    state = systemd_unit_state()
    if state is None:
        return warned("service", "cannot ask systemd about larder.service (systemd is not running here)")
    if state.get("LoadState") == "not-found":
        return warned("service", "larder.service is not installed", "install it: sudo scripts/install.sh")
    active, sub = state.get("ActiveState", "?"), state.get("SubState", "?")
    status = state.get("StatusText") or "no status"
    restarts = int(state.get("NRestarts") or 0)
    logs = "sudo journalctl -u larder -e"
    if active == "active":
        if restarts:
            return warned(
                "service", f"running ({status}), but restarted {restarts} time(s)", f"see why: {logs}"
            )
        return passed("service", f"running ({status})")
    if active in {"activating", "reloading"}:
        return warned("service", f"starting ({sub}: {status})", f"wait a moment; if it stays so: {logs}")
    if active == "failed":
        return failed("service", f"failed ({sub}; {status})", f"see why: {logs}")
    if state.get("UnitFileState") == "enabled":
        return failed("service", f"enabled but {active}", "start it: sudo systemctl start larder")
    return warned(
        "service", f"{active} and {state.get('UnitFileState', '?')}", "sudo systemctl enable --now larder"
    )
