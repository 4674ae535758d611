"""Fixtures for cloud-sync tests: one real PostgreSQL per test run (migrated template database), and per test a
fresh database copied from the template behind its own Supabase stand-in."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest

from cloud_sync.migrate import apply_migrations
from tests.cloud_sync.helpers import Cloud
from tests.pg import PostgresServer
from tests.standins.postgrest import SupabaseStandIn, create_api_roles

TEMPLATE = "larder_template"


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    server = PostgresServer().start()
    try:
        with psycopg.connect(server.conninfo(), autocommit=True) as conn:
            conn.execute(f"create database {TEMPLATE}")
        with psycopg.connect(server.conninfo(TEMPLATE), autocommit=True) as conn:
            create_api_roles(conn)
            apply_migrations(conn)
        yield server
    finally:
        server.stop()


@pytest.fixture
def cloud(pg_server: PostgresServer) -> Iterator[Cloud]:
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server.conninfo(), autocommit=True) as conn:
        conn.execute(f"create database {name} template {TEMPLATE}")
    api = SupabaseStandIn(pg_server.conninfo(name, "authenticator"), pg_server.conninfo(name)).start()
    try:
        yield Cloud(pg_server, name, api)
    finally:
        api.close()
        with psycopg.connect(pg_server.conninfo(), autocommit=True) as conn:
            conn.execute(f"drop database if exists {name} with (force)")
