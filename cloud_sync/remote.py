"""The cloud behind a small Protocol: ``RemoteStore``, and its supabase-py implementation ``SupabaseRemote``.

Calls are blocking (supabase-py's sync client); the worker runs them in a thread. Every failure becomes one of the
``cloud_sync.errors`` classes, decided by the HTTP status (read with an httpx response hook, since supabase-py's
``APIError`` does not carry it) and the PostgREST error code: 401 -> ``TokenRefused``; a refusal whose details
say ``device_revoked`` (the server checks the device row on every request) -> ``DeviceRevoked``; 408, 429, 5xx,
network errors and anything unrecognised -> ``RemoteUnavailable`` (retry: never drop); any other 4xx ->
``RequestRejected``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import httpx
import jwt

from cloud_sync.errors import (
    CredentialsRefused,
    DeviceRevoked,
    RemoteUnavailable,
    RequestRejected,
    TokenRefused,
)

T = TypeVar("T")
REVOKED = "device_revoked"  # the `details` of the server's refusal of a revoked device


@dataclass(frozen=True)
class Session:
    """A device's credentials: a short-lived access token and the single-use refresh token that renews it."""

    access_token: str
    refresh_token: str
    expires_at: int
    device_id: str
    site_id: str

    @classmethod
    def from_tokens(cls, access_token: str, refresh_token: str, expires_at: int | None = None) -> Session:
        """A session from the auth service's answer; ``RemoteUnavailable`` when it is not a usable one."""
        try:
            claims = jwt.decode(access_token, options={"verify_signature": False})
            return cls(
                access_token=access_token,
                refresh_token=refresh_token,
                expires_at=int(expires_at if expires_at is not None else claims.get("exp", 0)),
                device_id=str(claims.get("device_id") or ""),
                site_id=str(claims.get("site_id") or ""),
            )
        except (jwt.PyJWTError, ValueError, TypeError, AttributeError) as exc:
            raise RemoteUnavailable(
                f"the cloud answered with credentials that are not valid: {exc}"
            ) from None


@dataclass(frozen=True)
class Rejection:
    id: str
    code: str
    reason: str


@dataclass(frozen=True)
class IngestResult:
    accepted: tuple[str, ...]
    duplicates: tuple[str, ...]
    rejected: tuple[Rejection, ...]


@dataclass(frozen=True)
class Changes:
    """Catalogue and stock rows changed since a cursor, and the cursor to ask with next time."""

    cursor: str
    items: tuple[dict[str, Any], ...]
    locations: tuple[dict[str, Any], ...]
    stock: tuple[dict[str, Any], ...]


class RemoteStore(Protocol):
    def use_token(self, access_token: str) -> None: ...

    def ingest(self, events: list[dict[str, Any]]) -> IngestResult: ...

    def changes_since(self, cursor: str | None) -> Changes: ...

    def refresh(self, refresh_token: str) -> Session: ...

    def provision(self, code: str, device_id: str, name: str) -> Session: ...

    def close(self) -> None: ...


def classify(status: int | None, code: str | None, message: str, details: str | None = None) -> Exception:
    """The ``cloud_sync.errors`` class for a failed call."""
    text = f"{message} ({code})" if code else message
    if details == REVOKED:
        return DeviceRevoked(message)
    if status == 401 or (code or "").startswith("PGRST30"):
        return TokenRefused(f"the cloud refused this unit's access token: {text}")
    if status is not None and 400 <= status < 500 and status not in (408, 429):
        return RequestRejected(
            f"the cloud rejected the request: {text}", code=code or str(status), status=status
        )
    return RemoteUnavailable(f"the cloud is unavailable: {text}")


