"""What a customer receives after a booking changes: every message states the booking's current
time (messages are written for a revision and skipped once the booking has another), carries
a manage link whose token is rebuilt at delivery, and resuming automation sends the reminder
the pause held back. The worker's side is the claim (private.claim_message_deliveries)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from tests.booking_support import BookingWorkspace, book, create_booking_workspace
from tests.support import (
    Actor,
    queued_jobs,
    race_behind_lock,
    rpc,
    rpc_error,
    send_due_reminders,
    write_events,
)

CLAIM_TIMEOUT = "60 seconds"


def hour(hours: int) -> datetime:
    return (datetime.now(UTC) + timedelta(hours=hours)).replace(minute=0, second=0, microsecond=0)


def local(at: datetime) -> str:
    """How booking messages state a time in a UTC workspace (private.format_local_time)."""
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M (UTC)")


def claim(conn: psycopg.Connection, message_ids: list[Any]) -> list[dict[str, Any]]:
    """The worker's claim of a read batch: what it would send (claimed) and the rest."""
    cursor = conn.execute(
        "select * from private.claim_message_deliveries(%s::uuid[], %s::interval)",
        [message_ids, CLAIM_TIMEOUT],
    )
    names = [column.name for column in cursor.description or []]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def queued(conn: psycopg.Connection, booking_id: Any) -> list[Any]:
    write_events(conn)  # the worker has written what changes asked for
    return [
        row[0]
        for row in conn.execute(
            "select id from public.messages where booking_id = %s and status = 'queued'"
            " order by created_at, id",
            [booking_id],
        ).fetchall()
    ]


def deliver(conn: psycopg.Connection, booking_id: Any) -> list[dict[str, Any]]:
    """Claim every queued message of the booking and record it sent: what went out."""
    sent = [row for row in claim(conn, queued(conn, booking_id)) if row["claimed"]]
    for row in sent:
        conn.execute("select private.record_delivery(%s, 'sent', 'console')", [row["message_id"]])
    return sent


def kinds(conn: psycopg.Connection, booking_id: Any) -> list[tuple[str, str, int, str, str | None]]:
    write_events(conn)  # the worker has written what changes asked for
    return conn.execute(
        "select template_kind, idempotency_key, booking_revision, status, skip_reason from public.messages"
        " where booking_id = %s and channel = 'email' order by created_at, idempotency_key",
        [booking_id],
    ).fetchall()


def reschedule(conn: psycopg.Connection, token: str, starts_at: datetime) -> None:
    rpc(conn, Actor.anon(), "reschedule_booking", p_token=token, p_new_starts_at=starts_at)


def managed(conn: psycopg.Connection, token: str) -> dict[str, Any]:
    cursor = conn.execute("select * from public.get_booking_by_token(%s)", [token])
    names = [column.name for column in cursor.description or []]
    row = cursor.fetchone()
    assert row is not None
    return dict(zip(names, row, strict=True))


# --- §1 a message never states a time the booking no longer has ---------------------------


def test_a_reschedule_racing_the_worker_skips_the_confirmation_of_the_old_time(
    db_url: str, autocommit_conn: psycopg.Connection, committed_place: Callable[..., BookingWorkspace]
) -> None:
    """The reschedule has moved the booking but not committed when the worker claims the
    confirmation: the claim waits for the message row the reschedule skipped, then finds it
    skipped. Without that, the worker sends the old time."""
    place = committed_place()
    first_start, new_start = hour(48), hour(72)
    booked = book(autocommit_conn, place, first_start)
    [confirmation] = autocommit_conn.execute(
        "select id from public.messages where booking_id = %s and template_kind = 'booking_confirmation'",
        [booked["booking_id"]],
    ).fetchall()

    def move(conn: psycopg.Connection) -> Any:
        return conn.execute(
            "select starts_at from public.reschedule_booking(%s, %s)", [booked["manage_token"], new_start]
        ).fetchone()

    def worker(conn: psycopg.Connection) -> list[dict[str, Any]]:
        return claim(conn, [confirmation[0]])

    moved, claimed = race_behind_lock(
        db_url, autocommit_conn, (Actor.anon(), move), (Actor.service(), worker)
    )
    assert moved == (new_start,)
    assert [(row["claimed"], row["status"]) for row in claimed] == [(False, "skipped")]
    assert kinds(autocommit_conn, booked["booking_id"]) == [
        ("booking_confirmation", f"booking_confirmation:{booked['booking_id']}:booked:email", 1, "skipped",
         "booking_changed"),
        ("booking_rescheduled", f"booking_rescheduled:{booked['booking_id']}:r2:email", 2, "queued", None),
    ]  # fmt: skip
    [notice] = [row for row in deliver(autocommit_conn, booked["booking_id"])]
    assert local(new_start) in notice["body"]
    assert local(first_start) not in notice["body"]


