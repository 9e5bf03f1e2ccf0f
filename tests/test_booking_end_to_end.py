"""A customer's whole story with `python -m worker` running against the Resend SDK's stub: book,
reschedule twice (across a daylight saving change), cancel. Every email states the time the
booking has, links to the manage page with the booking's token, and carries an invite that
replaces the previous one (same UID, SEQUENCE one higher)."""

from __future__ import annotations

import base64
import signal
import subprocess
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import psycopg
import pytest

from tests.booking_support import BookingWorkspace, book, create_booking_workspace, drop_booking_workspace
from tests.stubs import ResendStub
from tests.support import Actor, rpc
from tests.test_worker_process import eventually, start_worker

PARIS = ZoneInfo("Europe/Paris")
# Booked before Paris moves to summer time (2027-03-28), moved twice after it, then cancelled.
BOOKED = datetime(2027, 3, 26, 10, 0, tzinfo=PARIS)
FIRST_MOVE = datetime(2027, 3, 30, 10, 0, tzinfo=PARIS)
SECOND_MOVE = datetime(2027, 3, 31, 16, 30, tzinfo=PARIS)


@pytest.fixture
def place(autocommit_conn: psycopg.Connection) -> Iterator[BookingWorkspace]:
    made = create_booking_workspace(autocommit_conn, timezone="Europe/Paris", duration=45, interval=15)
    autocommit_conn.execute(
        "update public.booking_types set name = 'Massage', location = '1 Rue de la Paix' where id = %s",
        [made.booking_type_id],
    )
    autocommit_conn.execute(
        "update private.app_settings set value = 'https://app.example.test' where key = 'public_base_url'"
    )
    yield made
    autocommit_conn.execute(
        "delete from pgmq.q_jobs where message -> 'payload' ->> 'message_id' in"
        " (select id::text from public.messages where workspace_id = %s)",
        [made.workspace_id],
    )
    autocommit_conn.execute(
        "update private.app_settings set value = 'http://localhost:3000' where key = 'public_base_url'"
    )
    drop_booking_workspace(autocommit_conn, made)


def emails_to(stub: ResendStub, address: str) -> list[dict[str, Any]]:
    with stub.lock:
        return [body for body in stub.delivered if body["to"] == [address]]


def invite_of(email: dict[str, Any]) -> tuple[str, icalendar.Event]:
    [attachment] = email["attachments"]
    calendar = icalendar.Calendar.from_ical(base64.b64decode(attachment["content"]))
    [event] = calendar.walk("VEVENT")
    return str(calendar["METHOD"]), event


def local(at: datetime) -> str:
    return at.astimezone(PARIS).strftime("%Y-%m-%d %H:%M (Europe/Paris)")


def test_book_reschedule_twice_cancel_with_the_worker_running(
    db_url: str, autocommit_conn: psycopg.Connection, place: BookingWorkspace
) -> None:
    address = f"ann-{uuid.uuid4().hex[:8]}@example.test"
    with ResendStub() as stub:
        worker = start_worker(
            db_url,
            "jobs",
            stdout=subprocess.DEVNULL,
            EMAIL_PROVIDERS="resend",
            RESEND_API_KEY="re_test",
            RESEND_API_URL=stub.url,
            EMAIL_FROM="CareOps <bookings@careops.test>",
        )
        try:
            booked = book(autocommit_conn, place, BOOKED.astimezone(UTC), email=address, p_name="Ann Lee")
            token = booked["manage_token"]
            expected = 2  # the welcome and the confirmation
            eventually(lambda: len(emails_to(stub, address)) >= expected)
            for starts_at in (FIRST_MOVE, SECOND_MOVE):
                rpc(
                    autocommit_conn,
                    Actor.anon(),
                    "reschedule_booking",
                    p_token=token,
                    p_new_starts_at=starts_at.astimezone(UTC),
                )
                expected += 1
                eventually(lambda: len(emails_to(stub, address)) >= expected)  # noqa: B023
            rpc(autocommit_conn, Actor.anon(), "cancel_booking", p_token=token)
            expected += 1
            eventually(lambda: len(emails_to(stub, address)) >= expected)
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=30)
        # The welcome goes with the confirmation, on another thread: in either order.
        emails = [email for email in emails_to(stub, address) if not email["subject"].startswith("Welcome")]

    assert [email["subject"] for email in emails] == [
        f"Your Massage on {local(BOOKED)}",
        f"New time: your Massage on {local(FIRST_MOVE)}",
        f"New time: your Massage on {local(SECOND_MOVE)}",
        f"Cancelled: your Massage on {local(SECOND_MOVE)}",
    ]
    link = f"https://app.example.test/manage/{token}"
    booking_emails = emails
    for email, starts_at in zip(booking_emails[:3], (BOOKED, FIRST_MOVE, SECOND_MOVE), strict=True):
        assert f"{local(starts_at)} (until {local(starts_at + timedelta(minutes=45))})" in email["text"]
        assert f"To cancel or reschedule: {link}\n" in email["text"]
        assert "Add to your calendar:\nGoogle: https://calendar.google.com/" in email["text"]
    assert "has been cancelled" in booking_emails[3]["text"]
    assert "Add to your calendar" not in booking_emails[3]["text"]

    invites = [invite_of(email) for email in booking_emails]
    assert [(method, int(event["SEQUENCE"])) for method, event in invites] == [
        ("REQUEST", 1),
        ("REQUEST", 2),
        ("REQUEST", 3),
        ("CANCEL", 4),
    ]
    assert {str(event["UID"]) for _, event in invites} == {f"booking-{booked['booking_id']}@careops"}
    assert [event.decoded("DTSTART") for _, event in invites] == [
        BOOKED.astimezone(UTC),
        FIRST_MOVE.astimezone(UTC),
        SECOND_MOVE.astimezone(UTC),
        SECOND_MOVE.astimezone(UTC),
    ]
    assert all(link in str(event["DESCRIPTION"]) for _, event in invites)
    assert all(str(event["ORGANIZER"]) == "mailto:bookings@careops.test" for _, event in invites)

    # The manage link still opens the booking, which shows as cancelled; no row keeps the token.
    page = autocommit_conn.execute(
        "select status, starts_at from public.get_booking_by_token(%s)", [token]
    ).fetchone()
    assert page == ("cancelled", SECOND_MOVE.astimezone(UTC))
    rows = autocommit_conn.execute(
        "select template_kind, status, count(*) filter (where body like '%%' || %s || '%%')"
        " from public.messages where booking_id = %s and channel = 'email' group by 1, 2 order by 1",
        [token, booked["booking_id"]],
    ).fetchall()
    assert rows == [
        ("booking_cancelled", "sent", 0),
        ("booking_confirmation", "sent", 0),
        ("booking_rescheduled", "sent", 0),
    ]
