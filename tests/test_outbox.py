"""The outbox (issue #21 §1): a booking change writes its rows and one message_events job; the
worker writes the messages in batches through private.write_event_messages, once per
(booking, revision, kind), in any order, and a bad event holds up only itself."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb

import worker.handlers  # noqa: F401 (registers the handlers at collection, before a test swaps the registry)
from tests.booking_support import BookingWorkspace, create_booking_workspace
from tests.support import Actor, fire_deferred_triggers, run_as, write_events
from worker import registry
from worker.loop import run
from worker.settings import Settings


def hour(hours: int) -> datetime:
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    return now + timedelta(hours=hours)


def book_only(
    conn: psycopg.Connection, place: BookingWorkspace, starts_at: datetime, email: str
) -> dict[str, Any]:
    """book_appointment as the booking page calls it, and nothing after: the worker has not run."""
    row = run_as(
        conn,
        Actor.anon(),
        "select booking_id, manage_token from public.book_appointment("
        "p_workspace_slug => %s, p_booking_type_id => %s, p_starts_at => %s,"
        " p_name => 'Ann Lee', p_email => %s)",
        [place.slug, place.booking_type_id, starts_at, email],
    )[0]
    return {"booking_id": row[0], "manage_token": row[1]}


def event_jobs(conn: psycopg.Connection) -> list[dict[str, Any]]:
    """The events of the message_events jobs on the queue, in order."""
    fire_deferred_triggers(conn)
    rows = conn.execute(
        "select message -> 'payload' -> 'events' from pgmq.q_events order by msg_id"
    ).fetchall()
    return [event for (events,) in rows for event in events]


def take_events(conn: psycopg.Connection) -> list[dict[str, Any]]:
    """The queued events, removed from the queue (as the worker reads them), not yet written."""
    events = event_jobs(conn)
    conn.execute("delete from pgmq.q_events")
    return events


def write(conn: psycopg.Connection, events: list[dict[str, Any]]) -> int:
    return conn.execute("select private.write_event_messages(%s)", [Jsonb(events)]).fetchone()[0]


def messages_of(
    conn: psycopg.Connection, booking_id: Any
) -> list[tuple[str, str, int | None, str, str | None]]:
    return conn.execute(
        "select template_kind, channel, booking_revision, status, skip_reason from public.messages"
        " where booking_id = %s order by template_kind, channel, booking_revision, status",
        [booking_id],
    ).fetchall()


def counts(conn: psycopg.Connection, workspace_id: Any) -> tuple[int, int, int, int]:
    return conn.execute(
        "select (select count(*) from public.messages where workspace_id = %(w)s),"
        " (select count(*) from public.form_submissions where workspace_id = %(w)s),"
        " (select count(*) from public.conversations where workspace_id = %(w)s),"
        " (select count(*) from pgmq.q_events) + (select count(*) from pgmq.q_jobs)",
        {"w": workspace_id},
    ).fetchone()


def attach_form(conn: psycopg.Connection, place: BookingWorkspace) -> None:
    form_id = conn.execute(
        "insert into public.intake_forms (workspace_id, name, fields) values (%s, 'Health questionnaire',"
        ' \'[{"key": "allergies", "type": "text", "label": "Allergies"}]\') returning id',
        [place.workspace_id],
    ).fetchone()[0]
    conn.execute(
        "insert into public.booking_type_forms (workspace_id, booking_type_id, form_id) values (%s, %s, %s)",
        [place.workspace_id, place.booking_type_id, form_id],
    )


def test_a_booking_writes_its_rows_and_one_event_job_and_no_message(conn: psycopg.Connection) -> None:
    place = create_booking_workspace(conn)
    attach_form(conn, place)
    conn.execute("delete from pgmq.q_events; delete from pgmq.q_jobs")
    booked = book_only(conn, place, hour(48), "ann@example.test")
    # The new contact is welcomed by the booking's event: one job for the whole transaction.
    assert event_jobs(conn) == [{"kind": "booked", "booking_id": str(booked["booking_id"]), "revision": 1}]
    assert counts(conn, place.workspace_id) == (0, 0, 0, 1)

    assert write_events(conn) == 3  # welcome, confirmation, form request (SMS is off)
    assert messages_of(conn, booked["booking_id"]) == [
        ("booking_confirmation", "email", 1, "queued", None),
        ("form_request", "email", 1, "queued", None),
    ]
    welcome = conn.execute(
        "select count(*) from public.messages where workspace_id = %s and template_kind = 'welcome'",
        [place.workspace_id],
    ).fetchone()[0]
    assert welcome == 1


def test_replaying_a_batch_writes_nothing(conn: psycopg.Connection) -> None:
    place = create_booking_workspace(conn)
    conn.execute("delete from pgmq.q_events; delete from pgmq.q_jobs")
    attach_form(conn, place)
    booked = book_only(conn, place, hour(48), "ann@example.test")
    run_as(
        conn,
        Actor.anon(),
        "select * from public.reschedule_booking(%s, %s)",
        [booked["manage_token"], hour(72)],
    )
    events = take_events(conn)
    assert [event["kind"] for event in events] == ["booked", "rescheduled"]
    assert write(conn, events) > 0
    before = counts(conn, place.workspace_id)
    assert write(conn, events) == 0
    assert write(conn, events[::-1]) == 0
    assert counts(conn, place.workspace_id) == before


def outcome(conn: psycopg.Connection, booking_id: Any) -> list[tuple[str, str, int | None, str, str | None]]:
    return messages_of(conn, booking_id)


@pytest.mark.parametrize("change", ["reschedule", "cancel"])
def test_events_handled_in_any_order_leave_the_same_messages(conn: psycopg.Connection, change: str) -> None:
    """Two workers may take a booking's events in either order: the result is the same."""
    place = create_booking_workspace(conn)
    conn.execute("delete from pgmq.q_events; delete from pgmq.q_jobs")
    attach_form(conn, place)
    booked = book_only(conn, place, hour(48), "ann@example.test")
    if change == "reschedule":
        call = "select * from public.reschedule_booking(%s, %s)"
        run_as(conn, Actor.anon(), call, [booked["manage_token"], hour(72)])
    else:
        run_as(conn, Actor.anon(), "select * from public.cancel_booking(%s)", [booked["manage_token"]])
    events = take_events(conn)
    assert len(events) == 2

    conn.execute("savepoint in_order")
    write(conn, events)
    in_order = outcome(conn, booked["booking_id"])
    forms_in_order = conn.execute(
        "select count(*) from public.form_submissions where booking_id = %s", [booked["booking_id"]]
    ).fetchone()[0]
    conn.execute("rollback to savepoint in_order")
    for event in events[::-1]:
        write(conn, [event])
    assert outcome(conn, booked["booking_id"]) == in_order
    forms_reversed = conn.execute(
        "select count(*) from public.form_submissions where booking_id = %s", [booked["booking_id"]]
    ).fetchone()[0]
    assert forms_reversed == forms_in_order
    if change == "reschedule":
        # The confirmation stated the old time: skipped; the notice and the form request (the
        # current time) go.
        assert in_order == [
            ("booking_confirmation", "email", 1, "skipped", "booking_changed"),
            ("booking_rescheduled", "email", 2, "queued", None),
            ("form_request", "email", 2, "queued", None),
        ]
    else:
        # Cancelled before its confirmation was written: none goes, no form is asked for; the
        # cancellation notice goes.
        assert forms_in_order == 0
        assert in_order == [
            ("booking_cancelled", "email", 2, "queued", None),
            ("booking_confirmation", "email", 1, "skipped", "booking_cancelled"),
        ]