def test_moving_there_and_back_sends_a_notice_every_time(conn: psycopg.Connection) -> None:
    place = create_booking_workspace(conn)
    t1, t3 = hour(48), hour(96)
    booked = book(conn, place, t1)
    [confirmation] = [row for row in deliver(conn, booked["booking_id"]) if row["channel"] == "email"]
    assert local(t1) in confirmation["body"]
    for revision, target in enumerate((t3, t1, t3), start=2):
        reschedule(conn, booked["manage_token"], target)
        [notice] = deliver(conn, booked["booking_id"])
        assert notice["idempotency_key"] == f"booking_rescheduled:{booked['booking_id']}:r{revision}:email"
        assert local(target) in notice["subject"]
        assert f"now takes place on {local(target)}" in notice["body"]


def test_moves_before_the_worker_runs_leave_only_the_current_time_to_send(conn: psycopg.Connection) -> None:
    place = create_booking_workspace(conn)
    t1, t2, t3 = hour(48), hour(72), hour(96)
    booked = book(conn, place, t1)
    for target in (t2, t3, t1):
        reschedule(conn, booked["manage_token"], target)
    sent = deliver(conn, booked["booking_id"])
    assert [(row["idempotency_key"], local(t1) in row["body"]) for row in sent] == [
        (f"booking_rescheduled:{booked['booking_id']}:r4:email", True)
    ]
    assert [(kind, status, reason) for kind, _, _, status, reason in kinds(conn, booked["booking_id"])] == [
        ("booking_confirmation", "skipped", "booking_changed"),
        ("booking_rescheduled", "skipped", "booking_changed"),
        ("booking_rescheduled", "skipped", "booking_changed"),
        ("booking_rescheduled", "sent", None),
    ]


def test_a_claim_taken_over_after_the_booking_moved_is_skipped(conn: psycopg.Connection) -> None:
    """A worker died holding the confirmation; the booking moved meanwhile (the move skips only
    queued rows). The next worker's claim does not send the old time."""
    place = create_booking_workspace(conn)
    booked = book(conn, place, hour(48))
    [confirmation] = [row["message_id"] for row in claim(conn, queued(conn, booked["booking_id"]))]
    conn.execute(
        "update public.messages set claimed_at = now() - interval '2 minutes' where id = %s", [confirmation]
    )
    reschedule(conn, booked["manage_token"], hour(72))
    assert [(row["claimed"], row["status"]) for row in claim(conn, [confirmation])] == [(False, "skipped")]
    assert conn.execute(
        "select skip_reason from public.messages where id = %s", [confirmation]
    ).fetchone() == ("booking_changed",)


def due_booking(
    conn: psycopg.Connection, place: BookingWorkspace, starts_in: int = 5, email: str | None = None
) -> Any:
    """A booking made three days ago that starts in a few hours: due for its reminder."""
    contact_id = conn.execute(
        "insert into public.contacts (workspace_id, name, email) values (%s, 'Ann Lee', %s)"
        " on conflict (workspace_id, email) do update set name = excluded.name returning id",
        [place.workspace_id, email or f"ann-{secrets.token_hex(4)}@example.test"],
    ).fetchone()[0]
    booking_id = conn.execute(
        "insert into public.bookings (workspace_id, booking_type_id, practitioner_id, contact_id,"
        " starts_at, ends_at, created_at)"
        " values (%s, %s, %s, %s, %s, %s, now() - interval '3 days') returning id",
        [
            place.workspace_id,
            place.booking_type_id,
            place.practitioners[0],
            contact_id,
            hour(starts_in),
            hour(starts_in) + timedelta(minutes=30),
        ],
    ).fetchone()[0]
    write_events(conn)
    return booking_id


