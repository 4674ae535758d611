"""What each API role may touch at all, read from the catalogue of the migrated database: every table, view and
function in the exposed and private schemas. Row-level security narrows these further (test_people, test_rls)."""

from __future__ import annotations

from tests.cloud_sync.helpers import Cloud

# (relation, privilege) the signed-in role holds; anything else is refused before row-level security
AUTHENTICATED_TABLES = {
    ("public.sites", "SELECT"),
    ("public.devices", "SELECT"),
    ("public.items", "SELECT"),
    ("public.items", "INSERT"),
    ("public.items", "UPDATE"),
    ("public.locations", "SELECT"),
    ("public.locations", "INSERT"),
    ("public.locations", "UPDATE"),
    ("public.stock", "SELECT"),
    ("public.inventory_events", "SELECT"),
    ("public.inventory_events", "INSERT"),
    ("public.site_members", "SELECT"),
    ("public.site_members", "DELETE"),
    ("public.audit_logs", "SELECT"),
    ("public.stock_vs_par", "SELECT"),
    ("public.waste_by_week", "SELECT"),
    ("public.journal", "SELECT"),
}
AUTHENTICATED_FUNCTIONS = {
    "public.ingest_events",
    "public.changes_since",
    "public.create_provisioning_code",
    "public.create_invite",
    "public.accept_invite",
    "public.revoke_device",
    "public.record_count",
    "public.expiring_lots",
    # helpers the policies and RPCs call as the caller; each answers only about the caller
    "app.check_request",
    "app.claims",
    "app.device_id",
    "app.site_id",
    "app.require_device",
    "app.uid",
    "app.role_at",
    "app.member_sites",
    "app.editor_sites",
    "app.owner_sites",
    "app.deltas_problem",
    "app.event_problem",
    "app.audit",
}
PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")


def relations(cloud: Cloud) -> list[str]:
    return [
        r[0]
        for r in cloud.sql(
            "select format('%s.%s', n.nspname, c.relname) from pg_class c "
            "join pg_namespace n on n.oid = c.relnamespace "
            "where n.nspname in ('public', 'app') and c.relkind in ('r', 'v', 'm', 'p')"
        )
    ]


def functions(cloud: Cloud) -> list[tuple[str, int]]:
    return [
        (r[0], r[1])
        for r in cloud.sql(
            "select format('%s.%s', n.nspname, p.proname), p.oid::int from pg_proc p "
            "join pg_namespace n on n.oid = p.pronamespace where n.nspname in ('public', 'app')"
        )
    ]


def held(cloud: Cloud, role: str) -> tuple[set[tuple[str, str]], set[str]]:
    tables = {
        (rel, priv)
        for rel in relations(cloud)
        for priv in PRIVILEGES
        if cloud.sql("select has_table_privilege(%s, %s, %s)", (role, rel, priv))[0][0]
    }
    fns = {
        name
        for name, oid in functions(cloud)
        if cloud.sql("select has_function_privilege(%s, %s::oid, 'EXECUTE')", (role, oid))[0][0]
    }
    return tables, fns


def test_anon_holds_nothing(cloud: Cloud) -> None:
    assert held(cloud, "anon") == (set(), set())
    assert cloud.sql("select has_schema_privilege('anon', 'app', 'USAGE')") == [(False,)]


def test_the_signed_in_role_holds_exactly_what_the_api_needs(cloud: Cloud) -> None:
    tables, fns = held(cloud, "authenticated")
    assert tables == AUTHENTICATED_TABLES
    assert fns == AUTHENTICATED_FUNCTIONS
    # column privilege: a member's role may change (by owners, per row-level security), nothing else of theirs
    assert cloud.sql(
        "select has_column_privilege('authenticated', 'public.site_members', 'role', 'UPDATE')"
    ) == [(True,)]
    assert cloud.sql(
        "select has_column_privilege('authenticated', 'public.site_members', 'site_id', 'UPDATE')"
    ) == [(False,)]


def test_every_table_has_row_level_security(cloud: Cloud) -> None:
    open_tables = cloud.sql(
        "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        "where n.nspname in ('public', 'app') and c.relkind = 'r' and not c.relrowsecurity"
    )
    assert open_tables == []
    views = cloud.sql(
        "select c.relname, c.reloptions from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        "where n.nspname = 'public' and c.relkind = 'v'"
    )
    assert views and all("security_invoker=true" in (opts or []) for _, opts in views)
