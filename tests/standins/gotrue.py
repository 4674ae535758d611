"""Supabase Auth (GoTrue) for the gateway stand-in: the refresh and password grants, and the admin user API.

Users, refresh tokens and sessions live in an ``auth`` schema on the real database. Every session's access token
gets its claims from the database's ``custom_access_token_hook``, called as ``supabase_auth_admin`` like Supabase
Auth does, which may refuse the session (a revoked device). Refresh tokens are single use: a revoked token whose
child is the active token gets that child back (a client that lost the answer); any other reuse revokes the whole
session.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import uuid
from collections.abc import Callable
from typing import Any

import jwt
import psycopg

from tests.standins.errors import HttpError

AUTH_SCHEMA = """
create schema if not exists auth;
create table if not exists auth.users (
  id uuid primary key, aud text not null default 'authenticated', role text not null default 'authenticated',
  email text unique, encrypted_password text,
  app_metadata jsonb not null default '{}', user_metadata jsonb not null default '{}',
  created_at timestamptz not null default now(), last_sign_in_at timestamptz);
create table if not exists auth.refresh_tokens (
  id bigserial primary key, token text unique not null, user_id uuid not null, session_id uuid not null,
  parent text, revoked boolean not null default false,
  created_at timestamptz not null default now(), updated_at timestamptz not null default now());
