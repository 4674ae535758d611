"""Benchmark: how long a unit's queued journal takes to drain to the cloud.

Starts a throwaway PostgreSQL with the Supabase schema, the Supabase stand-in in front of it, a provisioned unit
with ``--events`` journal events queued (default 10,000), then times ``sync_now`` (upload in batches of
``--batch``, plus the download and stock rebase that follow) through supabase-py. Target: 10,000 events in under
30 s on the development machine. Prints one JSON line.

    .venv/bin/python tools/bench_sync.py [--events 10000] [--batch 500]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg
from pydantic import SecretStr

from cloud_sync.identity import provision
from cloud_sync.migrate import apply_migrations
from cloud_sync.remote import SupabaseRemote
from cloud_sync.worker import sync_now
from device.inventory.store import Store
from device.settings import Settings
from tests.cloud_sync.helpers import record_adds
from tests.pg import PostgresServer
from tests.standins.postgrest import SupabaseStandIn, create_api_roles


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    with PostgresServer() as pg, tempfile.TemporaryDirectory() as tmp:
        with psycopg.connect(pg.conninfo(), autocommit=True) as conn:
            create_api_roles(conn)
            apply_migrations(conn)
            conn.execute("insert into sites (id) values ('bench')")
            code = conn.execute("select app.create_provisioning_code('bench')").fetchone()[0]  # type: ignore[index]
        api = SupabaseStandIn(pg.conninfo(user="authenticator"), pg.conninfo()).start()
        try:
            settings = Settings(  # type: ignore[call-arg]
                _env_file=None,
                data_dir=Path(tmp),
                supabase_url=api.url,
                supabase_key=SecretStr(api.anon_key),
                sync_batch=args.batch,
            )
            with Store.open(settings.db_path) as store:
                remote = SupabaseRemote(api.url, api.anon_key)
                provision(settings, code, store=store, remote=remote)
                remote.close()
                started = time.perf_counter()
                record_adds(
                    store, args.events, items=("oat milk", "eggs", "butter", "whole milk", "avocados")
                )
                queued_s = time.perf_counter() - started
                started = time.perf_counter()
                report = sync_now(store, settings)
                drain_s = time.perf_counter() - started
                with psycopg.connect(pg.conninfo()) as conn:
                    row = conn.execute("select count(*) from inventory_events").fetchone()
                    on_server = row[0] if row else 0
                result = {
                    "events": args.events,
                    "batch": args.batch,
                    "drain_s": round(drain_s, 2),
                    "events_per_s": round(args.events / drain_s),
                    "on_server": on_server,
                    "backlog_after": report["backlog"],
                    "queue_setup_s": round(queued_s, 1),
                    "target_s": 30,
                    "ok": drain_s < 30 and on_server == args.events and report["backlog"] == 0,
                }
        finally:
            api.close()
    print(json.dumps(result))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
