"""What a booking sets off, as the public booking page and PostgREST cause it, and the
scheduled functions run twice and concurrently on real connections."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from tests.booking_support import BookingWorkspace, book, create_booking_workspace
from tests.support import Actor, race_behind_lock, rpc, rpc_error, write_events

FORM_FIELDS = (
    '[{"key": "allergies", "type": "text", "label": "Allergies", "required": true},'
    ' {"key": "skin", "type": "choice", "label": "Skin type", "options": ["Dry", "Oily"]}]'
)


def attach_form(conn: psycopg.Connection, place: BookingWorkspace, name: str = "Health questionnaire") -> Any:
    form_id = conn.execute(
        "insert into public.intake_forms (workspace_id, name, fields) values (%s, %s, %s) returning id",
        [place.workspace_id, name, FORM_FIELDS],
    ).fetchone()[0]
    conn.execute(
        "insert into public.booking_type_forms (workspace_id, booking_type_id, form_id) values (%s, %s, %s)",
        [place.workspace_id, place.booking_type_id, form_id],
    )
    return form_id


def enable_sms(conn: psycopg.Connection, place: BookingWorkspace) -> None:
    conn.execute(
        "update public.communication_settings set sms_enabled = true, sms_from_number = '+33612345678'"
        " where workspace_id = %s",
        [place.workspace_id],
    )


def next_start(hours: int = 48) -> datetime:
    return (datetime.now(UTC) + timedelta(hours=hours)).replace(minute=0, second=0, microsecond=0)


def test_book_appointment_queues_its_messages_in_the_same_transaction(conn: psycopg.Connection) -> None:
    place = create_booking_workspace(conn)
    enable_sms(conn, place)
    attach_form(conn, place)
    booked = book(
        conn, place, next_start(), email="ann@example.test", p_name="Ann Lee", p_phone="+33611111111"
    )

    # Still inside the booking's transaction (nothing committed): the rows and the jobs are there.
    messages = conn.execute(
        "select m.id, m.template_kind, m.channel, m.status, m.recipient from public.messages m"
        " where m.workspace_id = %s order by m.template_kind, m.channel",
        [place.workspace_id],
    ).fetchall()
    assert [(kind, channel, status, to) for _, kind, channel, status, to in messages] == [
        ("booking_confirmation", "email", "queued", "ann@example.test"),
        ("booking_confirmation", "sms", "queued", "+33611111111"),
        ("form_request", "email", "queued", "ann@example.test"),
        ("form_request", "sms", "queued", "+33611111111"),
        ("welcome", "email", "queued", "ann@example.test"),
        ("welcome", "sms", "queued", "+33611111111"),
    ]
    jobs = conn.execute("select message from pgmq.read('jobs', 0, 1000)").fetchall()
    queued_ids = {str(message_id) for message_id, *_ in messages}
    ours = [job for (job,) in jobs if job["payload"].get("message_id") in queued_ids]
    assert sorted(job["payload"]["message_id"] for job in ours) == sorted(queued_ids)
    assert all(
        job == {"kind": "deliver_message", "payload": {"message_id": job["payload"]["message_id"]}}
        for job in ours
    )

    conversations = conn.execute(
        "select c.contact_id, c.last_message_at is not null from public.conversations c"
        " where c.workspace_id = %s",
        [place.workspace_id],
    ).fetchall()
    assert len(conversations) == 1
    assert conversations[0][1]
    submission = conn.execute(
        "select s.status, s.booking_id from public.form_submissions s where s.workspace_id = %s",
        [place.workspace_id],
    ).fetchall()
    assert submission == [("pending", booked["booking_id"])]


def test_a_second_booking_by_the_same_contact_reuses_the_conversation(conn: psycopg.Connection) -> None:
    place = create_booking_workspace(conn)
    book(conn, place, next_start(48), email="ann@example.test")
    book(conn, place, next_start(72), email="ann@example.test")
    counts = conn.execute(
        "select (select count(*) from public.conversations where workspace_id = %(ws)s),"
        " (select count(*) from public.messages where workspace_id = %(ws)s and template_kind = 'welcome'),"
        " (select count(*) from public.messages where workspace_id = %(ws)s"
        "   and template_kind = 'booking_confirmation')",
        {"ws": place.workspace_id},
    ).fetchone()
    assert counts == (1, 1, 2)


def form_token(conn: psycopg.Connection, place: BookingWorkspace) -> str:
    """The fill-in token as the email carries it: the stored request has '/forms/…', the claim
    (what the worker sends) has the token."""
    body = conn.execute(
        "select c.body from public.messages as m"
        " cross join lateral private.claim_message_deliveries(array[m.id], interval '1 minute') as c"
        " where m.workspace_id = %s and m.template_kind = 'form_request' and m.channel = 'email'",
        [place.workspace_id],
    ).fetchone()[0]
    match = re.search(r"/forms/([A-Za-z0-9_-]+)", body)
    assert match, body
    return match.group(1)


def test_the_customer_fills_in_the_form_from_the_link(conn: psycopg.Connection) -> None:
    place = create_booking_workspace(conn)
    attach_form(conn, place)
    book(conn, place, next_start(), email="ann@example.test", p_name="Ann Lee")
    token = form_token(conn, place)
    anon = Actor.anon()

    form = rpc(conn, anon, "get_form", p_token=token)
    assert [(row[0], row[1], row[5]) for row in form] == [("pending", "Health questionnaire", "Ann Lee")]
    assert rpc_error(conn, anon, "submit_form", p_token=token, p_answers='{"skin": "Dry"}') == (
        "missing_required_answer"
    )
    assert rpc_error(
        conn, anon, "submit_form", p_token=token, p_answers='{"allergies": "x", "skin": "Wet"}'
    ) == ("invalid_answer_choice")
    assert (
        rpc(conn, anon, "submit_form", p_token=token, p_answers='{"allergies": "Pollen"}')[0][0]
        == "completed"
    )
    assert rpc_error(conn, anon, "submit_form", p_token=token, p_answers='{"allergies": "x"}') == (
        "form_already_submitted"
    )
    assert rpc_error(conn, anon, "get_form", p_token=token + "x") == "form_not_found"


# --- schedules on real connections ---------------------------------------------------------


def run_sweep(function: str) -> Callable[[psycopg.Connection], Any]:
    def call(conn: psycopg.Connection) -> Any:
        return conn.execute(f"select private.{function}()").fetchone()[0]

    return call


def insert_due_booking(conn: psycopg.Connection, place: BookingWorkspace) -> Any:
    """A booking made three days ago that starts in five hours: due for its reminder."""
    contact_id = conn.execute(
        "insert into public.contacts (workspace_id, name, email) values (%s, 'Ann Lee', %s) returning id",
        [place.workspace_id, f"ann-{place.slug}@example.test"],
    ).fetchone()[0]
    booking_id = conn.execute(
        "insert into public.bookings (workspace_id, booking_type_id, practitioner_id, contact_id,"
        " starts_at, ends_at, created_at)"
        " values (%s, %s, %s, %s, now() + interval '5 hours', now() + interval '5 hours 30 minutes',"
        " now() - interval '3 days') returning id",
        [place.workspace_id, place.booking_type_id, place.practitioners[0], contact_id],
    ).fetchone()[0]
    write_events(conn)
    return booking_id


def reminders_of(conn: psycopg.Connection, booking_id: Any) -> list[tuple[str, str]]:
    write_events(conn)  # the worker has written what the sweep handed it
    return conn.execute(
        "select channel, status from public.messages where booking_id = %s and template_kind = 'reminder'"
        " order by channel",
        [booking_id],
    ).fetchall()


def test_reminder_sweep_twice_in_a_row_reminds_once(conn: psycopg.Connection) -> None:
    place = create_booking_workspace(conn)
    booking_id = insert_due_booking(conn, place)
    first = run_sweep("send_due_reminders")(conn)
    second = run_sweep("send_due_reminders")(conn)
    assert first >= 1
    assert second == 0
    assert reminders_of(conn, booking_id) == [("email", "queued")]  # SMS is off


def test_reminder_sweeps_racing_remind_once(
    db_url: str, autocommit_conn: psycopg.Connection, committed_place: Callable[..., BookingWorkspace]
) -> None:
    """The second sweep waits on the bookings the first has locked, then finds them reminded."""
    place = committed_place()
    enable_sms(autocommit_conn, place)
    booking_id = insert_due_booking(autocommit_conn, place)
    sweep = run_sweep("send_due_reminders")
    first, second = race_behind_lock(
        db_url, autocommit_conn, (Actor.service(), sweep), (Actor.service(), sweep)
    )
    assert first >= 1
    assert second == 0
    # One per channel: the contact has no phone, so the SMS is recorded as skipped.
    assert reminders_of(autocommit_conn, booking_id) == [("email", "queued"), ("sms", "skipped")]


def test_overdue_sweeps_racing_mark_once(
    db_url: str, autocommit_conn: psycopg.Connection, committed_place: Callable[..., BookingWorkspace]
) -> None:
    place = committed_place()
    attach_form(autocommit_conn, place)
    booking_id = insert_due_booking(autocommit_conn, place)
    autocommit_conn.execute(
        "update public.form_submissions set sent_at = now() - interval '49 hours' where booking_id = %s",
        [booking_id],
    )
    sweep = run_sweep("mark_overdue_forms")
    first, second = race_behind_lock(
        db_url, autocommit_conn, (Actor.service(), sweep), (Actor.service(), sweep)
    )
    assert first >= 1
    assert second == 0
    alerts = autocommit_conn.execute(
        "select count(*) from public.alerts where workspace_id = %s and kind = 'form_overdue'",
        [place.workspace_id],
    ).fetchone()[0]
    assert alerts == 1
    assert run_sweep("mark_overdue_forms")(autocommit_conn) == 0


def test_low_stock_checks_racing_alert_and_notify_once(
    db_url: str, autocommit_conn: psycopg.Connection, committed_place: Callable[..., BookingWorkspace]
) -> None:
    """The second check waits on the open-alert index the first is inserting into, then finds it."""
    place = committed_place()
    autocommit_conn.execute(
        "insert into public.inventory_items (workspace_id, name, quantity, low_stock_threshold)"
        " values (%s, 'Gloves', 1, 5)",
        [place.workspace_id],
    )
    check = run_sweep("check_low_stock")
    first, second = race_behind_lock(
        db_url, autocommit_conn, (Actor.service(), check), (Actor.service(), check)
    )
    assert first["raised"] >= 1
    assert second["raised"] == 0
    counts = autocommit_conn.execute(
        "select (select count(*) from public.alerts where workspace_id = %(ws)s and kind = 'low_stock'),"
        " (select count(*) from public.messages where workspace_id = %(ws)s and template_kind = 'low_stock')",
        {"ws": place.workspace_id},
    ).fetchone()
    assert counts == (1, 1)  # one alert, one notice to the one owner
    again = run_sweep("check_low_stock")(autocommit_conn)
    assert again["raised"] == 0