def test_a_contact_created_alone_gets_its_own_event(conn: psycopg.Connection) -> None:
    place = create_booking_workspace(conn)
    conn.execute("delete from pgmq.q_events; delete from pgmq.q_jobs")
    contact_id = conn.execute(
        "insert into public.contacts (workspace_id, name, email) values (%s, 'Bo Ng', 'bo@example.test')"
        " returning id",
        [place.workspace_id],
    ).fetchone()[0]
    conn.execute(
        "insert into public.contacts (workspace_id, name, phone, source)"
        " values (%s, 'Texter', '+447700900555', 'inbound')",
        [place.workspace_id],
    )
    assert event_jobs(conn) == [{"kind": "contact_created", "contact_id": str(contact_id)}]
    write_events(conn)
    welcome = conn.execute(
        "select channel, status from public.messages where workspace_id = %s and template_kind = 'welcome'"
        " order by channel",
        [place.workspace_id],
    ).fetchall()
    assert welcome == [("email", "queued")]  # SMS is off


def test_a_malformed_event_job_is_refused_and_writes_nothing(conn: psycopg.Connection) -> None:
    with pytest.raises(psycopg.errors.InvalidParameterValue):
        write(conn, {"kind": "booked"})  # type: ignore[arg-type]


# --- the real worker ---------------------------------------------------------------------------


