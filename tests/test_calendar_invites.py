"""Calendar invites (RFC 5545) on booking emails: parsed back with the icalendar library, across
a daylight saving change, through the real Resend SDK and SMTP against local stubs."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlparse
from zoneinfo import ZoneInfo

import icalendar
import psycopg

from tests.booking_support import BookingWorkspace, book, create_booking_workspace
from tests.stubs import ResendStub, SmtpStub
from tests.support import Actor, rpc, send_due_reminders
from worker.handlers.messages import outgoing
from worker.providers import EmailMessage, ResendProvider, SmtpProvider
from worker.settings import Settings

EMAIL_FROM = "CareOps <bookings@careops.test>"
SETTINGS = Settings(database_url="postgresql://u:p@127.0.0.1:1/db", email_from=EMAIL_FROM)  # type: ignore[arg-type]
PARIS = ZoneInfo("Europe/Paris")
# Paris moves from UTC+1 to UTC+2 on Sunday 2027-03-28: 10:00 is 09:00Z before, 08:00Z after.
BEFORE_DST = datetime(2027, 3, 26, 10, 0, tzinfo=PARIS)
AFTER_DST = datetime(2027, 3, 30, 10, 0, tzinfo=PARIS)


def claimed_emails(conn: psycopg.Connection, booking_id: Any) -> list[dict[str, Any]]:
    """Claim the booking's queued emails as the worker does; their claim rows, as dicts."""
    ids = [
        row[0]
        for row in conn.execute(
            "select id from public.messages where booking_id = %s and status = 'queued'"
            " and channel = 'email'",
            [booking_id],
        ).fetchall()
    ]
    cursor = conn.execute(
        "select * from private.claim_message_deliveries(%s::uuid[], interval '60 seconds') where claimed",
        [ids],
    )
    names = [column.name for column in cursor.description or []]
    rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    for row in rows:
        conn.execute("select private.record_delivery(%s, 'sent', 'console')", [row["message_id"]])
    return rows


def only_event(ics: bytes) -> tuple[icalendar.Calendar, icalendar.Event]:
    calendar = icalendar.Calendar.from_ical(ics)
    [event] = calendar.walk("VEVENT")
    return calendar, event


def paris_place(conn: psycopg.Connection) -> BookingWorkspace:
    place = create_booking_workspace(conn, timezone="Europe/Paris", duration=45, interval=15)
    conn.execute(
        "update public.booking_types set location = '1 Rue de la Paix' where id = %s", [place.booking_type_id]
    )
    return place


def test_invites_read_back_as_the_booking_across_a_dst_change_and_replace_each_other(
    conn: psycopg.Connection,
) -> None:
    place = paris_place(conn)
    booked = book(conn, place, BEFORE_DST.astimezone(UTC))
    token = booked["manage_token"]
    [confirmation] = [outgoing(row, SETTINGS) for row in claimed_emails(conn, booked["booking_id"])]
    rpc(conn, Actor.anon(), "reschedule_booking", p_token=token, p_new_starts_at=AFTER_DST.astimezone(UTC))
    [moved] = [outgoing(row, SETTINGS) for row in claimed_emails(conn, booked["booking_id"])]
    rpc(conn, Actor.anon(), "cancel_booking", p_token=token)
    [cancelled] = [outgoing(row, SETTINGS) for row in claimed_emails(conn, booked["booking_id"])]

    parsed = []
    for email in (confirmation, moved, cancelled):
        assert isinstance(email, EmailMessage)
        [attachment] = email.attachments
        parsed.append((attachment, *only_event(attachment.content)))
    practitioner = booked["practitioner_name"]
    for (attachment, calendar, event), method, sequence, starts in (
        (parsed[0], "REQUEST", 1, BEFORE_DST),
        (parsed[1], "REQUEST", 2, AFTER_DST),
        (parsed[2], "CANCEL", 3, AFTER_DST),
    ):
        assert attachment.content_type == f"text/calendar; charset=utf-8; method={method}"
        assert str(calendar["METHOD"]) == method
        assert str(event["UID"]) == f"booking-{booked['booking_id']}@careops"
        assert int(event["SEQUENCE"]) == sequence
        assert event.decoded("DTSTART") == starts.astimezone(UTC)
        assert event.decoded("DTEND") - event.decoded("DTSTART") == (starts.replace(minute=45) - starts)
        assert str(event["STATUS"]) == ("CANCELLED" if method == "CANCEL" else "CONFIRMED")
        assert str(event["ORGANIZER"]) == "mailto:bookings@careops.test"
        assert str(event["LOCATION"]) == "1 Rue de la Paix"
        assert practitioner in str(event["DESCRIPTION"])
        assert f"/manage/{token}" in str(event["DESCRIPTION"])
        assert str(event["ATTENDEE"]).lower().startswith("mailto:pat-")
    # The wall clock the text states is the one the invite holds, on both sides of the change.
    assert "2027-03-26 10:00 (Europe/Paris)" in confirmation.text
    assert parsed[0][2].decoded("DTSTART") == datetime(2027, 3, 26, 9, 0, tzinfo=UTC)
    assert "2027-03-30 10:00 (Europe/Paris)" in moved.text
    assert parsed[1][2].decoded("DTSTART") == datetime(2027, 3, 30, 8, 0, tzinfo=UTC)


