"""GET /dashboard/stats and public.dashboard_stats: the numbers, the local day, the user-scoped connection."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import psycopg
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from psycopg import sql
from psycopg_pool import AsyncConnectionPool

from edge_api.db import json_text_as, transaction_as
from edge_api.models import DashboardStats
from tests.edge_api_support import World, app_for, bearer, committed_world, user_token
from tests.support import Actor, User, create_user, rpc, rpc_error, run_as

UTC = dt.UTC


@pytest.fixture(scope="module")
def world(db_url: str) -> Iterator[World]:
    with committed_world(db_url, timezone="Pacific/Honolulu", staff_count=4) as committed:
        yield committed


@pytest.fixture(scope="module")
def client(db_url: str) -> Iterator[TestClient]:
    with TestClient(app_for(db_url)) as test_client:
        yield test_client


def test_owner_gets_the_numbers_of_the_seeded_workspace(client: TestClient, world: World) -> None:
    before = dt.datetime.now(ZoneInfo(world.timezone)).date()
    response = client.get(
        "/dashboard/stats",
        params={"workspace_id": str(world.workspace_a)},
        headers=bearer(user_token(world.owner)),
    )
    after = dt.datetime.now(ZoneInfo(world.timezone)).date()
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "private, no-store"
    body = response.json()
    # The database's JSON is passed through unparsed: it must be exactly what the model documents.
    assert DashboardStats.model_validate(body).model_dump(mode="json") == body
    today = body["workspace"].pop("today_local")
    practitioner_id = body["bookings"]["today_by_practitioner"][0]["practitioner_id"]
    assert today in {before.isoformat(), after.isoformat()}
    assert body == {
        "workspace": {
            "id": str(world.workspace_a),
            "name": f"Clinic {world.owner.email[:10]}",
            "timezone": "Pacific/Honolulu",
            "status": "draft",
        },
        # the two owners and the staff the world added, nothing of workspace B
        "members": {"owners": 2, "staff": 4},
        # 2 pending; expired, revoked and accepted ones do not count, nor B's 3
        "invitations": {"pending": world.pending_invitations},
        # the sections read tables this world leaves empty: zeros (their numbers are checked in
        # tests/test_dashboard_sections.py); the owner who made the workspace takes bookings
        "bookings": {
            "today": 0,
            "next_7_days": 0,
            "last_30_days": {"completed": 0, "no_show": 0, "cancelled": 0},
            "today_by_practitioner": [
                {
                    "practitioner_id": practitioner_id,
                    "full_name": world.owner.metadata["full_name"],
                    "bookings": 0,
                }
            ],
        },
        "leads": {
            "new_contacts_7_days": 0,
            "new_contacts_30_days": 0,
            "open_conversations": 0,
            "unread_conversations": 0,
            "unread_messages": 0,
        },
        "forms": {"pending": 0, "overdue": 0, "completed_30_days": 0},
        "inventory": {"items": 0, "low_stock_count": 0, "low_stock": []},
        "alerts": {"open": 0, "open_by_kind": {}, "newest": []},
    }


def test_the_response_model_validates_every_section(world: World) -> None:
    """The model is the contract the SQL fills: a full answer round-trips through it."""
    later = {
        "workspace": {
            "id": str(world.workspace_a),
            "name": "x",
            "timezone": "UTC",
            "status": "active",
            "today_local": "2026-11-26",
        },
        "members": {"owners": 1, "staff": 0},
        "invitations": None,
        "bookings": {
            "today": 3,
            "next_7_days": 10,
            "last_30_days": {"completed": 20, "no_show": 1, "cancelled": 2},
            "today_by_practitioner": [
                {"practitioner_id": str(uuid.uuid4()), "full_name": "A", "bookings": 3}
            ],
        },
        "leads": {
            "new_contacts_7_days": 1,
            "new_contacts_30_days": 4,
            "open_conversations": 2,
            "unread_conversations": 1,
            "unread_messages": 3,
        },
        "forms": {"pending": 1, "overdue": 0, "completed_30_days": 5},
        "inventory": {
            "items": 2,
            "low_stock_count": 1,
            "low_stock": [
                {
                    "id": str(uuid.uuid4()),
                    "name": "Oil",
                    "unit": "ml",
                    "quantity": 2.5,
                    "low_stock_threshold": 5,
                }
            ],
        },
        "alerts": {
            "open": 1,
            "open_by_kind": {"low_stock": 1},
            "newest": [
                {
                    "id": str(uuid.uuid4()),
                    "kind": "low_stock",
                    "severity": "warning",
                    "text": "Oil is low",
                    "subject_type": "inventory_item",
                    "subject_id": str(uuid.uuid4()),
                    "created_at": "2026-11-26T01:02:03Z",
                }
            ],
        },
    }
    assert DashboardStats.model_validate(later).model_dump(mode="json") == later


def test_the_response_is_documented_in_openapi(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    operation = schema["paths"]["/dashboard/stats"]["get"]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/DashboardStats"
    }
    assert {"200", "400", "401", "404", "503"} <= set(operation["responses"])
    assert "422" not in operation["responses"]
    assert set(schema["components"]["schemas"]["DashboardStats"]["properties"]) == {
        "workspace",
        "members",
        "invitations",
        "bookings",
        "leads",
        "forms",
        "inventory",
        "alerts",
    }


# --- the workspace-local "today" -------------------------------------------------------------


def owned_workspace(conn: psycopg.Connection, timezone: str) -> tuple[User, uuid.UUID]:
    """A new user and the workspace they create in `timezone` (rolled back with the test)."""
    owner = create_user(conn)
    slug = f"far-{uuid.uuid4().hex[:8]}"
    workspace_id = rpc(
        conn, Actor.user(owner), "create_workspace", p_name="Far Clinic", p_slug=slug, p_timezone=timezone
    )[0][0]
    return owner, workspace_id


def stats_at(conn: psycopg.Connection, actor: Actor, workspace_id: uuid.UUID, at: dt.datetime) -> dict:
    return run_as(conn, actor, "select private.dashboard_stats_at(%s, %s)", [workspace_id, at])[0][0]


@pytest.mark.parametrize(
    ("timezone", "at", "expected"),
    [
        # NZDT (UTC+13) in November: already the next day
        ("Pacific/Auckland", "2026-11-25T10:59:59Z", "2026-11-25"),
        ("Pacific/Auckland", "2026-11-25T11:00:00Z", "2026-11-26"),
        ("Pacific/Auckland", "2026-11-25T23:59:59Z", "2026-11-26"),
        ("Pacific/Auckland", "2026-11-26T00:00:00Z", "2026-11-26"),
        # HST (UTC-10, no DST): still the previous day until 10:00 UTC
        ("Pacific/Honolulu", "2026-11-25T23:59:59Z", "2026-11-25"),
        ("Pacific/Honolulu", "2026-11-26T00:00:00Z", "2026-11-25"),
        ("Pacific/Honolulu", "2026-11-26T09:59:59Z", "2026-11-25"),
        ("Pacific/Honolulu", "2026-11-26T10:00:00Z", "2026-11-26"),
        # NZST (UTC+12) in July
        ("Pacific/Auckland", "2026-07-15T11:59:59Z", "2026-07-15"),
        ("Pacific/Auckland", "2026-07-15T12:00:00Z", "2026-07-16"),
    ],
)
def test_today_is_the_workspace_local_date_around_midnight_utc(
    conn: psycopg.Connection, timezone: str, at: str, expected: str
) -> None:
    owner, workspace_id = owned_workspace(conn, timezone)
    instant = dt.datetime.fromisoformat(at)
    independent = instant.astimezone(ZoneInfo(timezone)).date().isoformat()
    assert independent == expected  # the table above agrees with Python's tz database
    assert stats_at(conn, Actor.user(owner), workspace_id, instant)["workspace"]["today_local"] == expected


ZONES = [
    "Pacific/Auckland",
    "Pacific/Honolulu",
    "Pacific/Chatham",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
    "Europe/London",
    "America/Santiago",
    "Australia/Lord_Howe",
    "UTC",
]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
# DST days: Santiago skips its midnight (a 23 h day), Lord Howe moves by 30 min, Auckland by an hour.
@example(timezone="America/Santiago", at=dt.datetime(2026, 9, 6, 12, tzinfo=UTC))
@example(timezone="America/Santiago", at=dt.datetime(2026, 4, 5, 12, tzinfo=UTC))
@example(timezone="Australia/Lord_Howe", at=dt.datetime(2026, 10, 4, 0, tzinfo=UTC))
@example(timezone="Pacific/Auckland", at=dt.datetime(2026, 9, 26, 12, tzinfo=UTC))
@example(timezone="Pacific/Auckland", at=dt.datetime(2026, 4, 4, 12, tzinfo=UTC))
@given(
    timezone=st.sampled_from(ZONES),
    at=st.datetimes(
        min_value=dt.datetime(2024, 1, 1), max_value=dt.datetime(2030, 12, 31), timezones=st.just(UTC)
    ),
)
def test_local_day_matches_python_zoneinfo(conn: psycopg.Connection, timezone: str, at: dt.datetime) -> None:
    """The day and its bounds (23 or 25 h long on DST days) against an independent computation."""
    local_date, starts_at, ends_at = conn.execute(
        "select * from private.local_day(%s, %s)", [timezone, at]
    ).fetchone()
    zone = ZoneInfo(timezone)
    expected_date = at.astimezone(zone).date()
    assert local_date == expected_date
    # compared in UTC: Python never equates a time in a DST gap with another zone's
    assert starts_at.astimezone(UTC) == dt.datetime.combine(expected_date, dt.time(), zone).astimezone(UTC)
    assert ends_at.astimezone(UTC) == dt.datetime.combine(
        expected_date + dt.timedelta(days=1), dt.time(), zone
    ).astimezone(UTC)
    assert starts_at <= at < ends_at


def test_dashboard_stats_uses_now(conn: psycopg.Connection) -> None:
    owner, workspace_id = owned_workspace(conn, "Pacific/Kiritimati")
    now = conn.execute("select now()").fetchone()[0]
    body = rpc(conn, Actor.user(owner), "dashboard_stats", p_workspace_id=workspace_id)[0][0]
    assert (
        body["workspace"]["today_local"] == now.astimezone(ZoneInfo("Pacific/Kiritimati")).date().isoformat()
    )
    assert body == stats_at(conn, Actor.user(owner), workspace_id, now)


# --- who may call it, as PostgREST would --------------------------------------------------------


def test_rpc_refusals(conn: psycopg.Connection, world: World) -> None:
    outsider = Actor.user(world.outsider)
    assert rpc_error(conn, outsider, "dashboard_stats", p_workspace_id=world.workspace_a) == "not_found"
    assert rpc_error(conn, outsider, "dashboard_stats", p_workspace_id=None) == "not_found"
    no_subject = Actor("authenticated", {"role": "authenticated"}, "no subject")
    assert (
        rpc_error(conn, no_subject, "dashboard_stats", p_workspace_id=world.workspace_a)
        == "not_authenticated"
    )
    assert "permission denied" in rpc_error(
        conn, Actor.anon(), "dashboard_stats", p_workspace_id=world.workspace_a
    )


def test_service_role_reads_any_workspace(conn: psycopg.Connection, world: World) -> None:
    body = rpc(conn, Actor.service(), "dashboard_stats", p_workspace_id=world.workspace_a)[0][0]
    assert body["members"] == {"owners": 2, "staff": 4}
    assert body["invitations"] == {"pending": world.pending_invitations}


# --- the user-scoped connection ------------------------------------------------------------------


def test_user_connection_runs_as_the_user_and_leaves_nothing_on_the_pooled_connection(db_url: str) -> None:
    user_id = uuid.uuid4()
    claims = {"sub": str(user_id), "role": "authenticated", "aud": "authenticated"}

    async def scenario() -> tuple[tuple, tuple, tuple]:
        async with AsyncConnectionPool(db_url, min_size=1, max_size=1, kwargs={"autocommit": True}) as pool:
            async with transaction_as(pool, "authenticated", claims, 8000) as conn:
                inside = await (
                    await conn.execute(
                        "select current_user, auth.uid(), auth.role(), pg_backend_pid(),"
                        " current_setting('statement_timeout')"
                    )
                ).fetchone()
            try:
                async with transaction_as(pool, "authenticated", claims, 8000) as conn:
                    await conn.execute("select private.metrics_snapshot()")
            except psycopg.errors.InsufficientPrivilege:
                pass
            async with pool.connection() as conn:  # max_size=1: the very same connection
                after = await (
                    await conn.execute(
                        "select current_user, current_setting('request.jwt.claims', true), pg_backend_pid(),"
                        " current_setting('statement_timeout')"
                    )
                ).fetchone()
                in_transaction = await (await conn.execute("select now() = statement_timestamp()")).fetchone()
        return inside, after, in_transaction

    inside, after, in_transaction = asyncio.run(scenario())
    assert inside[:3] == ("authenticated", user_id, "authenticated")
    assert inside[4] == "8s"
    assert after[3] != "8s"
    assert after[2] == inside[3]
    assert after[0] != "authenticated"
    assert after[1] in (None, "")
    assert in_transaction == (True,)


def test_a_request_that_runs_too_long_is_cancelled(db_url: str) -> None:
    claims = {"sub": str(uuid.uuid4()), "role": "authenticated"}

    async def scenario() -> None:
        pool = AsyncConnectionPool(db_url, min_size=1, max_size=1, kwargs={"autocommit": True})
        async with pool, transaction_as(pool, "authenticated", claims, 50) as conn:
            await conn.execute("select pg_sleep(1)")

    with pytest.raises(psycopg.errors.QueryCanceled):
        asyncio.run(scenario())


def test_a_one_round_trip_request_runs_as_the_user_and_leaves_nothing_on_the_pooled_connection(
    db_url: str,
) -> None:
    """json_text_as (the dashboard's path): the same preamble, query and commit in one message;
    a failing query rolls back, and the pooled connection comes back as the pool's own role."""
    user_id = uuid.uuid4()
    claims = {"sub": str(user_id), "role": "authenticated", "aud": "authenticated"}
    inside_query = sql.SQL(
        "select jsonb_build_object('user', current_user, 'uid', auth.uid(), 'timeout',"
        " current_setting('statement_timeout'), 'pid', pg_backend_pid(), 'quote', {})"
    ).format(sql.Literal('it\'s {"not"} parsed'))

    async def scenario() -> tuple[str, str, tuple]:
        async with AsyncConnectionPool(db_url, min_size=1, max_size=1, kwargs={"autocommit": True}) as pool:
            inside = await json_text_as(pool, "authenticated", claims, 8000, inside_query)
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                await json_text_as(
                    pool, "authenticated", claims, 8000, sql.SQL("select private.metrics_snapshot()")
                )
            with pytest.raises(psycopg.errors.QueryCanceled):
                await json_text_as(
                    pool, "authenticated", claims, 50, sql.SQL("select pg_sleep(1)::text::jsonb")
                )
            async with pool.connection() as conn:  # max_size=1: the very same connection
                after = await (
                    await conn.execute(
                        "select current_user, current_setting('request.jwt.claims', true), pg_backend_pid(),"
                        " current_setting('statement_timeout')"
                    )
                ).fetchone()
                status = conn.info.transaction_status.name
        return inside, status, after

    inside, status, after = asyncio.run(scenario())
    assert isinstance(inside, str)  # the server's text, not parsed
    body = json.loads(inside)
    assert (body["user"], body["uid"], body["timeout"]) == ("authenticated", str(user_id), "8s")
    assert body["quote"] == 'it\'s {"not"} parsed'
    assert status == "IDLE"
    assert after[2] == body["pid"]
    assert after[0] != "authenticated"
    assert after[1] in (None, "")
    assert after[3] != "8s"
