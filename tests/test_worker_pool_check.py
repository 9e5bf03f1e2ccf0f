"""The worker pool's checkout check (worker.loop.RecentUseCheck): a round-trip only when it can
tell something, and a dead connection never handed to a job."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import psycopg
import psycopg_pool
import pytest

from worker import loop
from worker.loop import RecentUseCheck


@pytest.fixture
def round_trips(monkeypatch: pytest.MonkeyPatch) -> list[psycopg.Connection[Any]]:
    """Every full (round-trip) check the pool makes, in order."""
    calls: list[psycopg.Connection[Any]] = []
    full_check = psycopg_pool.ConnectionPool.check_connection

    def counted(conn: psycopg.Connection[Any]) -> None:
        calls.append(conn)
        full_check(conn)

    monkeypatch.setattr(loop.psycopg_pool.ConnectionPool, "check_connection", staticmethod(counted))
    return calls


@pytest.fixture
def conn(db_url: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(db_url, autocommit=True, application_name="pool-check-test") as connection:
        yield connection


def test_a_connection_in_steady_use_is_checked_without_a_round_trip(
    conn: psycopg.Connection[Any], round_trips: list[psycopg.Connection[Any]]
) -> None:
    check = RecentUseCheck(idle_seconds=60)
    check(conn)  # never seen: the full check
    assert round_trips == [conn]
    for _ in range(3):
        conn.execute("select 1")
        check(conn)
    assert round_trips == [conn]


def test_a_connection_idle_too_long_gets_the_round_trip(
    conn: psycopg.Connection[Any], round_trips: list[psycopg.Connection[Any]]
) -> None:
    check = RecentUseCheck(idle_seconds=0.05)
    check(conn)
    time.sleep(0.1)
    check(conn)
    assert round_trips == [conn, conn]


def test_a_connection_the_server_closed_fails_the_check_at_once(
    conn: psycopg.Connection[Any],
    autocommit_conn: psycopg.Connection[Any],
    round_trips: list[psycopg.Connection[Any]],
) -> None:
    check = RecentUseCheck(idle_seconds=60)
    check(conn)
    killed = autocommit_conn.execute("select pg_terminate_backend(%s)", [conn.info.backend_pid]).fetchone()[0]
    assert killed
    deadline = time.monotonic() + 5
    while not loop._has_input(conn) and time.monotonic() < deadline:
        time.sleep(0.01)
    with pytest.raises(psycopg.OperationalError):
        check(conn)
    assert len(round_trips) == 2  # the socket had input: the full check, which failed
    with pytest.raises(psycopg.OperationalError):
        check(conn)  # now broken or closed: refused without a round-trip
    assert len(round_trips) == 2


def test_a_closed_connection_is_refused(conn: psycopg.Connection[Any]) -> None:
    check = RecentUseCheck(idle_seconds=60)
    check(conn)
    conn.close()
    with pytest.raises(psycopg.OperationalError):
        check(conn)