def test_booked_and_moved_emails_carry_add_to_calendar_links(conn: psycopg.Connection) -> None:
    place = paris_place(conn)
    booked = book(conn, place, AFTER_DST.astimezone(UTC))
    [email] = [outgoing(row, SETTINGS) for row in claimed_emails(conn, booked["booking_id"])]
    assert isinstance(email, EmailMessage)
    links = {
        line.split(": ", 1)[0]: line.split(": ", 1)[1] for line in email.text.splitlines() if ": http" in line
    }
    google = parse_qs(urlparse(links["Google"]).query)
    assert google["dates"] == ["20270330T080000Z/20270330T084500Z"]
    assert google["location"] == ["1 Rue de la Paix"]
    outlook = parse_qs(urlparse(links["Outlook"]).query)
    assert (outlook["startdt"], outlook["enddt"]) == (["2027-03-30T08:00:00Z"], ["2027-03-30T08:45:00Z"])
    # A cancellation carries its CANCEL invite and no links to add it.
    rpc(conn, Actor.anon(), "cancel_booking", p_token=booked["manage_token"])
    [cancelled] = [outgoing(row, SETTINGS) for row in claimed_emails(conn, booked["booking_id"])]
    assert isinstance(cancelled, EmailMessage)
    assert "Add to your calendar" not in cancelled.text
    assert [attachment.filename for attachment in cancelled.attachments] == ["cancel.ics"]


def test_a_reminder_carries_no_invite(conn: psycopg.Connection) -> None:
    place = paris_place(conn)
    contact_id = conn.execute(
        "insert into public.contacts (workspace_id, name, email) values (%s, 'Ann Lee', 'ann@example.test')"
        " returning id",
        [place.workspace_id],
    ).fetchone()[0]
    booking_id = conn.execute(
        "insert into public.bookings (workspace_id, booking_type_id, practitioner_id, contact_id, starts_at,"
        " ends_at, created_at) values (%s, %s, %s, %s, date_trunc('hour', now()) + interval '5 hours',"
        " date_trunc('hour', now()) + interval '6 hours', now() - interval '3 days') returning id",
        [place.workspace_id, place.booking_type_id, place.practitioners[0], contact_id],
    ).fetchone()[0]
    send_due_reminders(conn)
    rows = {row["idempotency_key"].split(":")[0]: row for row in claimed_emails(conn, booking_id)}
    assert rows["booking_confirmation"]["calendar_event"] is not None
    assert rows["reminder"]["calendar_event"] is None
    reminder = outgoing(rows["reminder"], SETTINGS)
    assert isinstance(reminder, EmailMessage)
    assert reminder.attachments == ()


def invite_email(conn: psycopg.Connection) -> tuple[EmailMessage, str]:
    place = paris_place(conn)
    booked = book(conn, place, BEFORE_DST.astimezone(UTC))
    [email] = [outgoing(row, SETTINGS) for row in claimed_emails(conn, booked["booking_id"])]
    assert isinstance(email, EmailMessage)
    return email, str(booked["booking_id"])


def test_the_invite_goes_through_the_resend_sdk(conn: psycopg.Connection, resend_stub: ResendStub) -> None:
    email, booking_id = invite_email(conn)
    ResendProvider("re_test_key", resend_stub.url, EMAIL_FROM, 2.0).send(email, "message:x")
    [request] = resend_stub.requests
    [attachment] = request.body["attachments"]
    assert (attachment["filename"], attachment["content_type"]) == (
        "invite.ics",
        "text/calendar; charset=utf-8; method=REQUEST",
    )
    _, event = only_event(base64.b64decode(attachment["content"]))
    assert str(event["UID"]) == f"booking-{booking_id}@careops"
    assert event.decoded("DTSTART") == BEFORE_DST.astimezone(UTC)


def test_the_invite_goes_through_the_smtp_fallback(conn: psycopg.Connection, smtp_stub: SmtpStub) -> None:
    email, booking_id = invite_email(conn)
    SmtpProvider("127.0.0.1", smtp_stub.port, EMAIL_FROM, 2.0, security="none").send(email, "message:x")
    [received] = smtp_stub.received
    [part] = [part for part in received.walk() if part.get_content_type() == "text/calendar"]
    assert part.get_param("method") == "REQUEST"
    assert part.get_filename() == "invite.ics"
    _, event = only_event(part.get_payload(decode=True))
    assert str(event["UID"]) == f"booking-{booking_id}@careops"
    assert int(event["SEQUENCE"]) == 1
