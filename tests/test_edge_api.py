"""edge_api served for real (TestClient runs the lifespan, so the pool hits the test database)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from edge_api.settings import Settings, get_settings
from tests.edge_api_support import app_for, bearer, user_token
from tests.support import DEFAULT_JWT_SECRET, User


@pytest.fixture
def client(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("SUPABASE_JWT_SECRET", DEFAULT_JWT_SECRET)
    get_settings.cache_clear()
    from edge_api.main import app

    with TestClient(app) as test_client:
        yield test_client
    get_settings.cache_clear()


def test_health_reports_database_and_queue(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "queue": True}


def test_health_is_503_when_the_database_is_unreachable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres:postgres@127.0.0.1:9/postgres")
    monkeypatch.setenv("SUPABASE_JWT_SECRET", DEFAULT_JWT_SECRET)
    get_settings.cache_clear()
    from edge_api.main import app

    with TestClient(app) as test_client:
        response = test_client.get("/health")
    get_settings.cache_clear()
    assert response.status_code == 503
    assert response.json()["status"] == "error"


# Codes edge_api answers with itself; each is registered with the same HTTP status.
EDGE_API_CODES = {
    ("invalid_parameter", 400),
    ("not_authenticated", 401),
    ("invalid_token", 401),
    ("not_found", 404),
    ("method_not_allowed", 405),
}


def test_edge_api_codes_are_registered(conn: psycopg.Connection) -> None:
    registered = set(conn.execute("select code, http_status from private.error_codes").fetchall())
    assert registered >= EDGE_API_CODES


def test_unknown_paths_and_methods_answer_in_the_error_shape(client: TestClient) -> None:
    missing = client.get("/no/such/thing")
    wrong_method = client.delete("/health")
    assert (missing.status_code, missing.json()["message"], missing.json()["code"]) == (
        404,
        "not_found",
        "PT404",
    )
    assert (wrong_method.status_code, wrong_method.json()["message"]) == (405, "method_not_allowed")


def test_cors_allows_only_the_configured_origins(db_url: str) -> None:
    app = app_for(db_url, cors_allowed_origins="http://localhost:3000, https://app.example.test")
    with TestClient(app) as cors:
        allowed = cors.options(
            "/dashboard/stats",
            headers={
                "Origin": "https://app.example.test",
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "authorization",
            },
        )
        other = cors.get("/health", headers={"Origin": "https://evil.example.test"})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://app.example.test"
    assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
    assert "access-control-allow-origin" not in other.headers


def preflight(client: TestClient, origin: str) -> httpx.Response:
    return client.options(
        "/dashboard/stats",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization,x-client-info",
        },
    )


@pytest.mark.parametrize(
    "origin",
    [
        "http://localhost:3000",
        "http://localhost:5173",
        "http://127.0.0.1:4173",
        "http://[::1]:8080",
        "http://localhost",
    ],
)
def test_development_allows_the_local_dev_servers_by_default(db_url: str, origin: str) -> None:
    with TestClient(app_for(db_url, environment="development")) as cors:
        answer = preflight(cors, origin)
        simple = cors.get("/health", headers={"Origin": origin})
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == origin
    assert "authorization" in answer.headers["access-control-allow-headers"].lower()
    assert simple.headers["access-control-allow-origin"] == origin


@pytest.mark.parametrize(
    "origin",
    [
        "https://localhost:3000",  # not what a local dev server serves
        "http://localhost.evil.example.test",
        "http://localhost:3000.evil.example.test",
        "http://192.168.1.20:3000",
        "https://app.example.test",
    ],
)
def test_development_refuses_other_origins(db_url: str, origin: str) -> None:
    with TestClient(app_for(db_url, environment="development")) as cors:
        answer = preflight(cors, origin)
        simple = cors.get("/health", headers={"Origin": origin})
    assert answer.status_code == 400
    assert "access-control-allow-origin" not in answer.headers
    assert "access-control-allow-origin" not in simple.headers


def test_listed_origins_replace_the_local_ones_in_development(db_url: str) -> None:
    with TestClient(
        app_for(db_url, environment="development", cors_allowed_origins="https://app.example.test")
    ) as cors:
        assert preflight(cors, "https://app.example.test").status_code == 200
        assert preflight(cors, "http://localhost:3000").status_code == 400


def test_production_needs_its_origins_listed(db_url: str) -> None:
    with pytest.raises(ValidationError, match="CORS_ALLOWED_ORIGINS"):
        app_for(db_url, environment="production", metrics_bearer_token="scrape-me")
    with pytest.raises(ValidationError, match="not \\*"):
        app_for(db_url, environment="production", metrics_bearer_token="scrape-me", cors_allowed_origins="*")
    app = app_for(
        db_url,
        environment="production",
        metrics_bearer_token="scrape-me",
        cors_allowed_origins="https://app.example.test",
    )
    with TestClient(app) as cors:
        assert preflight(cors, "https://app.example.test").headers["access-control-allow-origin"] == (
            "https://app.example.test"
        )
        local = preflight(cors, "http://localhost:3000")
    assert local.status_code == 400
    assert "access-control-allow-origin" not in local.headers


def test_the_test_environment_sends_no_cors_headers_unless_told(db_url: str) -> None:
    with TestClient(app_for(db_url, environment="test")) as cors:
        answer = preflight(cors, "http://localhost:3000")
    assert "access-control-allow-origin" not in answer.headers


def test_docs_are_served(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/health", "/dashboard/stats", "/metrics"} <= set(paths)


def test_several_apps_in_one_process_share_nothing(db_url: str) -> None:
    """Each app (as each process) has its own pool, verifier and metrics registry."""
    first, second = app_for(db_url), app_for(db_url)
    with TestClient(first) as one, TestClient(second) as two:
        one.get("/health")
        assert 'route="/health"' in one.get("/metrics").text
        assert 'route="/health"' not in two.get("/metrics").text
        assert first.state.pool is not second.state.pool


def test_dashboard_is_503_unavailable_when_the_database_is_unreachable() -> None:
    app = app_for("postgresql://postgres:postgres@127.0.0.1:9/postgres", db_pool_timeout_seconds=0.5)
    token = user_token(User(uuid.uuid4(), "someone@example.test"))
    with TestClient(app) as down:
        response = down.get(
            "/dashboard/stats", params={"workspace_id": str(uuid.uuid4())}, headers=bearer(token)
        )
    assert response.status_code == 503
    assert response.json()["message"] == "unavailable"


def test_the_env_example_is_a_valid_configuration(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every edge_api variable of .env.example, copied as is (empty values included), loads."""
    example = Path(__file__).resolve().parent.parent / ".env.example"
    for line in example.read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            monkeypatch.setenv(name, value)
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("SUPABASE_JWT_SECRET", DEFAULT_JWT_SECRET)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    documented = {
        line.partition("=")[0].lower()
        for line in example.read_text().splitlines()
        if "=" in line and line[0] != "#"
    }
    assert set(Settings.model_fields) <= documented, "document every setting in .env.example"
    assert settings.supabase_jwks_url is None
    assert settings.supabase_jwt_issuer is None
    assert settings.metrics_bearer_token is None
    assert settings.cors_allowed_origins == []
