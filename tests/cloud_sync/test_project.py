"""The Supabase project folder is what the Supabase CLI expects, and its migrations apply (and re-apply) cleanly."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import psycopg

from cloud_sync.migrate import apply_migrations, migration_files
from tests.pg import PostgresServer

PROJECT = Path(__file__).resolve().parents[2] / "cloud_sync" / "supabase"


def test_the_cli_finds_every_migration_in_order() -> None:
    files = sorted(p.name for p in (PROJECT / "migrations").iterdir())
    assert files and all(
        re.fullmatch(r"[0-9]+_[a-z0-9_]+\.sql", name) for name in files
    )  # <version>_<name>.sql
    assert [name for name, _ in migration_files()] == files  # the installed package ships the same files


def test_config_points_at_what_the_project_has() -> None:
    config = tomllib.loads((PROJECT / "config.toml").read_text(encoding="utf-8"))
    assert config["api"]["schemas"] == ["public"]  # the private `app` schema is never an API
    hook = config["auth"]["hook"]["custom_access_token"]
    assert hook["enabled"] and hook["uri"] == "pg-functions://postgres/public/custom_access_token_hook"
    sql = "".join(text for _, text in migration_files())
    assert "create or replace function public.custom_access_token_hook(event jsonb)" in sql
    for name in config["functions"]:
        assert (PROJECT / "functions" / name / "index.ts").is_file()
    assert {p.name for p in (PROJECT / "functions").iterdir()} == set(config["functions"])


def test_migrations_apply_on_a_fresh_cluster_and_again() -> None:
    """A bare PostgreSQL (no Supabase roles, no PostgREST login role): the migrations make what they need."""
    with PostgresServer() as server, psycopg.connect(server.conninfo(), autocommit=True) as conn:
        first = apply_migrations(conn)
        policies = conn.execute("select count(*) from pg_policies").fetchone()
        assert apply_migrations(conn) == first
        assert conn.execute("select count(*) from pg_policies").fetchone() == policies
        roles = conn.execute(
            "select array_agg(rolname order by rolname) from pg_roles "
            "where rolname in ('anon', 'authenticated', 'service_role', 'supabase_auth_admin')"
        ).fetchone()
        assert roles == (["anon", "authenticated", "service_role", "supabase_auth_admin"],)
