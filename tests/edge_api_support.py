"""Helpers for the edge_api tests: committed test worlds, apps built on the test database, a JWKS server.

edge_api talks to the database over its own pool, so what a test wants it to see
must be committed; `committed_world` commits and removes it again afterwards.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import psycopg
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi import FastAPI

from edge_api.main import create_app
from edge_api.settings import Settings
from tests.support import DEFAULT_JWT_SECRET, User, create_user


def app_for(db_url: str, **overrides: Any) -> FastAPI:
    values: dict[str, Any] = {
        "database_url": db_url,
        "supabase_jwt_secret": DEFAULT_JWT_SECRET,
        "metrics_cache_seconds": 0,
        "dashboard_cache_seconds": 0,
    }
    settings = Settings(_env_file=None, **(values | overrides))  # type: ignore[call-arg]
    return create_app(settings)


@dataclass
class World:
    """Committed: workspace A (owners, staff, invitations in known states), workspace B, an outsider."""

    workspace_a: uuid.UUID
    workspace_b: uuid.UUID
    owner: User
    co_owner: User
    staff: list[User]
    owner_b: User
    outsider: User
    timezone: str
    pending_invitations: int = 0
    users: list[User] = field(default_factory=list)


def _invite(conn: psycopg.Connection, workspace_id: uuid.UUID, state: str) -> None:
    expires = "now() - interval '1 hour'" if state == "expired" else "now() + interval '7 days'"
    conn.execute(
        "insert into public.invitations (workspace_id, email, role, token_hash, expires_at, accepted_at,"
        " revoked_at) values (%s, %s, 'staff', private.token_hash(%s), " + expires + ", %s, %s)",
        [
            workspace_id,
            f"{state}-{uuid.uuid4().hex[:8]}@example.test",
            secrets.token_urlsafe(32),
            "now()" if state == "accepted" else None,
            "now()" if state == "revoked" else None,
        ],
    )


@contextmanager
def committed_world(db_url: str, timezone: str = "Pacific/Auckland", staff_count: int = 3) -> Iterator[World]:
    with psycopg.connect(db_url) as conn:
        users = [create_user(conn) for _ in range(4 + staff_count)]
        owner, co_owner, owner_b, outsider, *staff = users
        ids = []
        for ws_owner in (owner, owner_b):
            ids.append(
                conn.execute(
                    "insert into public.workspaces (name, slug, timezone, created_by)"
                    " values (%s, %s, %s, %s) returning id",
                    [f"Clinic {ws_owner.email[:10]}", f"edge-{uuid.uuid4().hex[:12]}", timezone, ws_owner.id],
                ).fetchone()[0]
            )
        workspace_a, workspace_b = ids
        memberships = [
            (workspace_a, owner, "owner"),
            (workspace_a, co_owner, "owner"),
            (workspace_b, owner_b, "owner"),
        ]
        memberships += [(workspace_a, member, "staff") for member in staff]
        for workspace_id, member, role in memberships:
            conn.execute(
                "insert into public.workspace_members (workspace_id, user_id, role) values (%s, %s, %s)",
                [workspace_id, member.id, role],
            )
        states = ["pending", "pending", "expired", "revoked", "accepted"]
        for state in states:
            _invite(conn, workspace_a, state)
        for _ in range(3):  # other workspace's invitations never count for A
            _invite(conn, workspace_b, "pending")
        conn.commit()
    world = World(
        workspace_a=workspace_a,
        workspace_b=workspace_b,
        owner=owner,
        co_owner=co_owner,
        staff=staff,
        owner_b=owner_b,
        outsider=outsider,
        timezone=timezone,
        pending_invitations=states.count("pending"),
        users=users,
    )
    try:
        yield world
    finally:
        with psycopg.connect(db_url) as conn:
            conn.execute("delete from public.workspaces where id = any(%s)", [[workspace_a, workspace_b]])
            conn.execute("delete from auth.users where id = any(%s)", [[user.id for user in users]])


def user_token(user: User, secret: str = DEFAULT_JWT_SECRET, **changes: Any) -> str:
    claims = user.claims() | changes
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, secret, algorithm="HS256")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- a JWKS endpoint as Supabase serves it (/auth/v1/.well-known/jwks.json) -----------------------


@dataclass
class SigningKey:
    kid: str
    algorithm: str
    private_key: Any

    def public_jwk(self) -> dict[str, Any]:
        algorithm = jwt.get_algorithm_by_name(self.algorithm)
        jwk = algorithm.to_jwk(self.private_key.public_key(), as_dict=True)
        return jwk | {"kid": self.kid, "alg": self.algorithm, "use": "sig"}

    def sign(self, claims: dict[str, Any], kid: str | None = None) -> str:
        return jwt.encode(
            claims, self.private_key, algorithm=self.algorithm, headers={"kid": kid or self.kid}
        )


def new_key(algorithm: str) -> SigningKey:
    if algorithm == "ES256":
        private_key: Any = ec.generate_private_key(ec.SECP256R1())
    else:
        private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return SigningKey(f"{algorithm.lower()}-{uuid.uuid4().hex[:8]}", algorithm, private_key)


class JwksServer:
    """Serves `keys` as a JWKS on a local port; counts fetches; `failing` answers 500."""

    def __init__(self) -> None:
        self.keys: list[SigningKey] = []
        self.fetches = 0
        self.failing = False
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.fetches += 1
                if server.failing:
                    self.send_error(500)
                    return
                body = json.dumps({"keys": [key.public_jwk() for key in server.keys]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: Any) -> None:
                pass

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._http.server_address[1]}/auth/v1/.well-known/jwks.json"
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)

    def __enter__(self) -> JwksServer:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._http.shutdown()
        self._http.server_close()


def now() -> int:
    return int(time.time())
