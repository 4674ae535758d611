"""Helpers for cloud-sync tests: the ``Cloud`` handle (database + Supabase stand-in), API callers, people and
journal helpers."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from postgrest.exceptions import APIError
from supabase import Client, create_client
from supabase.lib.client_options import SyncClientOptions

from cloud_sync.identity import provision
from cloud_sync.remote import Session, SupabaseRemote
from device.intent.command import Action, Command
from device.inventory.records import Delta
from device.inventory.store import Store
from device.settings import Settings
from tests.pg import PostgresServer
from tests.standins.postgrest import SupabaseStandIn


@dataclass
class Cloud:
    """A migrated database behind a running Supabase stand-in."""

    server: PostgresServer
    dbname: str
    api: SupabaseStandIn

    def sql(self, query: str, params: Any = None) -> list[tuple[Any, ...]]:
        """Run SQL as the database owner (the Supabase dashboard, in real life)."""
        with psycopg.connect(self.server.conninfo(self.dbname), autocommit=True) as conn:
            cur = conn.execute(query, params)
            return cur.fetchall() if cur.description else []

    def add_site(self, site: str) -> None:
        self.sql("insert into sites (id, name) values (%s, %s) on conflict do nothing", (site, site))

    def code(self, site: str) -> str:
        self.add_site(site)
        return str(self.sql("select app.create_provisioning_code(%s, %s)", (site, f"{site} unit"))[0][0])

    def settings(self, data_dir: Path, **overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "data_dir": data_dir,
            "supabase_url": self.api.url,
            "supabase_key": self.api.anon_key,
            "sync_batch": 100,
            "sync_interval_s": 0.05,
            **overrides,
        }
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    def remote(self) -> SupabaseRemote:
        return SupabaseRemote(self.api.url, self.api.anon_key, timeout_s=10)

    def provisioned_store(
        self, data_dir: Path, site: str = "cafe-1", **overrides: Any
    ) -> tuple[Store, Settings]:
        settings = self.settings(data_dir, **overrides)
        store = Store.open(settings.db_path)
        remote = self.remote()
        try:
            provision(settings, self.code(site), store=store, remote=remote)
        finally:
            remote.close()
        return store, settings

    def events(self, device_id: str | None = None) -> dict[str, dict[str, Any]]:
        where = "where device_id = %s" if device_id else ""
        rows = self.sql(
            f"select id::text, device_id, action, deltas from inventory_events {where}",
            (device_id,) if device_id else None,
        )
        return {r[0]: {"device_id": r[1], "action": r[2], "deltas": r[3]} for r in rows}

    def stock(self, site: str) -> dict[tuple[str, str], float]:
        rows = self.sql(
            "select item, location, sum(quantity)::float8 from stock where site_id = %s group by 1, 2",
            (site,),
        )
        return {(r[0], r[1]): r[2] for r in rows if abs(r[2]) > 1e-9}

    def admin_client(self) -> Any:
        options = SyncClientOptions(
            persist_session=False, auto_refresh_token=False, httpx_client=httpx.Client()
        )
        return create_client(self.api.url, self.api.service_key, options)

    def put_catalogue(self, site: str, items: list[dict[str, Any]]) -> None:
        """Write catalogue rows the way an admin tool would: supabase-py with the service key, upsert."""
        self.add_site(site)
        rows = [
            {"site_id": site, "aliases": [], "packs": {}, "position": n, **i} for n, i in enumerate(items)
        ]
        client = self.admin_client()
        client.table("items").upsert(rows, on_conflict="site_id,name").execute()

    def person(self, email: str, *, site: str | None = None, role: str = "staff") -> Person:
        """A person signed in through Supabase Auth (created with the admin API, then the password grant);
        with ``site``, they join it with ``role`` through an invite made by the service role."""
        password = f"pw-{uuid.uuid4()}"
        admin = self.admin_client()
        user = admin.auth.admin.create_user({"email": email, "password": password, "email_confirm": True})
        options = SyncClientOptions(
            persist_session=False, auto_refresh_token=False, httpx_client=httpx.Client()
        )
        client = create_client(self.api.url, self.api.anon_key, options)
        session = client.auth.sign_in_with_password({"email": email, "password": password}).session
        assert session is not None
        person = Person(user.user.id, email, Caller(self, session.access_token))
        if site is not None:
            self.add_site(site)
            code = self.sql("select app.create_invite(%s, %s)", (site, role))[0][0]
            assert rows(person.api.client.rpc("accept_invite", {"p_code": code})) == {
                "site_id": site,
                "role": role,
            }
        return person


class Caller:
    """supabase-py with a given bearer token (none: the publishable key alone), noting each response's status."""

    def __init__(self, cloud: Cloud, token: str | None) -> None:
        self.statuses: list[int] = []
        self.http = httpx.Client(event_hooks={"response": [lambda r: self.statuses.append(r.status_code)]})
        options = SyncClientOptions(auto_refresh_token=False, persist_session=False, httpx_client=self.http)
        self.client: Client = create_client(cloud.api.url, cloud.api.anon_key, options)
        if token:
            self.client.postgrest.auth(token)

    def fails(self, call: Any) -> tuple[int, str | None]:
        """The HTTP status and error code of a call that must fail."""
        with pytest.raises(APIError) as caught:
            call()
        return self.statuses[-1], caught.value.code


@dataclass
class Person:
    user_id: str
    email: str
    api: Caller


def rows(query: Any) -> Any:
    """A query's answer (untyped JSON)."""
    return query.execute().data


def record_adds(store: Store, count: int, *, items: tuple[str, ...] = ("oat milk", "eggs", "butter")) -> None:
    """Journal ``count`` stock changes (mixed adds and uses, some with expiry dates)."""
    for n in range(count):
        item = items[n % len(items)]
        quantity = float(1 + n % 5) if n % 4 else -1.0
        expires = date(2027, 1, 1 + n % 28) if n % 3 == 0 and quantity > 0 else None
        store.record(
            command=Command(Action.ADD if quantity > 0 else Action.USE, item=item, quantity=abs(quantity)),
            deltas=[Delta(item, "walk-in", quantity, expires)],
            confirmation="implicit",
            outcome="applied",
        )


def local_stock(store: Store) -> dict[tuple[str, str], float]:
    return {(r.item, r.location): r.quantity for r in store.stock()}


def session_of(data_dir: Path) -> Session:
    return Session(**json.loads((data_dir / "credentials.json").read_text()))
