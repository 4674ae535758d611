"""Operator commands: ``doctor``, ``sync status``/``sync now``, ``provision``, ``config``, and the store's
upgrade steps ``migrate`` and ``merge-journal`` (scripts/install.sh runs them on upgrade and rollback)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from device.settings import Settings, load_settings


def register(sub: Any) -> None:
    doctor = sub.add_parser("doctor", help="check the unit and say what is wrong in plain words")
    doctor.add_argument("--json", action="store_true")
    doctor.add_argument(
        "--baseline",
        type=Path,
        metavar="FILE",
        help="an earlier `larder doctor --json`: fail only on checks that did not fail in it (upgrades use this)",
    )
    doctor.set_defaults(func=cmd_doctor)

    sync = sub.add_parser("sync", help="cloud sync")
    sync_sub = sync.add_subparsers(dest="sync_command", metavar="ACTION", required=True)
    status = sync_sub.add_parser("status", help="backlog, last success, quarantined events, cursor")
    status.add_argument("--json", action="store_true")
    status.set_defaults(func=cmd_sync_status)
    now = sync_sub.add_parser("now", help="upload and download once, now")
    now.add_argument("--json", action="store_true")
    now.set_defaults(func=cmd_sync_now)

    provision = sub.add_parser(
        "provision", help="exchange a one-time provisioning code for device credentials"
    )
    provision.add_argument("--code", help="the code (default: LARDER_PROVISIONING_CODE)")
    provision.set_defaults(func=cmd_provision)

    migrate = sub.add_parser(
        "migrate", help="bring the store's schema up to this version's (upgrades run it)"
    )
    migrate.set_defaults(func=cmd_migrate)

    merge = sub.add_parser(
        "merge-journal",
        help="add the journal events of another store file that this store lacks (rollbacks run it)",
    )
    merge.add_argument("file", type=Path, help="the other store file (read only, never changed)")
    merge.set_defaults(func=cmd_merge_journal)

    config = sub.add_parser("config", help="print every setting, its value and what it does (secrets hidden)")
    config.add_argument("--json", action="store_true")
    config.set_defaults(func=cmd_config)


def cmd_doctor(args: argparse.Namespace) -> int:
    from device import doctor

    baseline = _baseline(args.baseline) if args.baseline else None
    results = doctor.run_checks()
    if args.json:
        print(json.dumps([r.to_json() for r in results]))
    else:
        print(doctor.format_report(results))
    if baseline is None:
        return doctor.exit_code(results)
    new = doctor.regressions(results, baseline)
    if new:
        print(f"failing now and not in {args.baseline}: {', '.join(r.name for r in new)}", file=sys.stderr)
        return 1
    return 0


def _baseline(path: Path) -> list[dict[str, Any]]:
    """The checks of an earlier ``larder doctor --json``; a missing or malformed file is a ``ConfigError``."""
    from device.errors import ConfigError

    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"cannot read the doctor baseline {path}: {exc}") from None
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise ConfigError(f"the doctor baseline {path} is not a `larder doctor --json` report")
    return rows


def _store(settings: Settings) -> Any:
    from device.inventory.store import Store

    return Store.from_settings(settings)


def cmd_migrate(args: argparse.Namespace) -> int:
    from device.inventory.migrations import SCHEMA_VERSION, stored_version

    settings = load_settings()
    found = stored_version(settings.db_path)
    _store(settings).close()  # opening checks the file, backs it up and migrates it
    if found == SCHEMA_VERSION:
        print(f"store {settings.db_path}: schema {SCHEMA_VERSION}, nothing to migrate")
    else:
        print(f"store {settings.db_path}: schema {found} -> {SCHEMA_VERSION}")
    return 0


def cmd_merge_journal(args: argparse.Namespace) -> int:
    from device.inventory.journal import read_journal

    events = read_journal(args.file)
    settings = load_settings()
    with _store(settings) as store:
        added = store.adopt(events)
    print(f"added {added} of {len(events)} journal events from {args.file} to {settings.db_path}")
    return 0


def cmd_sync_status(args: argparse.Namespace) -> int:
    from cloud_sync.status import describe, sync_status

    settings = load_settings()
    with _store(settings) as store:
        status = sync_status(store)
    print(json.dumps(status, default=str) if args.json else "\n".join(describe(status)))
    return 0


def cmd_sync_now(args: argparse.Namespace) -> int:
    from cloud_sync.worker import sync_now

    settings = load_settings()
    with _store(settings) as store:
        result = sync_now(store, settings)
    print(json.dumps(result, default=str) if args.json else _describe(result))
    return 0 if result.get("ok", True) else 1


def _describe(result: dict[str, Any]) -> str:
    return ", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in result.items())


def cmd_provision(args: argparse.Namespace) -> int:
    from cloud_sync.identity import provision

    settings = load_settings()
    code = args.code or (settings.provisioning_code.get_secret_value() if settings.provisioning_code else "")
    if not code:
        print("larder: no provisioning code given (use --code or LARDER_PROVISIONING_CODE)")
        return 2
    credentials = provision(settings, code)
    print(f"Provisioned device {credentials.device_id} for site {credentials.site_id}.")
    return 0


def cmd_config(args: argparse.Namespace) -> int:
    settings = load_settings()
    rows = []
    for name, field in Settings.model_fields.items():
        value = getattr(settings, name)
        shown = "(set, hidden)" if "secret" in str(field.annotation).lower() and value else value
        rows.append({"setting": f"LARDER_{name.upper()}", "value": shown, "about": field.description or ""})
    if args.json:
        print(json.dumps(rows, default=str))
    else:
        from device.cli.output import print_table

        print_table(rows, ["setting", "value", "about"])
    return 0
