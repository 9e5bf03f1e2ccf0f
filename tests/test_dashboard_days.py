"""private.dashboard_days: closed days counted once, marked stale by the writes that touch them,
and a dashboard that gives the same numbers with or without them (the live numbers are checked
against an independent computation in tests/test_dashboard_sections.py)."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from zoneinfo import ZoneInfo

import psycopg

from tests.booking_support import create_booking_workspace, drop_booking_workspace
from tests.support import Actor, error_of, race_behind_lock, run_as
from tests.test_dashboard_sections import Seed, seed_workspace


def seeded(seed: int) -> random.Random:
    return random.Random(seed)  # noqa: S311 (reproducible test data)


def fill(conn: psycopg.Connection) -> int:
    return conn.execute("select private.fill_dashboard_days()").fetchone()[0]


def stats(conn: psycopg.Connection, seed: Seed) -> dict:
    owner = Actor.user(seed.place.users[0])
    return run_as(conn, owner, "select public.dashboard_stats(%s)", [seed.place.workspace_id])[0][0]


def live_stats(conn: psycopg.Connection, seed: Seed) -> dict:
    """The same call with every counted day of the workspace set aside: all counted live."""
    with conn.transaction(force_rollback=True):
        conn.execute("delete from private.dashboard_days where workspace_id = %s", [seed.place.workspace_id])
        return stats(conn, seed)


def day_row(conn: psycopg.Connection, workspace_id: uuid.UUID, at: dt.datetime, timezone: str) -> tuple:
    return conn.execute(
        "select stale, marks from private.dashboard_days where workspace_id = %s and local_date = %s",
        [workspace_id, at.astimezone(ZoneInfo(timezone)).date()],
    ).fetchone()


def usable_days(conn: psycopg.Connection, workspace_id: uuid.UUID) -> int:
    return conn.execute(
        "select count(*) from private.dashboard_days where workspace_id = %s and not stale", [workspace_id]
    ).fetchone()[0]


def test_closed_days_are_counted_once_and_give_the_live_numbers(conn: psycopg.Connection) -> None:
    at = conn.execute("select now()").fetchone()[0]
    seed = seed_workspace(conn, "Pacific/Auckland", at, seeded(11))
    live = live_stats(conn, seed)
    assert fill(conn) > 0
    assert usable_days(conn, seed.place.workspace_id) >= 28  # days 3..31 ago (and older ones)
    assert stats(conn, seed) == live
    assert fill(conn) == 0  # nothing left to count: safe to run again


def test_writes_to_a_counted_day_mark_it_and_the_numbers_stay_exact(conn: psycopg.Connection) -> None:
    timezone = "Pacific/Honolulu"
    at = conn.execute("select now()").fetchone()[0]
    seed = seed_workspace(conn, timezone, at, seeded(12))
    workspace_id = seed.place.workspace_id
    fill(conn)
    before = stats(conn, seed)
    outcomes = before["bookings"]["last_30_days"]

    # A visit of a counted day (5 to 25 days ago) gets its outcome late.
    visit = next(
        b
        for b in seed.bookings
        if b["status"] == "completed"
        and at - dt.timedelta(days=25) < b["starts_at"] < at - dt.timedelta(days=5)
    )
    stale, marks = day_row(conn, workspace_id, visit["starts_at"], timezone)
    assert not stale
    conn.execute("update public.bookings set status = 'no_show' where id = %s", [visit["id"]])
    assert day_row(conn, workspace_id, visit["starts_at"], timezone) == (True, marks + 1)
    after = stats(conn, seed)
    assert after["bookings"]["last_30_days"] == outcomes | {
        "completed": outcomes["completed"] - 1,
        "no_show": outcomes["no_show"] + 1,
    }
    assert after == live_stats(conn, seed)

    # A contact imported with its original date, ten days ago.
    imported_at = at - dt.timedelta(days=10)
    conn.execute(
        "insert into public.contacts (workspace_id, name, email, created_at) values (%s, 'Late', %s, %s)",
        [workspace_id, f"late-{uuid.uuid4().hex[:6]}@example.test", imported_at],
    )
    assert day_row(conn, workspace_id, imported_at, timezone)[0] is True
    later = stats(conn, seed)
    assert later["leads"]["new_contacts_30_days"] == before["leads"]["new_contacts_30_days"] + 1
    assert later == live_stats(conn, seed)

    # A form completed on a counted day is deleted with its visit's history.
    completed_at = conn.execute(
        "delete from public.form_submissions where id = ("
        " select id from public.form_submissions where workspace_id = %s"
        " and completed_at < now() - interval '3 days' and completed_at > now() - interval '29 days'"
        " order by completed_at limit 1) returning completed_at",
        [workspace_id],
    ).fetchone()[0]
    assert day_row(conn, workspace_id, completed_at, timezone)[0] is True
    assert stats(conn, seed)["forms"]["completed_30_days"] == before["forms"]["completed_30_days"] - 1

    # Writes to days nobody counts (today, the future) mark nothing.
    marks_before = conn.execute(
        "select sum(marks) from private.dashboard_days where workspace_id = %s", [workspace_id]
    ).fetchone()[0]
    conn.execute(
        "update public.bookings set status = 'cancelled', cancelled_at = now()"
        " where workspace_id = %s and starts_at > now() and status = 'confirmed'",
        [workspace_id],
    )
    assert (
        conn.execute(
            "select sum(marks) from private.dashboard_days where workspace_id = %s", [workspace_id]
        ).fetchone()[0]
        == marks_before
    )

    # The next run counts the marked days again, with the new numbers.
    assert fill(conn) >= 3
    for marked in (visit["starts_at"], imported_at, completed_at):
        assert day_row(conn, workspace_id, marked, timezone)[0] is False
    assert stats(conn, seed) == live_stats(conn, seed)


def test_a_workspace_that_changes_zone_stops_using_days_cut_in_the_old_one(conn: psycopg.Connection) -> None:
    at = conn.execute("select now()").fetchone()[0]
    seed = seed_workspace(conn, "Pacific/Honolulu", at, seeded(13))
    workspace_id = seed.place.workspace_id
    fill(conn)
    conn.execute("update public.workspaces set timezone = 'Pacific/Auckland' where id = %s", [workspace_id])
    assert stats(conn, seed) == live_stats(conn, seed)
    fill(conn)
    assert conn.execute(
        "select array_agg(distinct timezone) from private.dashboard_days where workspace_id = %s",
        [workspace_id],
    ).fetchone()[0] == ["Pacific/Auckland"]
    assert stats(conn, seed) == live_stats(conn, seed)


def refusal(conn: psycopg.Connection, actor: Actor, query: str, params: list) -> str | None:
    error = error_of(conn, actor, query, params)
    return error.diag.message_primary if error else None


def test_members_read_the_days_only_through_the_dashboard(conn: psycopg.Connection) -> None:
    at = conn.execute("select now()").fetchone()[0]
    mine = seed_workspace(conn, "UTC", at, seeded(14))
    other = seed_workspace(conn, "UTC", at, seeded(15))
    fill(conn)
    query = "select distinct workspace_id from private.dashboard_days where workspace_id = any(%s)"
    both = [[mine.place.workspace_id, other.place.workspace_id]]
    for member in mine.place.users[:2]:  # the owner and a staff member
        assert refusal(conn, Actor.user(member), query, both) == "permission denied for table dashboard_days"
        assert refusal(conn, Actor.user(member), "delete from private.dashboard_days", []) == (
            "permission denied for table dashboard_days"
        )
    assert len(run_as(conn, Actor.service(), query, both)) == 2
    assert refusal(conn, Actor.anon(), query, both) == "permission denied for schema private"


def test_a_count_in_flight_never_overwrites_a_concurrent_mark(
    db_url: str, autocommit_conn: psycopg.Connection
) -> None:
    """The schedule counts a day while a write to that day is uncommitted: when the write
    commits, its mark must win, or the day would keep a count that misses the write."""
    place = create_booking_workspace(autocommit_conn, timezone="UTC", practitioners=1)
    try:
        contact_id = autocommit_conn.execute(
            "insert into public.contacts (workspace_id, name, email) values (%s, 'A', %s) returning id",
            [place.workspace_id, f"a-{uuid.uuid4().hex[:6]}@example.test"],
        ).fetchone()[0]
        day = dt.datetime.now(dt.UTC).replace(hour=9, minute=0, second=0, microsecond=0) - dt.timedelta(
            days=6
        )
        visits = [
            autocommit_conn.execute(
                "insert into public.bookings (workspace_id, booking_type_id, practitioner_id, contact_id,"
                " starts_at, ends_at, status) values (%s, %s, %s, %s, %s, %s, 'completed') returning id",
                [
                    place.workspace_id,
                    place.booking_type_id,
                    place.practitioners[0],
                    contact_id,
                    day + dt.timedelta(hours=hour),
                    day + dt.timedelta(hours=hour, minutes=30),
                ],
            ).fetchone()[0]
            for hour in (0, 1)
        ]
        fill(autocommit_conn)
        # The day is stale (one committed write), so the next run wants to count it again.
        autocommit_conn.execute("update public.bookings set status = 'no_show' where id = %s", [visits[0]])

        def second_outcome(conn: psycopg.Connection) -> None:
            conn.execute("update public.bookings set status = 'no_show' where id = %s", [visits[1]])

        def count(conn: psycopg.Connection) -> int:
            return conn.execute("select private.fill_dashboard_days()").fetchone()[0]

        _, written = race_behind_lock(
            db_url, autocommit_conn, (Actor.service(), second_outcome), (Actor.service(), count)
        )
        row = autocommit_conn.execute(
            "select stale, marks, bookings_no_show from private.dashboard_days"
            " where workspace_id = %s and local_date = %s",
            [place.workspace_id, day.date()],
        ).fetchone()
        assert row[0] is True, f"the count taken before the second write overwrote its mark: {row}"
        owner = Actor.user(place.users[0])
        outcomes = run_as(
            autocommit_conn,
            owner,
            "select public.dashboard_stats(%s) -> 'bookings' -> 'last_30_days'",
            [place.workspace_id],
        )[0][0]
        assert (outcomes["no_show"], outcomes["completed"]) == (2, 0)
        assert isinstance(written, int)
        assert count(autocommit_conn) >= 1  # the next run counts it, with both outcomes
        assert autocommit_conn.execute(
            "select stale, bookings_no_show from private.dashboard_days"
            " where workspace_id = %s and local_date = %s",
            [place.workspace_id, day.date()],
        ).fetchone() == (False, 2)
    finally:
        drop_booking_workspace(autocommit_conn, place)


def test_two_runs_at_once_write_each_day_once_with_the_same_counts(
    db_url: str, autocommit_conn: psycopg.Connection
) -> None:
    """The second run waits on the rows the first is writing, then writes the same counts."""
    place = create_booking_workspace(autocommit_conn, timezone="Europe/London", practitioners=1)
    try:
        contact_id = autocommit_conn.execute(
            "insert into public.contacts (workspace_id, name, email, created_at)"
            " values (%s, 'A', %s, now() - interval '9 days') returning id",
            [place.workspace_id, f"a-{uuid.uuid4().hex[:6]}@example.test"],
        ).fetchone()[0]
        autocommit_conn.execute(
            "insert into public.bookings (workspace_id, booking_type_id, practitioner_id, contact_id,"
            " starts_at, ends_at, status)"
            " select %s, %s, %s, %s, d, d + interval '30 minutes', 'completed'"
            " from generate_series(date_trunc('hour', now()) - interval '20 days',"
            " now() - interval '4 days', interval '1 day') as d",
            [place.workspace_id, place.booking_type_id, place.practitioners[0], contact_id],
        )

        def count(conn: psycopg.Connection) -> int:
            return conn.execute("select private.fill_dashboard_days()").fetchone()[0]

        first, second = race_behind_lock(
            db_url, autocommit_conn, (Actor.service(), count), (Actor.service(), count)
        )
        assert first > 0
        assert isinstance(second, int)
        rows = autocommit_conn.execute(
            "select local_date, stale, bookings_completed, contacts_created from private.dashboard_days"
            " where workspace_id = %s order by local_date",
            [place.workspace_id],
        ).fetchall()
        assert len(rows) >= 28
        assert sum(row[2] for row in rows) == 17  # 20 days ago .. 4 days ago, one a day
        assert sum(row[3] for row in rows) == 1
        assert not any(row[1] for row in rows)
    finally:
        drop_booking_workspace(autocommit_conn, place)