"""


def auth_error(status: int, code: str, message: str) -> HttpError:
    return HttpError(status, {"code": code, "message": message}, {"X-Supabase-Api-Version": "2024-01-01"})


def _hash(password: str, salt: bytes) -> str:
    return salt.hex() + "$" + hashlib.pbkdf2_hmac("sha256", password.encode(), salt, 1000).hex()


class AuthService:
    """``/auth/v1`` over a connection pool of the database owner (Supabase Auth's own login)."""

    def __init__(self, pool: Any, secret: str, access_ttl: int, issuer: Callable[[], str]) -> None:
        self.pool = pool
        self.secret = secret
        self.access_ttl = access_ttl
        self.issuer = issuer

    def _tx(self, work: Callable[[psycopg.Connection[Any]], Any]) -> Any:
        conn = self.pool.get()
        try:
            with conn.transaction():
                return work(conn)
        finally:
            self.pool.put(conn)

    def refresh(self, token: str) -> dict[str, Any]:
        def work(conn: psycopg.Connection[Any]) -> dict[str, Any] | None:
            row = conn.execute(
                "select id, user_id, session_id, revoked from auth.refresh_tokens where token = %s for update",
                (token,),
            ).fetchone()
            if row is None:
                raise auth_error(
                    400, "refresh_token_not_found", "Invalid Refresh Token: Refresh Token Not Found"
                )
            token_id, user_id, session_id, revoked = row
            if not revoked:
                conn.execute(
                    "update auth.refresh_tokens set revoked = true, updated_at = now() where id = %s",
                    (token_id,),
                )
                return self._session(conn, user_id, session_id, None, parent=token)
            active = conn.execute(
                "select token, parent from auth.refresh_tokens where session_id = %s and not revoked "
                "order by id desc limit 1",
                (session_id,),
            ).fetchone()
            if active is not None and active[1] == token:
                return self._session(conn, user_id, session_id, active[0])
            conn.execute("update auth.refresh_tokens set revoked = true where session_id = %s", (session_id,))
            return None

        session = self._tx(work)
        if session is None:
            raise auth_error(400, "refresh_token_already_used", "Invalid Refresh Token: Already Used")
        return session  # type: ignore[no-any-return]

    def password(self, email: str, password: str) -> dict[str, Any]:
        def work(conn: psycopg.Connection[Any]) -> dict[str, Any]:
            row = conn.execute(
                "select id, encrypted_password from auth.users where email = %s", (email.lower(),)
            ).fetchone()
            if (
                row is None
                or not row[1]
                or not hmac.compare_digest(_hash(password, bytes.fromhex(row[1].split("$")[0])), row[1])
            ):
                raise auth_error(400, "invalid_credentials", "Invalid login credentials")
            conn.execute("update auth.users set last_sign_in_at = now() where id = %s", (row[0],))
            return self._session(conn, row[0], uuid.uuid4(), None)

        return self._tx(work)  # type: ignore[no-any-return]

    def create_user(self, claims: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        self._require_admin(claims)
        user_id = str(body.get("id") or uuid.uuid4())
        email = str(body.get("email") or "").lower() or None
        password = body.get("password")
        stored = _hash(str(password), secrets.token_bytes(8)) if password else None

        def work(conn: psycopg.Connection[Any]) -> None:
            conn.execute(
                "insert into auth.users (id, email, encrypted_password, app_metadata, user_metadata) "
                "values (%s, %s, %s, %s, %s)",
                (
                    user_id,
                    email,
                    stored,
                    json.dumps(body.get("app_metadata") or {}),
                    json.dumps(body.get("user_metadata") or {}),
                ),
            )

        try:
            self._tx(work)
        except psycopg.errors.UniqueViolation:
            raise auth_error(
                422, "email_exists", "A user with this email address has already been registered"
            ) from None
        return {
            "id": user_id,
            "email": email,
            "aud": "authenticated",
            "role": "authenticated",
            "app_metadata": body.get("app_metadata") or {},
            "user_metadata": body.get("user_metadata") or {},
            "created_at": "2026-01-01T00:00:00Z",
        }

    def delete_user(self, claims: dict[str, Any], user_id: str) -> dict[str, Any]:
        self._require_admin(claims)

        def work(conn: psycopg.Connection[Any]) -> int:
            conn.execute("delete from auth.refresh_tokens where user_id = %s", (user_id,))
            return conn.execute("delete from auth.users where id = %s", (user_id,)).rowcount

        if not self._tx(work):
            raise auth_error(404, "user_not_found", "User not found")
        return {}

    @staticmethod
    def _require_admin(claims: dict[str, Any]) -> None:
        if claims.get("role") != "service_role":
            raise auth_error(403, "not_admin", "User not allowed")

    def _session(
        self,
        conn: psycopg.Connection[Any],
        user_id: Any,
        session_id: Any,
        token: str | None,
        parent: str | None = None,
    ) -> dict[str, Any]:
        if token is None:
            token = secrets.token_urlsafe(24)
            conn.execute(
                "insert into auth.refresh_tokens (token, user_id, session_id, parent) values (%s, %s, %s, %s)",
                (token, user_id, session_id, parent),
            )
        now = int(time.time())
        claims = {
            "aud": "authenticated",
            "exp": now + self.access_ttl,
            "iat": now,
            "iss": f"{self.issuer()}/auth/v1",
            "sub": str(user_id),
            "role": "authenticated",
            "aal": "aal1",
            "session_id": str(session_id),
            "app_metadata": {},
            "user_metadata": {},
            "is_anonymous": False,
        }
        conn.execute("set local role supabase_auth_admin")
        row = conn.execute(
            "select public.custom_access_token_hook(%s::jsonb)",
            (json.dumps({"user_id": str(user_id), "claims": claims, "authentication_method": "password"}),),
        ).fetchone()
        conn.execute("reset role")
        answer = row[0] if row else {}
        if "error" in answer:
            err = answer["error"]
            raise auth_error(int(err.get("http_code", 500)), "unexpected_failure", str(err.get("message")))
        user = {
            "id": str(user_id),
            "aud": "authenticated",
            "role": "authenticated",
            "app_metadata": {},
            "user_metadata": {},
            "created_at": "2026-01-01T00:00:00Z",
        }
        return {
            "access_token": jwt.encode(answer["claims"], self.secret, algorithm="HS256"),
            "token_type": "bearer",
            "expires_in": self.access_ttl,
            "expires_at": now + self.access_ttl,
            "refresh_token": token,
            "user": user,
        }
