"""One-time codes: provisioning codes (through the real provision-device function) and invite codes are single
use, expire, are stored hashed, and guessing them is limited per caller."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from postgrest.exceptions import APIError

from cloud_sync.errors import CredentialsRefused, RemoteUnavailable
from cloud_sync.identity import provision
from device.inventory.store import Store
from tests.cloud_sync.helpers import Caller, Cloud, rows, session_of

WRONG = "AAAA-BBBB-CCCC-DDDD-EEEE"


def invite(cloud: Cloud, site: str = "cafe-1", role: str = "staff", valid: str = "7 days") -> str:
    cloud.add_site(site)
    return str(cloud.sql("select app.create_invite(%s, %s, %s::interval)", (site, role, valid))[0][0])


def accept(api: Caller, code: str) -> tuple[int, dict[str, object]]:
    """Status and answer of an accept_invite call (a refusal is a 4xx whose body says why)."""
    try:
        return 200, rows(api.client.rpc("accept_invite", {"p_code": code}))
    except APIError as exc:
        return api.statuses[-1], {"code": exc.code, "message": exc.message}


def test_codes_are_stored_hashed(cloud: Cloud) -> None:
    code = invite(cloud)
    device_code = cloud.code("cafe-1")
    stored = cloud.sql(
        "select code_hash from app.invites union all select code_hash from app.provisioning_codes"
    )
    assert len(stored) == 2 and all(len(h) == 64 for (h,) in stored)
    dump = repr(cloud.sql("select * from app.invites")) + repr(
        cloud.sql("select * from app.provisioning_codes")
    )
    assert code not in dump and device_code not in dump


def test_an_invite_works_once_and_expires(cloud: Cloud) -> None:
    first, second = cloud.person("a@x.test"), cloud.person("b@x.test")
    code = invite(cloud, role="manager")
    assert accept(first.api, code) == (200, {"site_id": "cafe-1", "role": "manager"})
    status, body = accept(second.api, code)
    assert (status, body["message"]) == (400, "the invite code was already used")
    late = invite(cloud, valid="1 second")
    cloud.sql("update app.invites set expires_at = now() - interval '1 minute'")
    status, body = accept(second.api, late)
    assert (status, body["message"]) == (400, "the invite code has expired")
    assert cloud.sql("select user_id::text, role from site_members") == [(first.user_id, "manager")]


def test_guessing_invites_is_limited_per_person(cloud: Cloud) -> None:
    guesser, bystander = cloud.person("guess@x.test"), cloud.person("fair@x.test")
    code = invite(cloud)
    for n in range(5):
        status, body = accept(guesser.api, f"{WRONG[:-1]}{n}")
        assert (status, body["message"]) == (400, "the invite code is not valid")
    assert accept(guesser.api, code)[0] == 429  # even the right code, until the window passes
    assert cloud.sql("select used_at from app.invites") == [(None,)]  # not spent by the refusal
    assert accept(bystander.api, code) == (200, {"site_id": "cafe-1", "role": "staff"})  # per person


def test_devices_and_anon_cannot_accept_invites(cloud: Cloud, tmp_path: Path) -> None:
    cloud.provisioned_store(tmp_path)
    code = invite(cloud, role="owner")
    for api in (Caller(cloud, session_of(tmp_path).access_token), Caller(cloud, None)):
        assert (
            api.fails(lambda a=api: a.client.rpc("accept_invite", {"p_code": code}).execute())[1] == "42501"
        )
    anonymous = Caller(
        cloud, cloud.api.sign({"role": "authenticated", "sub": str(uuid.uuid4()), "is_anonymous": True})
    )
    assert anonymous.fails(lambda: anonymous.client.rpc("accept_invite", {"p_code": code}).execute()) == (
        403,
        "42501",
    )
    assert cloud.sql("select count(*) from site_members") == [(0,)]


def test_a_provisioning_code_expires(cloud: Cloud, tmp_path: Path) -> None:
    code = cloud.code("cafe-1")
    cloud.sql("update app.provisioning_codes set expires_at = now() - interval '1 second'")
    settings = cloud.settings(tmp_path)
    with Store.open(settings.db_path) as store, pytest.raises(CredentialsRefused, match="expired"):
        provision(settings, code, store=store)
    assert cloud.sql("select count(*) from devices") == [(0,)]
    assert cloud.sql("select count(*) from auth.users") == [(0,)]  # no auth user left behind


def test_guessing_provisioning_codes_is_limited_per_caller(cloud: Cloud, tmp_path: Path) -> None:
    code = cloud.code("cafe-1")
    settings = cloud.settings(tmp_path)
    with Store.open(settings.db_path) as store:
        for _ in range(5):
            with pytest.raises(CredentialsRefused, match="not valid"):
                provision(settings, WRONG, store=store)
        with pytest.raises(RemoteUnavailable, match="too many wrong codes"):
            provision(settings, code, store=store)  # the right code too, from this address, for now
    assert cloud.sql("select used_at from app.provisioning_codes") == [(None,)]
    assert cloud.sql("select count(*) from auth.users") == [(0,)]
    # another caller is not held back (the function passes the caller's address; here straight to the RPC)
    admin = cloud.admin_client()
    answer = admin.rpc(
        "redeem_provisioning_code",
        {"p_code": code, "p_device_id": "unit-2", "p_user_id": str(uuid.uuid4()), "p_caller": "10.9.8.7"},
    ).execute()
    assert answer.data["site_id"] == "cafe-1"
    # once the window has passed, the first caller may try again
    cloud.sql("update app.code_failures set at = at - interval '16 minutes'")
    with Store.open(settings.db_path) as store:
        assert provision(settings, cloud.code("cafe-1"), store=store).site_id == "cafe-1"
