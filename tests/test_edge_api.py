"""edge_api served for real (TestClient runs the lifespan, so the pool hits the test database)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from edge_api.settings import get_settings
from tests.support import DEFAULT_JWT_SECRET


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
