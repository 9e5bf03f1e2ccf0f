"""edge_api and the worker behind a real PgBouncer in transaction mode (as hosted Supabase's
Supavisor on port 6543): a server connection serves one transaction, then another client.

What must hold there: the role and JWT claims PostgREST-style requests set are transaction-local
and reach only their own request; nothing of one request survives into the next on the same
server connection; psycopg never prepares statements server-side (DATABASE_TRANSACTION_POOLER);
the worker's claims, grouped records and archives stay exactly-once with several processes
sharing fewer server connections than they hold client connections.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from tests.edge_api_support import World, app_for, bearer, committed_world, user_token
from tests.pooler import PgBouncer
from tests.support import User
from tests.test_message_delivery_process import deliver_with_processes
from worker.settings import Settings as WorkerSettings

# Fewer server connections than any one process below holds client connections.
SERVER_POOL_SIZE = 3


@pytest.fixture(scope="module")
def bouncer(db_url: str) -> Iterator[PgBouncer]:
    with PgBouncer(db_url, pool_size=SERVER_POOL_SIZE) as running:
        yield running


@pytest.fixture(scope="module")
def world(db_url: str) -> Iterator[World]:
    with committed_world(db_url, staff_count=2) as committed:
        yield committed


@pytest.fixture
def queue(autocommit_conn: psycopg.Connection) -> Iterator[str]:
    name = f"pooler_{uuid.uuid4().hex[:8]}"
    autocommit_conn.execute("select pgmq.create(%s)", [name])
    yield name
    autocommit_conn.execute("select pgmq.drop_queue(%s)", [name])


def repeated_queries(url: str, prepare_threshold: int | None) -> None:
    """What a worker pool does: several client connections, the same parameterised statements
    over and over (psycopg prepares one after `prepare_threshold` executions)."""
    connections = [
        psycopg.connect(url, autocommit=True, prepare_threshold=prepare_threshold) for _ in range(4)
    ]
    try:
        for n in range(8):
            for conn in connections:
                assert conn.execute("select %s::int + 1", [n]).fetchone() == (n + 1,)
                assert conn.execute("select pgmq.metrics(%s)", ["jobs"]).fetchone() is not None
    finally:
        for conn in connections:
            conn.close()


def test_prepared_statements_break_behind_a_transaction_pooler_unless_turned_off(bouncer: PgBouncer) -> None:
    direct = WorkerSettings(database_url=bouncer.url, database_transaction_pooler=False)  # type: ignore[arg-type]
    pooled = WorkerSettings(database_url=bouncer.url, database_transaction_pooler=True)  # type: ignore[arg-type]
    with pytest.raises((psycopg.errors.DuplicatePreparedStatement, psycopg.errors.InvalidSqlStatementName)):
        repeated_queries(bouncer.url, direct.prepare_threshold)
    repeated_queries(bouncer.url, pooled.prepare_threshold)


@pytest.mark.parametrize(
    ("url", "pooler", "prepares"),
    [
        ("postgresql://postgres.ref:pw@aws-0-eu-west-1.pooler.supabase.com:6543/postgres", None, False),
        ("postgresql://postgres.ref:pw@aws-0-eu-west-1.pooler.supabase.com:5432/postgres", None, True),
        ("postgresql://postgres:pw@db.ref.supabase.co:5432/postgres", None, True),
        ("postgresql://postgres:pw@127.0.0.1:6432/postgres", True, False),
        ("postgresql://postgres:pw@127.0.0.1:6543/postgres", False, True),
    ],
)
def test_the_transaction_pooler_is_detected_by_supavisors_port_or_said(
    url: str, pooler: bool | None, prepares: bool
) -> None:
    settings = WorkerSettings(database_url=url, database_transaction_pooler=pooler)  # type: ignore[arg-type]
    assert (settings.prepare_threshold is not None) == prepares
    edge = app_for(url, database_transaction_pooler=pooler).state.settings
    assert edge.prepare_threshold == settings.prepare_threshold


def stats_of(client: TestClient, user: User, workspace_id: uuid.UUID) -> tuple[int, object]:
    response = client.get(
        "/dashboard/stats", params={"workspace_id": str(workspace_id)}, headers=bearer(user_token(user))
    )
    body = response.json()
    return response.status_code, body["workspace"]["id"] if response.status_code == 200 else body["message"]


def test_edge_api_requests_keep_their_own_role_and_claims_through_the_pooler(
    bouncer: PgBouncer, world: World
) -> None:
    """Three users' requests interleaved over SERVER_POOL_SIZE server connections: each answer is
    the one its own JWT allows, then a plain connection finds no role, claims or timeout left."""
    app = app_for(bouncer.url, database_transaction_pooler=True, db_pool_max_size=8)
    calls = [
        (world.owner, world.workspace_a, (200, str(world.workspace_a))),
        (world.owner_b, world.workspace_b, (200, str(world.workspace_b))),
        (world.outsider, world.workspace_a, (404, "not_found")),
        (world.owner_b, world.workspace_a, (404, "not_found")),
    ] * 15
    with TestClient(app) as client, ThreadPoolExecutor(8) as threads:
        answers = list(threads.map(lambda call: stats_of(client, call[0], call[1]), calls))
        for _ in range(8):  # the database metrics: service_role in a transaction of its own
            metrics = client.get("/metrics")
            assert metrics.status_code == 200
            assert "careops_database_metrics_up 1.0" in metrics.text
    assert answers == [expected for _, _, expected in calls]
    assert Counter(status for status, _ in answers) == Counter({200: 30, 404: 30})
    for _ in range(SERVER_POOL_SIZE * 2):
        with psycopg.connect(bouncer.url, autocommit=True, prepare_threshold=None) as conn:
            left = conn.execute(
                "select current_user, coalesce(current_setting('request.jwt.claims', true), ''),"
                " current_setting('statement_timeout')"
            ).fetchone()
            assert left == ("postgres", "", "0")
    assert bouncer.servers() <= SERVER_POOL_SIZE


@pytest.mark.parametrize("processes", [2, 4])
def test_several_workers_through_the_pooler_send_each_message_once(
    bouncer: PgBouncer,
    queue: str,
    autocommit_conn: psycopg.Connection,
    processes: int,
    tmp_path: Path,
) -> None:
    """Each worker process holds up to 6 client connections (4 in flight, reader, preparer);
    all of them share SERVER_POOL_SIZE server connections."""
    deliver_with_processes(
        bouncer.url, queue, autocommit_conn, processes, tmp_path, DATABASE_TRANSACTION_POOLER="true"
    )
    assert bouncer.servers() <= SERVER_POOL_SIZE
    assert "prepared statement" not in bouncer.log
