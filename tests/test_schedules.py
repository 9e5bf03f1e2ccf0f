"""The pg_cron schedules: each runs twice in a row and concurrently without a second effect,
and one of them is observed to run under pg_cron itself."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import psycopg
import pytest

from tests.booking_support import BookingWorkspace, create_booking_workspace
from tests.support import Actor, race_behind_lock

PRUNE_JOB = "careops_prune_queue_archive"
PRUNE_SCHEDULE = "17 3 * * *"
# An archived job old enough to prune, committed so that pg_cron's own session sees it.
PRUNE_PROBE_MSG_ID = -918_273_645


@pytest.fixture(scope="module")
def prune_job_every_minute(db_url: str) -> Iterator[int]:
    """Runs the real careops_prune_queue_archive job every minute for the rest of the session.

    Module scope: it starts with the first test of this module (early: tests marked slow run
    last), so the minute pg_cron needs overlaps the rest of the suite.
    """
    with psycopg.connect(db_url, autocommit=True) as conn:
        job_id = conn.execute("select jobid from cron.job where jobname = %s", [PRUNE_JOB]).fetchone()[0]
        conn.execute(
            "insert into pgmq.a_jobs (msg_id, enqueued_at, archived_at, vt, message)"
            " values (%s, now() - interval '30 days', now() - interval '30 days', now(), '{}')"
            " on conflict (msg_id) do nothing",
            [PRUNE_PROBE_MSG_ID],
        )
        conn.execute("select cron.alter_job(%s, schedule => '* * * * *')", [job_id])
    yield job_id
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("select cron.alter_job(%s, schedule => %s)", [job_id, PRUNE_SCHEDULE])
        conn.execute("delete from pgmq.a_jobs where msg_id = %s", [PRUNE_PROBE_MSG_ID])


def archive_old_job(conn: psycopg.Connection, msg_id: int) -> None:
    conn.execute(
        "insert into pgmq.a_jobs (msg_id, enqueued_at, archived_at, vt, message)"
        " values (%s, now() - interval '9 days', now() - interval '9 days', now(), '{}')",
        [msg_id],
    )


def prune(conn: psycopg.Connection) -> int:
    return conn.execute("select private.prune_queue_archive()").fetchone()[0]["archived_jobs"]


def test_prune_twice_in_a_row_prunes_once(conn: psycopg.Connection) -> None:
    archive_old_job(conn, -1)
    first, second = prune(conn), prune(conn)
    assert first >= 1
    assert second == 0


def test_prune_concurrently_prunes_once(db_url: str, autocommit_conn: psycopg.Connection) -> None:
    """The second run blocks on the row the first is deleting, then finds nothing to do."""
    archive_old_job(autocommit_conn, -2)
    try:
        first, second = race_behind_lock(
            db_url, autocommit_conn, (Actor.service(), prune), (Actor.service(), prune)
        )
    finally:
        autocommit_conn.execute("delete from pgmq.a_jobs where msg_id = -2")
    assert first >= 1
    assert second == 0


def record_anonymous_action(conn: psycopg.Connection, workspace_id: object, days_ago: int) -> int:
    return conn.execute(
        "insert into private.anonymous_actions (workspace_id, kind, happened_at)"
        " values (%s, 'book', now() - make_interval(days => %s)) returning id",
        [workspace_id, days_ago],
    ).fetchone()[0]


def prune_anonymous(conn: psycopg.Connection) -> int:
    return conn.execute("select private.prune_anonymous_actions()").fetchone()[0]


def test_prune_anonymous_actions_forgets_only_the_day_before_and_once(conn: psycopg.Connection) -> None:
    place = create_booking_workspace(conn)
    old = record_anonymous_action(conn, place.workspace_id, 2)
    recent = record_anonymous_action(conn, place.workspace_id, 0)
    first, second = prune_anonymous(conn), prune_anonymous(conn)
    assert first >= 1
    assert second == 0
    left = {
        row[0]
        for row in conn.execute(
            "select id from private.anonymous_actions where id in (%s, %s)", [old, recent]
        )
    }
    assert left == {recent}


def test_prune_anonymous_actions_concurrently_prunes_once(
    db_url: str, autocommit_conn: psycopg.Connection, committed_place: Callable[..., BookingWorkspace]
) -> None:
    """The second run blocks on the row the first is deleting, then finds nothing to do."""
    place = committed_place()
    record_anonymous_action(autocommit_conn, place.workspace_id, 2)
    first, second = race_behind_lock(
        db_url,
        autocommit_conn,
        (Actor.service(), prune_anonymous),
        (Actor.service(), prune_anonymous),
    )
    assert first >= 1
    assert second == 0


def test_prune_job_is_scheduled_daily(conn: psycopg.Connection, prune_job_every_minute: int) -> None:
    command = conn.execute(
        "select command from cron.job where jobid = %s", [prune_job_every_minute]
    ).fetchone()
    assert command == ("select private.prune_queue_archive()",)


# Runs after the tests above (file order): they need pg_cron not to prune under them.
@pytest.mark.slow
def test_prune_job_runs_under_pg_cron(
    autocommit_conn: psycopg.Connection, prune_job_every_minute: int
) -> None:
    """pg_cron runs the real job (its schedule moved to every minute) and it prunes the old archive."""
    deadline = time.monotonic() + 90
    status = None
    while time.monotonic() < deadline:
        status = autocommit_conn.execute(
            "select status, return_message from cron.job_run_details where jobid = %s and status <> 'running'"
            " order by start_time desc limit 1",
            [prune_job_every_minute],
        ).fetchone()
        if status:
            break
        time.sleep(1)
    assert status is not None
    assert status[0] == "succeeded", status
    left = autocommit_conn.execute(
        "select count(*) from pgmq.a_jobs where msg_id = %s", [PRUNE_PROBE_MSG_ID]
    ).fetchone()[0]
    assert left == 0
