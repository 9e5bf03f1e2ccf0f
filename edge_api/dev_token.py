"""Mint a Supabase-shaped access token for an existing user, for local development only.

    python -m edge_api.dev_token --email owner@demo.careops.test
    python -m edge_api.dev_token --email owner@demo.careops.test --curl http://127.0.0.1:8000

Works in any shell of a checkout: without DATABASE_URL it reads the local dev database
(127.0.0.1:DB_PORT, default 54322, as `make dev`), without SUPABASE_JWT_SECRET it signs with
the local `supabase start` secret; both are also read from .env. Tokens last
DEV_TOKEN_TTL_SECONDS (default 12 hours) or --ttl. Refuses when ENVIRONMENT=production or
when SUPABASE_JWT_SECRET is anything but that well-known secret: a token it mints
must never be accepted by a real project.
"""

import argparse
import shlex
import sys
import time
import uuid
from typing import Any

import jwt
import psycopg
from pydantic import Field, PostgresDsn, SecretStr, ValidationError

from edge_api.settings import LOCAL_JWT_SECRET, Settings

LOCAL_ISSUER = "http://127.0.0.1:54321/auth/v1"
DEFAULT_TTL_SECONDS = 12 * 3600  # a working day


class DevTokenSettings(Settings):
    """edge_api's settings with the local stack's defaults for what `make dev` exports."""

    db_port: int = Field(default=54322, ge=1, le=65535)
    database_url: PostgresDsn | None = None  # type: ignore[assignment] (defaulted below)
    supabase_jwt_secret: SecretStr | None = SecretStr(LOCAL_JWT_SECRET)
    dev_token_ttl_seconds: int = Field(default=DEFAULT_TTL_SECONDS, ge=60)

    def local_database_url(self) -> str:
        if self.database_url is not None:
            return str(self.database_url)
        return f"postgresql://postgres:postgres@127.0.0.1:{self.db_port}/postgres"


class Refused(Exception):  # noqa: N818 (a refusal, not a failure)
    pass


def check_allowed(settings: Settings) -> str:
    """The secret to sign with, or Refused when this looks like anything but a local setup."""
    if settings.environment == "production":
        raise Refused("ENVIRONMENT=production: dev tokens are for local development only.")
    secret = settings.supabase_jwt_secret.get_secret_value() if settings.supabase_jwt_secret else None
    if secret != LOCAL_JWT_SECRET:
        raise Refused(
            "SUPABASE_JWT_SECRET is not the local development secret: refusing to mint a token "
            "that a real project would accept."
        )
    return secret


def claims_for(user: dict[str, Any], ttl_seconds: int, now: int | None = None) -> dict[str, Any]:
    """The claims GoTrue puts in a password sign-in's access token."""
    now = int(time.time()) if now is None else now
    return {
        "iss": LOCAL_ISSUER,
        "sub": str(user["id"]),
        "aud": "authenticated",
        "exp": now + ttl_seconds,
        "iat": now,
        "email": user["email"],
        "phone": "",
        "app_metadata": user["app_metadata"] or {"provider": "email", "providers": ["email"]},
        "user_metadata": user["user_metadata"] or {},
        "role": "authenticated",
        "aal": "aal1",
        "amr": [{"method": "password", "timestamp": now}],
        "session_id": str(uuid.uuid4()),
        "is_anonymous": False,
    }


def find_user(conn: psycopg.Connection, email: str) -> dict[str, Any] | None:
    row = conn.execute(
        "select id, email, raw_app_meta_data, raw_user_meta_data from auth.users"
        " where lower(email) = lower(%s)",
        [email.strip()],
    ).fetchone()
    if row is None:
        return None
    return {"id": row[0], "email": row[1], "app_metadata": row[2], "user_metadata": row[3]}


def member_workspaces(conn: psycopg.Connection, user_id: uuid.UUID) -> list[tuple[uuid.UUID, str, str]]:
    return conn.execute(
        "select w.id, w.name, m.role from public.workspace_members as m"
        " join public.workspaces as w on w.id = m.workspace_id where m.user_id = %s order by w.name",
        [user_id],
    ).fetchall()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m edge_api.dev_token", description=__doc__.split("\n")[0])
    parser.add_argument("--email", required=True, help="an existing user's email (auth.users)")
    parser.add_argument(
        "--ttl",
        type=int,
        help=f"seconds the token is valid (default DEV_TOKEN_TTL_SECONDS or {DEFAULT_TTL_SECONDS})",
    )
    parser.add_argument("--curl", metavar="BASE_URL", help="also print a curl line per workspace of the user")
    args = parser.parse_args(argv)

    try:
        settings = DevTokenSettings()
        secret = check_allowed(settings)
    except (Refused, ValidationError) as exc:
        print(f"dev_token: {exc}", file=sys.stderr)
        return 2
    ttl = args.ttl or settings.dev_token_ttl_seconds
    try:
        conn = psycopg.connect(settings.local_database_url(), connect_timeout=5)
    except psycopg.OperationalError as exc:
        print(f"dev_token: cannot reach the database (is `make dev` running?): {exc}", file=sys.stderr)
        return 1
    with conn:
        user = find_user(conn, args.email)
        if user is None:
            print(f"dev_token: no user with email {args.email!r}", file=sys.stderr)
            return 1
        workspaces = member_workspaces(conn, user["id"]) if args.curl else []
    token = jwt.encode(claims_for(user, ttl), secret, algorithm="HS256")
    print(token)
    for workspace_id, name, role in workspaces:
        url = f"{args.curl.rstrip('/')}/dashboard/stats?workspace_id={workspace_id}"
        print(f"# {name} ({role})")
        print(f"curl -sS -H {shlex.quote('Authorization: Bearer ' + token)} {shlex.quote(url)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