def move_event_jobs(conn: psycopg.Connection, queue: str, booking_ids: list[Any]) -> list[int]:
    """The bookings' message_events jobs, moved from the events queue to the test's queue."""
    rows = conn.execute(
        "delete from pgmq.q_events"
        " where message -> 'payload' -> 'events' -> 0 ->> 'booking_id' = any(%s::text[])"
        " returning message",
        [[str(booking_id) for booking_id in booking_ids]],
    ).fetchall()
    return [
        conn.execute("select pgmq.send(%s, %s::jsonb)", [queue, json.dumps(message)]).fetchone()[0]
        for (message,) in rows
    ]


def worker_settings(db_url: str, queue: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": db_url,
        "queue_name": queue,
        "event_queue_name": queue,
        "worker_poll_seconds": 1,
        "worker_concurrency": 2,
        "worker_batch_size": 10,
        "worker_retry_base_seconds": 100,
        **overrides,
    }
    return Settings(**values)


@pytest.fixture
def poison(autocommit_conn: psycopg.Connection) -> Iterator[Callable[[Any], None]]:
    """Makes writing any message about one booking fail (a rendering error, say) until removed."""
    autocommit_conn.execute("create table if not exists public.test_poisoned_bookings (booking_id uuid)")
    autocommit_conn.execute(
        "create or replace function public.test_refuse_poisoned() returns trigger language plpgsql as $$"
        " begin if exists (select 1 from public.test_poisoned_bookings as p"
        " where p.booking_id = new.booking_id)"
        " then raise exception 'cannot render this message'; end if; return new; end $$"
    )
    autocommit_conn.execute(
        "create trigger test_refuse_poisoned before insert on public.messages"
        " for each row execute function public.test_refuse_poisoned()"
    )

    def add(booking_id: Any) -> None:
        autocommit_conn.execute("insert into public.test_poisoned_bookings values (%s)", [booking_id])

    yield add
    autocommit_conn.execute("drop trigger test_refuse_poisoned on public.messages")
    autocommit_conn.execute("drop function public.test_refuse_poisoned()")
    autocommit_conn.execute("drop table public.test_poisoned_bookings")


def test_a_bad_event_holds_up_only_itself_then_retries_and_alerts(
    db_url: str,
    autocommit_conn: psycopg.Connection,
    queue: str,
    committed_place: Callable[..., BookingWorkspace],
    poison: Callable[[Any], None],
) -> None:
    place = committed_place()
    good = book_only(autocommit_conn, place, hour(48), "good@example.test")
    bad = book_only(autocommit_conn, place, hour(50), "bad@example.test")
    poison(bad["booking_id"])
    good_job, bad_job = move_event_jobs(autocommit_conn, queue, [good["booking_id"], bad["booking_id"]])

    # One read batch: written together fails, so each job writes its own; the good one goes.
    totals = run(worker_settings(db_url, queue), threading.Event(), burst=True)
    assert (totals.done, totals.retried) == (1, 1)
    assert ("booking_confirmation", "email", 1, "queued", None) in messages_of(
        autocommit_conn, good["booking_id"]
    )
    assert messages_of(autocommit_conn, bad["booking_id"]) == []
    archived = {row[0] for row in autocommit_conn.execute(f"select msg_id from pgmq.a_{queue}").fetchall()}
    assert archived == {good_job}

    # Only the retry can succeed: the cause is gone by then.
    autocommit_conn.execute("delete from public.test_poisoned_bookings")
    autocommit_conn.execute(f"update pgmq.q_{queue} set vt = now()")
    totals = run(worker_settings(db_url, queue), threading.Event(), burst=True)
    assert totals.done == 1
    assert ("booking_confirmation", "email", 1, "queued", None) in messages_of(
        autocommit_conn, bad["booking_id"]
    )
    assert bad_job in {
        row[0] for row in autocommit_conn.execute(f"select msg_id from pgmq.a_{queue}").fetchall()
    }


