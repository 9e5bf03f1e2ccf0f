"""python -m edge_api.dev_token: tokens for local users that edge_api accepts, and refusals elsewhere."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import jwt
import pytest
from fastapi.testclient import TestClient

from edge_api import dev_token
from tests.edge_api_support import World, app_for, bearer, committed_world
from tests.support import DEFAULT_JWT_SECRET

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def world(db_url: str) -> Iterator[World]:
    with committed_world(db_url) as committed:
        yield committed


@pytest.fixture
def local_env(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("SUPABASE_JWT_SECRET", DEFAULT_JWT_SECRET)
    monkeypatch.setenv("ENVIRONMENT", "development")
    monkeypatch.delenv("SUPABASE_JWKS_URL", raising=False)


def test_a_minted_token_gets_the_users_dashboard(
    local_env: None, world: World, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert dev_token.main(["--email", world.staff[0].email.upper(), "--curl", "http://127.0.0.1:8000/"]) == 0
    lines = capsys.readouterr().out.splitlines()
    token = lines[0]
    assert lines[2].startswith("curl -sS -H 'Authorization: Bearer ")
    assert f"http://127.0.0.1:8000/dashboard/stats?workspace_id={world.workspace_a}" in lines[2]
    with TestClient(app_for(db_url)) as client:
        response = client.get(
            "/dashboard/stats", params={"workspace_id": str(world.workspace_a)}, headers=bearer(token)
        )
    assert response.status_code == 200, response.text
    assert response.json()["invitations"] is None  # staff


def test_an_unknown_email_is_an_error(local_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert dev_token.main(["--email", "nobody@example.test"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "no user" in captured.err


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("ENVIRONMENT", "production"),
        ("SUPABASE_JWT_SECRET", "a-real-projects-secret-that-is-long-enough-1234"),
        ("SUPABASE_JWT_SECRET", ""),
    ],
)
def test_refuses_outside_local_development(
    local_env: None,
    world: World,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    variable: str,
    value: str,
) -> None:
    monkeypatch.setenv(variable, value)
    if variable == "SUPABASE_JWT_SECRET" and not value:
        monkeypatch.setenv("SUPABASE_JWKS_URL", "https://project.supabase.co/auth/v1/.well-known/jwks.json")
    assert dev_token.main(["--email", world.owner.email]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "dev_token:" in captured.err


def local_port(db_url: str) -> int | None:
    """The port when the test database is a local cluster's `postgres` database, as `make dev`'s is."""
    parts = urlsplit(db_url)
    local = parts.hostname == "127.0.0.1" and parts.username == "postgres" and parts.path == "/postgres"
    return parts.port if local and parts.password == "postgres" else None


@pytest.mark.parametrize(("ttl_env", "ttl"), [(None, 12 * 3600), ("600", 600)])
def test_works_in_a_plain_shell_with_the_local_defaults(
    world: World, db_url: str, tmp_path: Path, ttl_env: str | None, ttl: int
) -> None:
    """Nothing exported: the local dev database on DB_PORT, signed with the local secret."""
    port = local_port(db_url)
    if port is None:
        pytest.skip("the test database is not a local cluster")
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in {"DATABASE_URL", "SUPABASE_JWT_SECRET", "ENVIRONMENT", "SUPABASE_JWKS_URL"}
    }
    env |= {"DB_PORT": str(port), "PYTHONPATH": str(ROOT)}
    if ttl_env:
        env["DEV_TOKEN_TTL_SECONDS"] = ttl_env
    result = subprocess.run(
        [sys.executable, "-m", "edge_api.dev_token", "--email", world.owner.email],
        cwd=tmp_path,  # no .env here
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    claims = jwt.decode(
        result.stdout.strip(), DEFAULT_JWT_SECRET, audience="authenticated", algorithms=["HS256"]
    )
    assert claims["sub"] == str(world.owner.id)
    assert claims["exp"] - claims["iat"] == ttl


def test_says_so_when_the_database_is_not_running(tmp_path: Path) -> None:
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in {"DATABASE_URL", "SUPABASE_JWT_SECRET"}
    }
    result = subprocess.run(
        [sys.executable, "-m", "edge_api.dev_token", "--email", "owner@demo.careops.test"],
        cwd=tmp_path,
        env=env | {"DB_PORT": "9", "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "is `make dev` running?" in result.stderr
