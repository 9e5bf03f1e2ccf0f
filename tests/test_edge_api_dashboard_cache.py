"""GET /dashboard/stats answers from a dashboard computed at most DASHBOARD_CACHE_SECONDS ago,
after checking the caller on every request (private.dashboard_viewer)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from tests.edge_api_support import World, app_for, bearer, committed_world, user_token
from tests.support import Actor, User, error_of, run_as

ANSWERS = "careops_dashboard_answers_total"


@pytest.fixture
def world(db_url: str) -> Iterator[World]:
    with committed_world(db_url, staff_count=2) as committed:
        yield committed


@pytest.fixture
def cached(db_url: str) -> Iterator[TestClient]:
    """An app whose dashboards stay fresh for a minute: anything a test sees change came from the database."""
    with TestClient(app_for(db_url, dashboard_cache_seconds=60)) as client:
        yield client


def stats(client: TestClient, user: User, workspace_id: uuid.UUID) -> Any:
    answer = client.get(
        "/dashboard/stats", params={"workspace_id": str(workspace_id)}, headers=bearer(user_token(user))
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def error_code(client: TestClient, user: User, workspace_id: uuid.UUID) -> tuple[int, str]:
    answer = client.get(
        "/dashboard/stats", params={"workspace_id": str(workspace_id)}, headers=bearer(user_token(user))
    )
    return answer.status_code, answer.json()["message"]


def answers(client: TestClient) -> dict[str, float]:
    registry = client.app.state.metrics_registry  # type: ignore[attr-defined]
    sources = ("cache", "database")
    return {source: registry.get_sample_value(ANSWERS, {"source": source}) for source in sources}


def committed(db_url: str, statement: str, params: list[Any]) -> None:
    with psycopg.connect(db_url) as conn:
        conn.execute(statement, params)


def add_pending_invitation(db_url: str, workspace_id: uuid.UUID) -> None:
    committed(
        db_url,
        "insert into public.invitations (workspace_id, email, role, token_hash, expires_at)"
        " values (%s, %s, 'staff', private.token_hash(%s), now() + interval '7 days')",
        [workspace_id, f"cache-{uuid.uuid4().hex[:8]}@example.test", uuid.uuid4().hex],
    )


def set_role(db_url: str, world: World, user: User, role: str | None) -> None:
    if role is None:
        statement = "delete from public.workspace_members where workspace_id = %s and user_id = %s"
        committed(db_url, statement, [world.workspace_a, user.id])
    else:
        statement = "update public.workspace_members set role = %s where workspace_id = %s and user_id = %s"
        committed(db_url, statement, [role, world.workspace_a, user.id])


def test_a_dashboard_answers_until_it_is_older_than_its_age_then_the_database_computes_it_again(
    db_url: str, world: World
) -> None:
    with TestClient(app_for(db_url, dashboard_cache_seconds=0.5)) as client:
        first = stats(client, world.owner, world.workspace_a)
        add_pending_invitation(db_url, world.workspace_a)
        assert stats(client, world.owner, world.workspace_a) == first
        assert answers(client) == {"cache": 1, "database": 1}
        time.sleep(0.6)
        later = stats(client, world.owner, world.workspace_a)
        assert later["invitations"] == {"pending": first["invitations"]["pending"] + 1}
        assert answers(client) == {"cache": 1, "database": 2}


def test_without_a_cache_every_request_computes_the_dashboard(db_url: str, world: World) -> None:
    with TestClient(app_for(db_url)) as client:  # the tests' default: DASHBOARD_CACHE_SECONDS=0
        first = stats(client, world.owner, world.workspace_a)
        add_pending_invitation(db_url, world.workspace_a)
        later = stats(client, world.owner, world.workspace_a)
        assert later["invitations"] == {"pending": first["invitations"]["pending"] + 1}
        assert answers(client) == {"cache": 0, "database": 2}
        assert len(client.app.state.dashboard_cache) == 0  # type: ignore[attr-defined]


def test_membership_is_checked_on_every_request_even_when_the_dashboard_is_fresh(
    db_url: str, world: World, cached: TestClient
) -> None:
    member = world.staff[0]
    stats(cached, member, world.workspace_a)
    assert error_code(cached, world.outsider, world.workspace_a) == (404, "not_found")
    assert error_code(cached, world.owner_b, world.workspace_a) == (404, "not_found")
    set_role(db_url, world, member, None)
    assert error_code(cached, member, world.workspace_a) == (404, "not_found")
    assert answers(cached) == {"cache": 0, "database": 1}


def test_owners_and_staff_get_their_own_view_and_a_new_role_counts_at_once(
    db_url: str, world: World, cached: TestClient
) -> None:
    member = world.staff[0]
    as_owner = stats(cached, world.owner, world.workspace_a)
    assert as_owner["invitations"] == {"pending": world.pending_invitations}
    as_staff = stats(cached, member, world.workspace_a)
    assert as_staff["invitations"] is None
    assert {k: v for k, v in as_staff.items() if k != "invitations"} == {
        k: v for k, v in as_owner.items() if k != "invitations"
    }
    assert answers(cached) == {"cache": 0, "database": 2}
    assert stats(cached, world.co_owner, world.workspace_a) == as_owner
    assert stats(cached, world.staff[1], world.workspace_a) == as_staff
    assert answers(cached) == {"cache": 2, "database": 2}

    set_role(db_url, world, member, "owner")
    assert stats(cached, member, world.workspace_a) == as_owner
    set_role(db_url, world, member, "staff")
    assert stats(cached, member, world.workspace_a) == as_staff
    assert answers(cached) == {"cache": 4, "database": 2}


def test_concurrent_requests_for_a_dashboard_nobody_holds_share_one_computation(
    world: World, cached: TestClient
) -> None:
    requests = 8
    with ThreadPoolExecutor(requests) as pool:
        bodies = list(pool.map(lambda _: stats(cached, world.owner, world.workspace_a), range(requests)))
    assert all(body == bodies[0] for body in bodies)
    assert answers(cached) == {"cache": requests - 1, "database": 1}


def test_each_process_keeps_at_most_its_entries_the_oldest_go_first(db_url: str, world: World) -> None:
    with TestClient(app_for(db_url, dashboard_cache_seconds=60, dashboard_cache_entries=2)) as client:
        stats(client, world.owner, world.workspace_a)
        stats(client, world.staff[0], world.workspace_a)
        stats(client, world.owner_b, world.workspace_b)
        assert len(client.app.state.dashboard_cache) == 2  # type: ignore[attr-defined]
        stats(client, world.staff[1], world.workspace_a)  # still held
        stats(client, world.owner_b, world.workspace_b)  # still held
        assert answers(client) == {"cache": 2, "database": 3}
        stats(client, world.co_owner, world.workspace_a)  # the owners' view was the oldest: gone
        assert answers(client) == {"cache": 2, "database": 4}


def test_the_answers_are_counted_in_metrics(world: World, cached: TestClient) -> None:
    stats(cached, world.owner, world.workspace_a)
    stats(cached, world.owner, world.workspace_a)
    scrape = cached.get("/metrics").text
    assert f'{ANSWERS}{{source="database"}} 1.0' in scrape
    assert f'{ANSWERS}{{source="cache"}} 1.0' in scrape


def test_dashboard_viewer_names_the_view_or_refuses(conn: psycopg.Connection, world: World) -> None:
    query = "select private.dashboard_viewer(%s)"

    def viewer(actor: Actor) -> str:
        return run_as(conn, actor, query, [world.workspace_a])[0][0]

    def refusal(actor: Actor) -> str | None:
        error = error_of(conn, actor, query, [world.workspace_a])
        return error.diag.message_primary if error else None

    assert viewer(Actor.user(world.owner)) == "owner"
    assert viewer(Actor.user(world.staff[0])) == "staff"
    assert viewer(Actor.service()) == "service"
    assert refusal(Actor.user(world.outsider)) == "not_found"
    assert refusal(Actor.user(world.owner_b)) == "not_found"
    assert refusal(Actor("authenticated", {"role": "authenticated"}, "no subject")) == "not_authenticated"
    assert "permission denied" in (refusal(Actor.anon()) or "")
