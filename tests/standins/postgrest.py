"""A stand-in for the Supabase API gateway over a real PostgreSQL: PostgREST, Supabase Auth, and the Edge Functions.

No PostgREST binary can run here, so this reproduces what PostgREST does for the calls Larder makes, on a real
database with the real migrations, for supabase-py as the client:

- ``/rest/v1``: the ``apikey`` header must be a key signed with the project secret (the gateway's check); the
  ``Authorization: Bearer`` JWT is verified (HS256; ``exp`` with 30 s skew) -> 401 ``PGRST301``/``PGRST303``; no
  bearer means the anon role. Each request runs in one transaction that first does
  ``set_config('search_path', 'public', true)``, ``set_config('role', <role claim>, true)`` and
  ``set_config('request.jwt.claims', <claims>, true)``, so row-level security and grants decide. SQLSTATEs map to
  PostgREST's statuses (23505 -> 409, 42501 -> 403, or 401 for anon, P0001 -> 400, class 08/53 -> 503, most server
  classes -> 500, anything else -> 400) with bodies ``{code, message, details, hint}``. The pre-request function
  named by the ``authenticator`` role's ``pgrst.db_pre_request`` setting runs first; a function that sets the
  ``response.status`` GUC chooses the status (and the transaction still commits). Supported: ``GET /<table>``
  (select, eq/neq/gt/gte/lt/lte/is/in filters, order, limit, offset), ``POST /<table>`` (``columns``,
  ``on_conflict``, ``Prefer: return=..., resolution=...``), ``PATCH /<table>`` and ``DELETE /<table>`` with
  filters, and ``POST /rpc/<fn>`` with named arguments.
- Supabase Auth: ``POST /auth/v1/token?grant_type=refresh_token`` with its single-use refresh-token rotation (a
  revoked token whose child is the active token gets that child back, for a client that lost the answer; any
  other reuse revokes the whole session); ``grant_type=password``; and the admin API's ``POST
  /auth/v1/admin/users`` and ``DELETE /auth/v1/admin/users/<id>`` (service role only). Access tokens get claims
  from the database's ``custom_access_token_hook``, called as ``supabase_auth_admin``, like Supabase Auth does.
  Its tables live in an ``auth`` schema this stand-in creates (like Supabase Auth runs its own migrations).
- ``/functions/v1/<name>``: forwarded to the real Edge Function (``tests.standins.functions``), started with
  ``deno run`` on first use with this gateway's URL and keys in its environment, as Supabase's gateway forwards
  to its Edge Runtime; the client's address goes along in ``x-forwarded-for``.

Faults for tests: ``stop()``/``start()`` take the server away and back on the same port; ``faults.fail_next``
answers 503 without touching the database; ``faults.html_next`` answers 200 with an HTML page (a captive
portal); ``faults.drop_after_commit`` commits a write and then closes the connection without answering (the
client cannot know whether it landed).
"""

from __future__ import annotations

import contextlib
import json
import queue
import re
import secrets
import socket
import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import jwt
import psycopg
from psycopg import sql

from tests.standins.errors import HttpError
from tests.standins.functions import EdgeFunction
from tests.standins.gotrue import AUTH_SCHEMA, AuthService, auth_error

IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
OPS = {"eq": "=", "neq": "<>", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


def pgrst(status: int, code: str, message: str, details: Any = None, hint: Any = None) -> HttpError:
    return HttpError(status, {"code": code, "details": details, "hint": hint, "message": message})


def status_for(sqlstate: str, anonymous: bool) -> int:
    """PostgREST's SQLSTATE -> HTTP status table."""
    exact = {"23503": 409, "23505": 409, "25006": 405, "P0001": 400, "42883": 404, "42P01": 404, "42P17": 500}
    if sqlstate in exact:
        return exact[sqlstate]
    if sqlstate == "42501":
        return 401 if anonymous else 403
    prefix = sqlstate[:2]
    if prefix in {"08", "53"}:
        return 503
    if prefix in {"0L", "0P", "28"}:
        return 403
    if prefix in {"09", "25", "2D", "38", "39", "3B", "40", "54", "55", "57", "58", "F0", "HV", "P0", "XX"}:
        return 500
    return 400


@dataclass
class Faults:
    fail_next: int = 0  # answer this many requests with 503 before touching the database
    drop_after_commit: int = 0  # commit this many writes, then hang up without answering
    html_next: int = 0  # answer this many requests 200 with an HTML page (a captive portal or proxy)
    requests: int = 0


def create_api_roles(conn: psycopg.Connection[Any]) -> None:
    """The roles a Supabase database has before the project's migrations run: the API roles and PostgREST's
    login role, which can only become them."""
    for role, options in (
        ("anon", "nologin noinherit"),
        ("authenticated", "nologin noinherit"),
        ("service_role", "nologin noinherit bypassrls"),
        ("authenticator", "login noinherit"),
    ):
        conn.execute(sql.SQL("create role {} " + options).format(sql.Identifier(role)))
    conn.execute("grant anon, authenticated, service_role to authenticator")


class _Pool:
    """A few reusable connections; a broken one is thrown away."""

    def __init__(self, conninfo: str, size: int = 8) -> None:
        self.conninfo = conninfo
        self._free: queue.LifoQueue[psycopg.Connection[Any]] = queue.LifoQueue()
        self._size = size

    def get(self) -> psycopg.Connection[Any]:
        try:
            return self._free.get_nowait()
        except queue.Empty:
            return psycopg.connect(self.conninfo)

    def put(self, conn: psycopg.Connection[Any]) -> None:
        if conn.closed or conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            conn.close()
        elif self._free.qsize() < self._size:
            self._free.put(conn)
        else:
            conn.close()

    def close(self) -> None:
        while not self._free.empty():
            self._free.get_nowait().close()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr: tuple[str, int], app: SupabaseStandIn) -> None:
        self.app = app
        self.open_sockets: set[socket.socket] = set()
        self.lock = threading.Lock()
        super().__init__(addr, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.lock:
            self.open_sockets.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.lock:
            self.open_sockets.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], OSError):  # clients hanging up is part of the game
            super().handle_error(request, client_address)

    def hang_up_all(self) -> None:
        with self.lock:
            for sock in list(self.open_sockets):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.server.app.serve(self)

    def do_POST(self) -> None:
        self.server.app.serve(self)

    def do_PATCH(self) -> None:
        self.server.app.serve(self)

    def do_DELETE(self) -> None:
        self.server.app.serve(self)


class _Drop(Exception):
    """Hang up without answering."""