def test_a_booking_s_messages_are_written_while_the_jobs_queue_is_busy(
    db_url: str,
    autocommit_conn: psycopg.Connection,
    queue: str,
    committed_place: Callable[..., BookingWorkspace],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The events have a queue (private.job_queue) and a loop of their own: a booking's
    messages are written while the jobs queue still holds a backlog, not after it."""
    slow_jobs = 12
    handlers = dict(registry._handlers)
    handlers["test_slow"] = lambda job: time.sleep(0.2)
    monkeypatch.setattr(registry, "_handlers", handlers)
    for n in range(slow_jobs):
        autocommit_conn.execute(
            "select pgmq.send(%s, %s::jsonb)", [queue, json.dumps({"kind": "test_slow", "payload": {"n": n}})]
        )
    place = committed_place()
    stop = threading.Event()
    settings = worker_settings(
        db_url, queue, event_queue_name="events", worker_concurrency=1, worker_batch_size=2
    )
    worker = threading.Thread(target=run, args=[settings, stop])
    worker.start()
    try:
        booked = book_only(autocommit_conn, place, hour(48), "busy@example.test")
        deadline = time.monotonic() + 20
        while not messages_of(autocommit_conn, booked["booking_id"]) and time.monotonic() < deadline:
            time.sleep(0.01)
        still_queued = autocommit_conn.execute(f"select count(*) from pgmq.q_{queue}").fetchone()[0]
    finally:
        stop.set()
        worker.join()
    assert ("booking_confirmation", "email", 1, "queued", None) in messages_of(
        autocommit_conn, booked["booking_id"]
    )
    # One loop for both would have read the event only once the backlog fell to its read-ahead (3).
    assert still_queued >= slow_jobs // 2


def test_an_event_that_never_writes_is_archived_with_an_alert(
    db_url: str,
    autocommit_conn: psycopg.Connection,
    queue: str,
    committed_place: Callable[..., BookingWorkspace],
    poison: Callable[[Any], None],
) -> None:
    place = committed_place()
    bad = book_only(autocommit_conn, place, hour(50), "bad@example.test")
    poison(bad["booking_id"])
    [bad_job] = move_event_jobs(autocommit_conn, queue, [bad["booking_id"]])
    totals = run(worker_settings(db_url, queue, worker_max_attempts=1), threading.Event(), burst=True)
    assert totals.failed == 1
    alert = autocommit_conn.execute(
        "select severity, text from public.alerts where kind = 'malformed_job' and subject_id = md5(%s)::uuid"
        " and resolved_at is null",
        [f"{queue}:{bad_job}"],
    ).fetchone()
    assert alert is not None
    assert alert[0] == "critical"
    assert "messages not written" in alert[1]
    assert "cannot render this message" in alert[1]
    autocommit_conn.execute(
        "delete from public.alerts where kind = 'malformed_job' and text like %s", [f"%{queue}%"]
    )


def test_the_reminder_tick_hands_due_bookings_to_the_worker_in_jobs_of_100(conn: psycopg.Connection) -> None:
    place = create_booking_workspace(conn, practitioners=3)
    # One contact per booking: the per-recipient caps would skip most reminders to one address.
    contacts = [
        row[0]
        for row in conn.execute(
            "insert into public.contacts (workspace_id, name, email)"
            " select %s, 'Patient ' || n, 'patient-' || n || '@example.test'"
            " from generate_series(0, 149) as n"
            " returning id",
            [place.workspace_id],
        ).fetchall()
    ]
    conn.execute(
        "insert into public.bookings (workspace_id, booking_type_id, practitioner_id, contact_id, starts_at,"
        " ends_at, created_at)"
        " select %(w)s, %(t)s, (%(p)s::uuid[])[1 + n %% 3], (%(c)s::uuid[])[1 + n], s,"
        "   s + interval '30 minutes', now() - interval '3 days'"
        " from generate_series(0, 149) as n,"
        " lateral (select date_trunc('hour', now()) + interval '2 hours' + (n / 3) * interval '30 minutes')"
        " as t (s)",
        {"w": place.workspace_id, "t": place.booking_type_id, "p": place.practitioners, "c": contacts},
    )
    write_events(conn)
    conn.execute("delete from pgmq.q_events; delete from pgmq.q_jobs")
    reminded = conn.execute("select private.send_due_reminders()").fetchone()[0]
    jobs = conn.execute(
        "select jsonb_array_length(message -> 'payload' -> 'events') from pgmq.q_events order by msg_id"
    ).fetchall()
    due = conn.execute(
        "select count(*) from public.bookings"
        " where workspace_id = %s and starts_at <= now() + interval '24 hours'",
        [place.workspace_id],
    ).fetchone()[0]
    assert reminded == due
    assert sorted(size for (size,) in jobs) == sorted([100, due - 100])
    written = conn.execute(
        "select count(*) from public.messages where workspace_id = %s and template_kind = 'reminder'",
        [place.workspace_id],
    ).fetchone()[0]
    assert written == 0  # the tick writes no message
    write_events(conn)
    written = conn.execute(
        "select count(*) from public.messages where workspace_id = %s and template_kind = 'reminder'"
        " and channel = 'email' and status = 'queued'",
        [place.workspace_id],
    ).fetchone()[0]
    assert written == due
