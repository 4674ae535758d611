"""`larder doctor`: one line per check, PASS, WARN or FAIL, each with a plain-words hint to fix it.

Every check is a small function of the settings that returns a ``CheckResult`` or raises; ``run_checks`` runs
each in its own worker thread with a time limit, so no check can crash or hang the report: a ``LarderError``
becomes FAIL with its message and hint, a component missing from this build becomes WARN "not available in
this build", anything else FAIL naming the error. Components are imported inside the checks (heavy libraries,
and parts other engineers may not have shipped yet). Messages pass through the secret scrubber.

The checks live beside this module: ``system`` (version, config, service, clock), ``hardware`` (microphone,
speaker, buttons and LEDs, models), ``wake`` (the sensitivity for this site), ``data`` (store, sync) and
``cloud`` (Deepgram, LLM, Supabase).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from device.errors import ConfigError, LarderError
from device.settings import Settings, load_settings

log = logging.getLogger(__name__)


class Status(StrEnum):
    PASS = "PASS"
    WARN = "WARN"
    FAIL = "FAIL"


@dataclass(frozen=True)
class CheckResult:
    name: str
    status: Status
    message: str
    hint: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "status": str(self.status), "message": self.message, "hint": self.hint}


def passed(name: str, message: str) -> CheckResult:
    return CheckResult(name, Status.PASS, message)


def warned(name: str, message: str, hint: str | None = None) -> CheckResult:
    return CheckResult(name, Status.WARN, message, hint)


def failed(name: str, message: str, hint: str | None = None) -> CheckResult:
    return CheckResult(name, Status.FAIL, message, hint)


Check = Callable[[Settings], CheckResult]


@dataclass(frozen=True)
class CheckSpec:
    name: str
    run: Check
    timeout_s: float = 15.0
    needs_settings: bool = True


def _guarded(spec: CheckSpec, settings: Settings) -> CheckResult:
    """Run one check in a worker thread: errors become results, and a hung check cannot hang the report."""
    box: list[CheckResult] = []

    def work() -> None:
        box.append(_attempt(spec, settings))

    worker = threading.Thread(target=work, name=f"doctor-{spec.name}", daemon=True)
    worker.start()
    worker.join(spec.timeout_s)
    if not box:
        return failed(spec.name, f"no answer within {spec.timeout_s:g} s", "something is stuck: run it again")
    return box[0]


def _attempt(spec: CheckSpec, settings: Settings) -> CheckResult:
    try:
        return spec.run(settings)
    except LarderError as exc:
        return failed(spec.name, exc.message, exc.hint)
    except ModuleNotFoundError as exc:
        module = exc.name or "?"
        if module.split(".")[0] in {"device", "cloud_sync", "models"}:
            return warned(spec.name, f"not available in this build ({module})")
        return failed(
            spec.name, f"the Python package {module} is missing", "reinstall Larder: sudo scripts/install.sh"
        )
    except Exception as exc:  # the report must go on: name the error plainly
        log.debug("the %s check crashed", spec.name, exc_info=True)
        return failed(
            spec.name, f"check crashed: {type(exc).__name__}: {exc}", "run `larder -v doctor` for details"
        )


def run_checks(settings: Settings | None = None, *, only: Sequence[str] | None = None) -> list[CheckResult]:
    """Every check (or those named in ``only``), in order; loads the settings when none are given."""
    config: CheckResult | None = None
    if settings is None:
        try:
            settings = load_settings()
        except ConfigError as exc:
            config = failed("config", exc.message, exc.hint)
    results: list[CheckResult] = []
    for spec in all_checks():
        if only is not None and spec.name not in only:
            continue
        if spec.name == "config" and config is not None:
            results.append(config)
        elif settings is None and spec.needs_settings:
            results.append(warned(spec.name, "skipped until the settings are valid", "fix the config first"))
        else:
            results.append(_guarded(spec, settings or Settings.model_construct()))
    return _scrubbed(results, settings.secrets() if settings is not None else [])


def _scrubbed(results: list[CheckResult], secrets: list[str]) -> list[CheckResult]:
    from device.logging_setup import SecretScrubber

    scrub = SecretScrubber(secrets).scrub
    return [
        CheckResult(r.name, r.status, scrub(r.message), scrub(r.hint) if r.hint else None) for r in results
    ]


def format_report(results: Sequence[CheckResult]) -> str:
    """``PASS  store        12 events, integrity ok`` per check, hint lines under WARN/FAIL, and a summary."""
    width = max((len(r.name) for r in results), default=0) + 2
    lines = []
    for r in results:
        lines.append(f"{r.status:<4}  {r.name:<{width}}{r.message}")
        if r.hint and r.status is not Status.PASS:
            lines.append(f"{'':<6}{'':<{width}}hint: {r.hint}")
    counts = {s: sum(r.status is s for r in results) for s in Status}
    summary = f"{counts[Status.FAIL]} FAIL, {counts[Status.WARN]} WARN, {counts[Status.PASS]} PASS"
    missing = [r.name for r in results if r.message.startswith("not available in this build")]
    if missing:
        summary += f"; not available in this build: {', '.join(missing)}"
    return "\n".join([*lines, "", summary])


def exit_code(results: Sequence[CheckResult]) -> int:
    """1 when any check failed, else 0."""
    return 1 if any(r.status is Status.FAIL for r in results) else 0


def regressions(results: Sequence[CheckResult], baseline: Sequence[dict[str, Any]]) -> list[CheckResult]:
    """The checks that fail now and did not fail in ``baseline`` (an earlier ``larder doctor --json``).

    An upgrade is judged by these: a microphone that was already unplugged is no reason to roll back.
    A check the baseline does not have counts as one that did not fail.
    """
    failed_before = {str(row.get("name")) for row in baseline if row.get("status") == Status.FAIL}
    return [r for r in results if r.status is Status.FAIL and r.name not in failed_before]


def all_checks() -> tuple[CheckSpec, ...]:
    """Every check, in report order (imported here: the check modules use this module's helpers)."""
    from device.doctor import cloud, data, hardware, system, wake

    return (
        CheckSpec("version", system.check_version, needs_settings=False),
        CheckSpec("config", system.check_config, needs_settings=False),
        CheckSpec("service", system.check_service, needs_settings=False),
        CheckSpec("microphone", hardware.check_microphone, timeout_s=20),
        CheckSpec("speaker", hardware.check_speaker, timeout_s=20),
        CheckSpec("gpio", hardware.check_gpio),
        CheckSpec("models", hardware.check_models, timeout_s=180),
        CheckSpec("wake", wake.check_wake),
        CheckSpec("store", data.check_store),
        CheckSpec("sync", data.check_sync),
        CheckSpec("clock", system.check_clock, needs_settings=False),
        CheckSpec("deepgram", cloud.check_deepgram, timeout_s=20),
        CheckSpec("llm", cloud.check_llm, timeout_s=20),
        CheckSpec("supabase", cloud.check_supabase, timeout_s=40),
    )


def elapsed(started: float) -> str:
    return f"{time.perf_counter() - started:.1f} s"