class SupabaseRemote:
    """``RemoteStore`` over supabase-py: RPCs ``ingest_events``/``changes_since``, Auth refresh, an Edge Function."""

    def __init__(self, url: str, key: str, *, timeout_s: float = 30.0) -> None:
        from supabase import create_client
        from supabase.lib.client_options import SyncClientOptions

        self._local = threading.local()
        self._http = httpx.Client(
            timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 5.0)),
            event_hooks={"response": [self._note_status]},
        )
        options = SyncClientOptions(
            auto_refresh_token=False,
            persist_session=False,
            postgrest_client_retry=False,
            httpx_client=self._http,
        )
        self._client = create_client(url, key, options)

    def _note_status(self, response: httpx.Response) -> None:
        self._local.status = response.status_code

    def _call(self, fn: Callable[[], T]) -> T:
        from postgrest.exceptions import APIError
        from supabase_auth.errors import AuthApiError, AuthError, AuthRetryableError
        from supabase_functions.errors import FunctionsHttpError, FunctionsRelayError

        self._local.status = None
        try:
            return fn()
        except APIError as exc:
            details = exc.details if isinstance(exc.details, str) else None
            raise classify(self._local.status, exc.code, exc.message or "no message", details) from None
        except httpx.HTTPError as exc:
            raise RemoteUnavailable(f"the cloud cannot be reached: {type(exc).__name__}: {exc}") from None
        except AuthRetryableError as exc:
            raise RemoteUnavailable(f"the cloud's auth service is unavailable: {exc.message}") from None
        except AuthApiError as exc:
            if exc.status >= 500 or exc.status in (408, 429):
                raise RemoteUnavailable(f"the cloud's auth service failed: {exc.message}") from None
            if "revoked" in (exc.message or ""):  # the access-token hook's refusal
                raise DeviceRevoked(exc.message) from None
            raise CredentialsRefused(
                f"the cloud refused this unit's credentials: {exc.message}",
                hint="provision the unit again with a new code",
            ) from None
        except AuthError as exc:
            raise RemoteUnavailable(f"the cloud's auth service failed: {exc.message}") from None
        except ValueError as exc:  # a 200 whose body is not the JSON asked for (a proxy's HTML page)
            raise RemoteUnavailable(f"the cloud answered with something that is not JSON: {exc}") from None
        except (FunctionsHttpError, FunctionsRelayError) as exc:
            status = self._local.status or exc.status
            if isinstance(exc, FunctionsHttpError) and 400 <= status < 500 and status not in (408, 429):
                raise CredentialsRefused(f"the provisioning code was refused: {exc.message}") from None
            raise RemoteUnavailable(f"the provisioning service failed: {exc.message}") from None

    def use_token(self, access_token: str) -> None:
        self._client.postgrest.auth(access_token)

    def ingest(self, events: list[dict[str, Any]]) -> IngestResult:
        data = self._call(lambda: self._client.rpc("ingest_events", {"events": events}).execute().data)
        if not isinstance(data, dict):
            raise RemoteUnavailable(f"ingest_events answered {type(data).__name__}, not an object")
        return IngestResult(
            accepted=tuple(str(i) for i in data.get("accepted") or ()),
            duplicates=tuple(str(i) for i in data.get("duplicates") or ()),
            rejected=tuple(
                Rejection(str(r.get("id")), str(r.get("code") or ""), str(r.get("reason") or "rejected"))
                for r in data.get("rejected") or ()
            ),
        )

    def changes_since(self, cursor: str | None) -> Changes:
        data = self._call(lambda: self._client.rpc("changes_since", {"since_cursor": cursor}).execute().data)
        if not isinstance(data, dict) or not data.get("cursor"):
            raise RemoteUnavailable("changes_since answered without a cursor")
        return Changes(
            cursor=str(data["cursor"]),
            items=tuple(data.get("items") or ()),
            locations=tuple(data.get("locations") or ()),
            stock=tuple(data.get("stock") or ()),
        )

    def refresh(self, refresh_token: str) -> Session:
        answer = self._call(lambda: self._client.auth.refresh_session(refresh_token))
        if answer.session is None:
            raise RemoteUnavailable("the auth service answered without a session")
        s = answer.session
        return Session.from_tokens(s.access_token, s.refresh_token, s.expires_at)

    def provision(self, code: str, device_id: str, name: str) -> Session:
        body = {"code": code, "device_id": device_id, "name": name}
        data = self._call(
            lambda: self._client.functions.invoke("provision-device", {"body": body, "responseType": "json"})
        )
        if not isinstance(data, dict) or "access_token" not in data or "refresh_token" not in data:
            raise RemoteUnavailable("the provisioning service answered without credentials")
        return Session.from_tokens(
            str(data["access_token"]), str(data["refresh_token"]), data.get("expires_at")
        )

    def close(self) -> None:
        self._http.close()