def move(conn: psycopg.Connection, booking_id: Any, starts_at: datetime) -> None:
    conn.execute("select private.reschedule_booking(%s, %s, null)", [booking_id, starts_at])
    write_events(conn)


def test_a_booking_moved_back_to_an_earlier_start_is_reminded_again(conn: psycopg.Connection) -> None:
    place = create_booking_workspace(conn)
    t1, t3 = hour(5), hour(8)
    booking_id = due_booking(conn, place)
    sent_reminders: list[str] = []
    for target in (None, t3, t1):
        if target is not None:
            move(conn, booking_id, target)
        assert send_due_reminders(conn) == 1
        sent = [row for row in deliver(conn, booking_id) if row["idempotency_key"].startswith("reminder:")]
        sent_reminders += [row["body"] for row in sent]
    assert [local(t1) in body for body in sent_reminders] == [True, False, True]
    assert [local(t3) in body for body in sent_reminders] == [False, True, False]


def test_resuming_automation_sends_the_reminder_the_pause_skipped(conn: psycopg.Connection) -> None:
    place = create_booking_workspace(conn)
    owner = Actor.user(place.users[0])
    held, moved, gone = (due_booking(conn, place, hours, "ann@example.test") for hours in (5, 7, 9))
    conn.execute(
        "update public.conversations set automation_paused_until = 'infinity' where workspace_id = %s",
        [place.workspace_id],
    )
    assert send_due_reminders(conn) == 3
    conversation_id = conn.execute(
        "select id from public.conversations where workspace_id = %s", [place.workspace_id]
    ).fetchone()[0]
    # Meanwhile one booking moved (its reminder states the old time) and one was cancelled.
    move(conn, moved, hour(10))
    conn.execute("select private.cancel_booking(%s, null, null)", [gone])
    write_events(conn)
    rpc(conn, owner, "resume_automation", p_conversation_id=conversation_id)

    reminders = conn.execute(
        "select booking_id, status, skip_reason from public.messages where template_kind = 'reminder'"
        " and workspace_id = %s",
        [place.workspace_id],
    ).fetchall()
    assert sorted(reminders, key=lambda row: [held, moved, gone].index(row[0])) == [
        (held, "queued", None),
        (moved, "skipped", "automation_paused"),
        (gone, "skipped", "automation_paused"),
    ]
    [reminder] = conn.execute(
        "select id from public.messages where booking_id = %s and template_kind = 'reminder'", [held]
    ).fetchone()
    jobs = conn.execute(
        "select count(*) from pgmq.q_jobs where message -> 'payload' ->> 'message_id' = %s", [str(reminder)]
    ).fetchone()[0]
    assert jobs == 1
    # The moved booking is due again for its new time; resuming twice sends nothing more.
    assert send_due_reminders(conn) == 1
    rpc(conn, owner, "resume_automation", p_conversation_id=conversation_id)
    assert sorted(row["idempotency_key"] for row in deliver(conn, held)) == [
        f"booking_confirmation:{held}:booked:email",
        f"reminder:{held}:r1:email",
    ]


# --- §2 a manage link in every customer message ----------------------------------------------


