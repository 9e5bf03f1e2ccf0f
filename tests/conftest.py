from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest

from tests.booking_support import BookingWorkspace, create_booking_workspace, drop_booking_workspace
from tests.stubs import ResendStub, SmtpStub, TwilioStub
from tests.support import User, create_user
from worker import registry


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that wait on the clock run last, so what they wait for overlaps the rest."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is not None)


@pytest.fixture(scope="session")
def db_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.exit("TEST_DATABASE_URL is not set: run the suite with `make test`", returncode=2)
    return url


@pytest.fixture
def conn(db_url: str) -> Iterator[psycopg.Connection]:
    """A connection inside a transaction that is rolled back after the test."""
    with psycopg.connect(db_url) as connection:
        yield connection
        connection.rollback()


@pytest.fixture
def autocommit_conn(db_url: str) -> Iterator[psycopg.Connection]:
    """For tests that need committed data (concurrency, cron); they clean up after themselves."""
    with psycopg.connect(db_url, autocommit=True) as connection:
        yield connection


@pytest.fixture
def handlers(
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[..., Callable[[registry.Handler], registry.Handler]]:
    """A clean registry for the test; returns registry.job."""
    monkeypatch.setattr(registry, "_handlers", {})
    monkeypatch.setattr(registry, "_own_transactions", set())
    monkeypatch.setattr(registry, "_batch_factories", {})
    return registry.job


@pytest.fixture
def committed_place(db_url: str) -> Iterator[Callable[..., BookingWorkspace]]:
    """Workspaces committed for tests on several connections, removed afterwards with their jobs."""
    made: list[BookingWorkspace] = []
    with psycopg.connect(db_url, autocommit=True) as connection:

        def make(**options: Any) -> BookingWorkspace:
            place = create_booking_workspace(connection, **options)
            made.append(place)
            return place

        yield make
        for place in made:
            connection.execute(
                "delete from pgmq.q_jobs where message -> 'payload' ->> 'message_id' in"
                " (select id::text from public.messages where workspace_id = %s)",
                [place.workspace_id],
            )
            connection.execute(
                "delete from pgmq.q_events as q where exists ("
                " select 1 from jsonb_array_elements(q.message -> 'payload' -> 'events') as e"
                " where e ->> 'booking_id' in"
                " (select id::text from public.bookings where workspace_id = %(w)s)"
                " or e ->> 'contact_id' in"
                " (select id::text from public.contacts where workspace_id = %(w)s))",
                {"w": place.workspace_id},
            )
            drop_booking_workspace(connection, place)


@pytest.fixture
def user(conn: psycopg.Connection) -> User:
    return create_user(conn)


@pytest.fixture
def queue(autocommit_conn: psycopg.Connection) -> Iterator[str]:
    """A pgmq queue of the test's own (modules with their own `queue` fixture override it)."""
    name = f"test_{uuid.uuid4().hex[:8]}"
    autocommit_conn.execute("select pgmq.create(%s)", [name])
    yield name
    autocommit_conn.execute("select pgmq.drop_queue(%s)", [name])


CRON_PROBE_JOB = "careops-stack-probe"
FAILING_CRON_PROBE_JOB = "careops-stack-probe-fails"


@pytest.fixture(scope="session", autouse=True)
def cron_probe(db_url: str) -> Iterator[str]:
    """Schedules a real pg_cron job at the start of the session; test_stack checks it ran."""
    with psycopg.connect(db_url, autocommit=True) as connection:
        connection.execute("create schema if not exists stack_probe")
        connection.execute(
            "create table if not exists stack_probe.cron_ticks (ran_at timestamptz default now())"
        )
        connection.execute(
            "select cron.schedule(%s, '* * * * *', %s)",
            [CRON_PROBE_JOB, "insert into stack_probe.cron_ticks default values"],
        )
        # A job whose every run fails, for the failed-runs metric (test_stack).
        connection.execute("select cron.schedule(%s, '* * * * *', 'select 1 / 0')", [FAILING_CRON_PROBE_JOB])
    yield CRON_PROBE_JOB
    with psycopg.connect(db_url, autocommit=True) as connection:
        connection.execute("select cron.unschedule(%s)", [CRON_PROBE_JOB])
        connection.execute("select cron.unschedule(%s)", [FAILING_CRON_PROBE_JOB])
        connection.execute("drop schema stack_probe cascade")


# --- delivery provider stubs (tests/stubs.py) --------------------------------------------------


@pytest.fixture
def resend_stub() -> Iterator[ResendStub]:
    with ResendStub(hang_seconds=3) as stub:
        yield stub


@pytest.fixture
def twilio_stub() -> Iterator[TwilioStub]:
    with TwilioStub(hang_seconds=3) as stub:
        yield stub


@pytest.fixture
def smtp_stub() -> Iterator[SmtpStub]:
    with SmtpStub() as stub:
        yield stub