class SupabaseStandIn:
    """``start()`` it, point supabase-py at ``url`` with ``anon_key``; ``close()`` at the end."""

    def __init__(
        self,
        rest_conninfo: str,
        admin_conninfo: str,
        *,
        jwt_secret: str | None = None,
        access_ttl: int = 3600,
    ) -> None:
        self.secret = jwt_secret or secrets.token_hex(32)
        self.access_ttl = access_ttl
        self.skew_s = 30
        self.rest = _Pool(rest_conninfo)
        self.admin = _Pool(admin_conninfo, size=2)
        self.faults = Faults()
        self.port = 0
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.anon_key = self.sign({"role": "anon", "iss": "supabase"}, ttl=10 * 365 * 86400)
        self.service_key = self.sign({"role": "service_role", "iss": "supabase"}, ttl=10 * 365 * 86400)
        conn = self.admin.get()
        with conn.transaction():
            conn.execute(AUTH_SCHEMA)
            setting = conn.execute(
                "select s from pg_db_role_setting r, unnest(r.setconfig) s "
                "where r.setrole = (select oid from pg_roles where rolname = 'authenticator') "
                "and s like 'pgrst.db_pre_request=%'"
            ).fetchone()
        self.admin.put(conn)
        self.pre_request = setting[0].split("=", 1)[1] if setting else None
        self.auth = AuthService(self.admin, self.secret, access_ttl, lambda: self.url)
        self.functions: dict[str, EdgeFunction] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def sign(self, claims: dict[str, Any], ttl: int | None = None) -> str:
        now = int(time.time())
        body = {"iat": now, "exp": now + (self.access_ttl if ttl is None else ttl), **claims}
        return jwt.encode(body, self.secret, algorithm="HS256")

    def start(self) -> SupabaseStandIn:
        self._server = _Server(("127.0.0.1", self.port), self)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="supabase-standin", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Take the server away: stop listening and hang up every open connection."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
            server.hang_up_all()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def close(self) -> None:
        self.stop()
        for function in self.functions.values():
            function.stop()
        self.rest.close()
        self.admin.close()

    # --- request handling ---
    def serve(self, h: _Handler) -> None:
        self.faults.requests += 1
        try:
            length = int(h.headers.get("Content-Length") or 0)
            raw = h.rfile.read(length) if length else b""
            if self.faults.fail_next > 0:
                self.faults.fail_next -= 1
                raise HttpError(503, {"message": "Service Unavailable"})
            if self.faults.html_next > 0:
                self.faults.html_next -= 1
                page = b"<html><body>Please log in to the guest Wi-Fi</body></html>"
                h.send_response(200)
                h.send_header("Content-Type", "text/html")
                h.send_header("Content-Length", str(len(page)))
                h.end_headers()
                h.wfile.write(page)
                return
            status, body, headers = self.route(h.command, h.path, h.headers, raw, h.client_address[0])
        except _Drop:
            h.close_connection = True
            h.connection.shutdown(socket.SHUT_RDWR)
            return
        except HttpError as err:
            status, body, headers = err.status, err.body, dict(err.headers)
            if "code" in err.body and isinstance(err.body["code"], str):
                headers.setdefault("Proxy-Status", f"PostgREST; error={err.body['code']}")
        data = b"" if body is None else json.dumps(body).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json; charset=utf-8")
        h.send_header("Content-Length", str(len(data)))
        for key, value in headers.items():
            h.send_header(key, value)
        h.end_headers()
        h.wfile.write(data)

    def route(
        self, method: str, target: str, headers: Any, raw: bytes, client: str = "127.0.0.1"
    ) -> tuple[int, Any, dict[str, str]]:
        parts = urlsplit(target)
        params = parse_qsl(parts.query, keep_blank_values=True)
        path = parts.path
        if path.startswith("/functions/v1/"):
            return self._function(method, path[len("/functions/v1/") :], headers, raw, client)
        self._check_apikey(headers)
        payload = json.loads(raw) if raw else None
        if path.startswith("/auth/v1/"):
            return 200, self._auth(method, path[len("/auth/v1/") :], dict(params), headers, payload or {}), {}
        if path.startswith("/rest/v1/"):
            claims = self._claims(headers)
            return self._rest(method, path[len("/rest/v1/") :], params, headers, payload, claims)
        raise HttpError(404, {"message": "no Route matched with those values"})

    def _auth(self, method: str, path: str, params: dict[str, str], headers: Any, body: Any) -> Any:
        if path == "token" and method == "POST":
            grant = params.get("grant_type")
            if grant == "refresh_token":
                return self.auth.refresh(str(body.get("refresh_token") or ""))
            if grant == "password":
                return self.auth.password(str(body.get("email") or ""), str(body.get("password") or ""))
            raise auth_error(400, "validation_failed", f"unsupported grant_type {grant}")
        if path == "admin/users" and method == "POST":
            return self.auth.create_user(self._claims(headers), body)
        if path.startswith("admin/users/") and method == "DELETE":
            return self.auth.delete_user(self._claims(headers), path.rsplit("/", 1)[1])
        raise HttpError(404, {"message": "no Route matched with those values"})

    def _function(
        self, method: str, name: str, headers: Any, raw: bytes, client: str
    ) -> tuple[int, Any, dict[str, str]]:
        """Forward to the Edge Function's own process, as the gateway forwards to the Edge Runtime."""
        name = name.strip("/")
        if name not in self.functions:
            self.functions[name] = EdgeFunction(
                name,
                {
                    "SUPABASE_URL": self.url,
                    "SUPABASE_ANON_KEY": self.anon_key,
                    "SUPABASE_SERVICE_ROLE_KEY": self.service_key,
                },
            )
        forwarded = {
            k: v for k, v in headers.items() if k.lower() in ("content-type", "authorization", "apikey")
        }
        forwarded["x-forwarded-for"] = client
        answer = httpx.request(method, self.functions[name].url, headers=forwarded, content=raw, timeout=30)
        try:
            body = answer.json()
        except ValueError:
            body = {"message": answer.text}
        return answer.status_code, body, {}

    def _check_apikey(self, headers: Any) -> None:
        key = headers.get("apikey")
        if not key:
            raise HttpError(401, {"message": "No API key found in request"})
        try:
            jwt.decode(key, self.secret, algorithms=["HS256"])
        except jwt.PyJWTError:
            raise HttpError(401, {"message": "Invalid API key"}) from None

    def _claims(self, headers: Any) -> dict[str, Any]:
        auth = headers.get("Authorization") or ""
        if not auth.lower().startswith("bearer "):
            return {"role": "anon"}
        token = auth[7:].strip()
        try:
            claims: dict[str, Any] = jwt.decode(
                token, self.secret, algorithms=["HS256"], options={"verify_exp": False, "verify_aud": False}
            )
        except jwt.InvalidSignatureError:
            raise self._jwt_error("PGRST301", "JWSError JWSInvalidSignature") from None
        except jwt.PyJWTError as exc:
            raise self._jwt_error("PGRST301", f"JWSError {exc}") from None
        exp = claims.get("exp")
        if isinstance(exp, int | float) and time.time() - self.skew_s > exp:
            raise self._jwt_error("PGRST303", "JWT expired")
        return claims

    @staticmethod
    def _jwt_error(code: str, message: str) -> HttpError:
        err = pgrst(401, code, message)
        err.headers["WWW-Authenticate"] = f'Bearer error="invalid_token", error_description="{message}"'
        return err

    def _rest(
        self, method: str, name: str, params: list[tuple[str, str]], headers: Any, payload: Any, claims: dict
    ) -> tuple[int, Any, dict[str, str]]:
        role = str(claims.get("role") or "anon")
        conn = self.rest.get()
        try:
            with conn.transaction():
                conn.execute(
                    "select set_config('search_path', 'public', true), set_config('role', %s, true), "
                    "set_config('request.jwt.claims', %s, true), set_config('request.method', %s, true), "
                    "set_config('request.path', %s, true)",
                    (role, json.dumps(claims), method, "/" + name),
                )
                # PostgREST finds the function in its schema cache before the request's transaction does anything
                target = self._resolve(conn, name[4:], payload or {}) if name.startswith("rpc/") else None
                if self.pre_request:
                    conn.execute(sql.SQL("select {}()").format(sql.Identifier(*self.pre_request.split("."))))
                result: tuple[int, Any, dict[str, str]]
                if target is not None and method == "POST":
                    result = 200, self._rpc(conn, name[4:], payload or {}, target), {}
                elif method == "GET":
                    result = 200, self._select(conn, name, params), {"Content-Range": "*/*"}
                elif method == "POST":
                    result = 201, self._insert(conn, name, params, headers, payload), {}
                elif method in ("PATCH", "DELETE"):
                    result = 200, self._change(conn, method, name, params, payload), {}
                else:
                    raise pgrst(405, "PGRST117", f"Unsupported HTTP method: {method}")
                status = conn.execute("select current_setting('response.status', true)").fetchone()
                if status and status[0]:
                    result = int(status[0]), result[1], result[2]
            if method == "POST" and self.faults.drop_after_commit > 0:
                self.faults.drop_after_commit -= 1
                raise _Drop
            return result
        except psycopg.Error as exc:
            if conn.closed or exc.sqlstate is None:
                raise HttpError(503, {"code": "PGRST000", "message": "Database client error"}) from None
            raise self._from_pg(exc, anonymous=role == "anon") from None
        finally:
            self.rest.put(conn)

    @staticmethod
    def _from_pg(exc: psycopg.Error, anonymous: bool) -> HttpError:
        state = exc.sqlstate or "XX000"
        diag = exc.diag
        if state == "42P01":
            return pgrst(404, "PGRST205", "Could not find the table in the schema cache", None, None)
        return pgrst(
            status_for(state, anonymous),
            state,
            diag.message_primary or str(exc),
            diag.message_detail,
            diag.message_hint,
        )

    def _resolve(
        self, conn: psycopg.Connection[Any], fn: str, args: dict[str, Any]
    ) -> tuple[list[str], list[str], bool]:
        """The input argument names and types of ``public.<fn>`` taking ``args``, and whether it returns a set."""
        rows = conn.execute(
            # input arguments only (a RETURNS TABLE function lists its columns among proargnames too)
            "select array(select a.name from unnest(p.proargnames, coalesce(p.proargmodes::text[], "
            "array_fill('i'::text, array[cardinality(p.proargnames)]))) a(name, mode) "
            "where a.mode in ('i', 'b', 'v')), "
            "array(select format_type(t, null) from unnest(p.proargtypes) t), "
            "p.pronargdefaults, p.proretset from pg_proc p join pg_namespace n on n.oid = p.pronamespace "
            "where n.nspname = 'public' and p.proname = %s",
            (fn,),
        ).fetchall()
        matches = [
            (list(names or []), types, retset)
            for names, types, defaults, retset in rows
            if set(args) <= set(names or [])
            and set((names or [])[: len(names or []) - defaults]) <= set(args)
        ]
        if not matches:
            raise pgrst(
                404,
                "PGRST202",
                f"Could not find the function public.{fn}({', '.join(sorted(args))}) in the schema cache",
            )
        return matches[0]

    def _rpc(
        self,
        conn: psycopg.Connection[Any],
        fn: str,
        args: dict[str, Any],
        target: tuple[list[str], list[str], bool],
    ) -> Any:
        names, types, retset = target
        call_args = []
        values = []
        for key, value in args.items():
            kind = types[names.index(key)]
            call_args.append(sql.SQL("{} => %s::{}").format(sql.Identifier(key), sql.SQL(kind)))
            values.append(
                json.dumps(value)
                if kind in {"json", "jsonb"} or isinstance(value, dict | list)
                else (None if value is None else str(value))
            )
        call = sql.SQL("{}.{}({})").format(
            sql.Identifier("public"), sql.Identifier(fn), sql.SQL(", ").join(call_args)
        )
        if retset:
            query = sql.SQL("select coalesce(json_agg(_r), '[]')::text from {} _r").format(call)
        else:
            query = sql.SQL("select to_json({})::text").format(call)
        row = conn.execute(query, values).fetchone()
        return json.loads(row[0]) if row and row[0] is not None else None

    @staticmethod
    def _ident(name: str) -> sql.Identifier:
        if not IDENT.match(name):
            raise pgrst(400, "PGRST100", f'"failed to parse" {name}')
        return sql.Identifier(name)

    def _select(self, conn: psycopg.Connection[Any], table: str, params: list[tuple[str, str]]) -> Any:
        cols: sql.Composable = sql.SQL("*")
        where: list[sql.Composable] = []
        values: list[Any] = []
        order: list[sql.Composable] = []
        limit = offset = None
        for key, value in params:
            if key == "select":
                if value.strip() not in {"", "*"}:
                    cols = sql.SQL(", ").join(self._ident(c.strip()) for c in value.split(","))
            elif key == "order":
                for term in value.split(","):
                    name, *mods = term.split(".")
                    direction = "desc" if "desc" in mods else "asc"
                    nulls = (
                        " nulls first"
                        if "nullsfirst" in mods
                        else " nulls last"
                        if "nullslast" in mods
                        else ""
                    )
                    order.append(sql.SQL("{} " + direction + nulls).format(self._ident(name)))
            elif key == "limit":
                limit = int(value)
            elif key == "offset":
                offset = int(value)
            else:
                self._filter(key, value, where, values)
        query = sql.SQL("select {} from {}").format(cols, self._ident(table))
        if where:
            query += sql.SQL(" where ") + sql.SQL(" and ").join(where)
        if order:
            query += sql.SQL(" order by ") + sql.SQL(", ").join(order)
        if limit is not None:
            query += sql.SQL(" limit %s")
            values.append(limit)
        if offset is not None:
            query += sql.SQL(" offset %s")
            values.append(offset)
        wrapped = sql.SQL("select coalesce(json_agg(_t), '[]')::text from ({}) _t").format(query)
        row = conn.execute(wrapped, values).fetchone()
        return json.loads(row[0]) if row else []

    def _filter(
        self, key: str, value: str, where: list[sql.Composable], values: list[Any], alias: str | None = None
    ) -> None:
        op, _, operand = value.partition(".")
        col: sql.Composable = self._ident(key)
        if alias:
            col = sql.SQL("{}.{}").format(sql.Identifier(alias), col)
        if op in OPS:
            where.append(sql.SQL("{} " + OPS[op] + " %s").format(col))
            values.append(operand)
        elif op == "is" and operand in {"null", "true", "false"}:
            where.append(sql.SQL("{} is " + operand).format(col))
        elif op == "in" and operand.startswith("(") and operand.endswith(")"):
            items = [v.strip().strip('"') for v in operand[1:-1].split(",") if v.strip()]
            where.append(sql.SQL("{}::text = any(%s)").format(col))
            values.append(items)
        else:
            raise pgrst(400, "PGRST100", f'"failed to parse filter ({value})"')

    def _change(
        self,
        conn: psycopg.Connection[Any],
        method: str,
        table: str,
        params: list[tuple[str, str]],
        payload: Any,
    ) -> Any:
        """PATCH (update the filtered rows with the body's columns) or DELETE; answers the rows changed."""
        where: list[sql.Composable] = []
        values: list[Any] = []
        for key, value in params:
            if key not in ("select", "columns"):
                self._filter(key, value, where, values, alias="_t")
        if method == "PATCH":
            if not isinstance(payload, dict) or not payload:
                raise pgrst(400, "PGRST102", "Empty or invalid json")
            query = sql.SQL("update {t} as _t set {s} from json_populate_record(null::{t}, %s) _b").format(
                t=self._ident(table),
                s=sql.SQL(", ").join(sql.SQL("{c} = _b.{c}").format(c=self._ident(c)) for c in payload),
            )
            values.insert(0, json.dumps(payload))
        else:
            query = sql.SQL("delete from {} as _t").format(self._ident(table))
        if where:
            query += sql.SQL(" where ") + sql.SQL(" and ").join(where)
        wrapped = sql.SQL(
            "with _ch as ({} returning _t.*) select coalesce(json_agg(_ch), '[]')::text from _ch"
        )
        row = conn.execute(wrapped.format(query), values).fetchone()
        return json.loads(row[0]) if row else []

    def _insert(
        self,
        conn: psycopg.Connection[Any],
        table: str,
        params: list[tuple[str, str]],
        headers: Any,
        payload: Any,
    ) -> Any:
        rows = payload if isinstance(payload, list) else [payload]
        query_params = dict(params)
        if "columns" in query_params:
            columns = [c.strip().strip('"') for c in query_params["columns"].split(",")]
        else:
            columns = sorted({k for row in rows for k in row})
        prefer = {p.strip() for p in (headers.get("Prefer") or "").split(",")}
        target = self._ident(table)
        col_list = sql.SQL(", ").join(self._ident(c) for c in columns)
        query = sql.SQL(
            "insert into {t} ({c}) select {c} from json_populate_recordset(null::{t}, %s)"
        ).format(t=target, c=col_list)
        if "resolution=ignore-duplicates" in prefer or "resolution=merge-duplicates" in prefer:
            keys = query_params.get("on_conflict") or self._primary_key(conn, table)
            conflict = sql.SQL(", ").join(self._ident(k.strip()) for k in keys.split(","))
            if "resolution=ignore-duplicates" in prefer:
                query += sql.SQL(" on conflict ({}) do nothing").format(conflict)
            else:
                updates = sql.SQL(", ").join(
                    sql.SQL("{c} = excluded.{c}").format(c=self._ident(c)) for c in columns
                )
                query += sql.SQL(" on conflict ({}) do update set {}").format(conflict, updates)
        if "return=representation" in prefer:
            wrapped = sql.SQL(
                "with _ins as ({} returning *) select coalesce(json_agg(_ins), '[]')::text from _ins"
            )
            row = conn.execute(wrapped.format(query), (json.dumps(rows),)).fetchone()
            return json.loads(row[0]) if row else []
        conn.execute(query, (json.dumps(rows),))
        return None

    @staticmethod
    def _primary_key(conn: psycopg.Connection[Any], table: str) -> str:
        row = conn.execute(
            "select string_agg(a.attname, ',') from pg_index i join pg_attribute a on a.attrelid = i.indrelid "
            "and a.attnum = any(i.indkey) where i.indrelid = to_regclass(%s) and i.indisprimary",
            (f"public.{table}",),
        ).fetchone()
        return str(row[0]) if row and row[0] else "id"