def test_every_booking_message_carries_a_manage_link_rebuilt_at_delivery(conn: psycopg.Connection) -> None:
    place = create_booking_workspace(conn)
    conn.execute(
        "update public.communication_settings set sms_enabled = true, sms_from_number = '+33612345678'"
        " where workspace_id = %s",
        [place.workspace_id],
    )
    booked = book(conn, place, hour(48), p_phone="+33611111111")
    token = booked["manage_token"]
    link = f"/manage/{token}"
    sent = deliver(conn, booked["booking_id"])
    reschedule(conn, token, hour(72))
    sent += deliver(conn, booked["booking_id"])
    reminder_booking = due_booking(conn, place)
    send_due_reminders(conn)
    reminder = [
        row for row in deliver(conn, reminder_booking) if row["idempotency_key"].startswith("reminder:")
    ]
    assert sorted((row["idempotency_key"].split(":")[0], row["channel"]) for row in sent) == [
        ("booking_confirmation", "email"),
        ("booking_confirmation", "sms"),
        ("booking_rescheduled", "email"),
        ("booking_rescheduled", "sms"),
    ]
    assert all(link in row["body"] for row in sent)
    reminder_token = conn.execute(
        "select private.derived_token(id, manage_token_nonce) from public.bookings where id = %s",
        [reminder_booking],
    ).fetchone()[0]
    assert [f"/manage/{reminder_token}" in row["body"] for row in reminder] == [True]

    # The token is in no row and no job: the rows keep the link without it.
    leaks = conn.execute(
        "select (select count(*) from public.messages where body like '%%' || %(t)s || '%%'),"
        " (select count(*) from public.messages where booking_id = %(b)s and body like '%%/manage/…%%'),"
        " (select count(*) from public.bookings where manage_token_hash = convert_to(%(t)s, 'UTF8'))",
        {"t": token, "b": booked["booking_id"]},
    ).fetchone()
    assert leaks == (0, 4, 0)
    assert queued_jobs(conn, containing=token) == 0


def test_a_link_from_before_a_reschedule_shows_the_booking_as_it_is(conn: psycopg.Connection) -> None:
    place = create_booking_workspace(conn)
    t1, t2 = hour(48), hour(72)
    booked = book(conn, place, t1)
    [confirmation] = deliver(conn, booked["booking_id"])
    old_link_token = confirmation["body"].split("/manage/")[1].split()[0]
    assert old_link_token == booked["manage_token"]
    page = managed(conn, old_link_token)
    assert (page["status"], page["starts_at"], page["can_change"]) == ("confirmed", t1, True)
    reschedule(conn, old_link_token, t2)
    page = managed(conn, old_link_token)
    assert (page["status"], page["starts_at"], page["can_change"]) == ("confirmed", t2, True)
    assert (page["timezone"], page["workspace_slug"]) == ("UTC", place.slug)
    rpc(conn, Actor.anon(), "cancel_booking", p_token=old_link_token)
    page = managed(conn, old_link_token)
    assert (page["status"], page["starts_at"], page["can_change"]) == ("cancelled", t2, False)
    assert page["cancelled_at"] is not None


def test_the_manage_page_answers_not_found_for_an_unknown_token(conn: psycopg.Connection) -> None:
    for token in ("nope", "", "x" * 500, None):
        assert rpc_error(conn, Actor.anon(), "get_booking_by_token", p_token=token) == "not_found"


def test_a_form_request_written_before_a_move_goes_again_for_the_new_time(conn: psycopg.Connection) -> None:
    place = create_booking_workspace(conn)
    form_id = conn.execute(
        "insert into public.intake_forms (workspace_id, name, fields) values (%s, 'Health questionnaire',"
        ' \'[{"key": "allergies", "type": "text", "label": "Allergies"}]\') returning id',
        [place.workspace_id],
    ).fetchone()[0]
    conn.execute(
        "insert into public.booking_type_forms (workspace_id, booking_type_id, form_id) values (%s, %s, %s)",
        [place.workspace_id, place.booking_type_id, form_id],
    )
    t1, t2, t3 = hour(48), hour(72), hour(96)
    booked = book(conn, place, t1)
    reschedule(conn, booked["manage_token"], t2)
    sent = {row["idempotency_key"]: row["body"] for row in deliver(conn, booked["booking_id"])}
    [key] = [key for key in sent if key.startswith("form_request:")]
    assert key.endswith(":r2:email")
    assert local(t2) in sent[key]
    assert local(t1) not in sent[key]
    token = sent[key].split("/forms/")[1].split()[0]
    assert rpc(conn, Actor.anon(), "get_form", p_token=token)[0][0] == "pending"
    # Once it went, a later move does not send the form again (its link still works).
    reschedule(conn, booked["manage_token"], t3)
    assert [row["idempotency_key"].split(":")[0] for row in deliver(conn, booked["booking_id"])] == [
        "booking_rescheduled"
    ]
    assert rpc(conn, Actor.anon(), "get_form", p_token=token)[0][0] == "pending"
