"""python -m edge_api.dev_token: tokens for local users that edge_api accepts, and refusals elsewhere."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from edge_api import dev_token
from tests.edge_api_support import World, app_for, bearer, committed_world
from tests.support import DEFAULT_JWT_SECRET


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
