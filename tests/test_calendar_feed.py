"""A practitioner's private calendar feed over HTTP (edge_api GET /calendar/<token>.ics): only
their own confirmed bookings, updated by moves and cancellations, cache headers, and 404 once
the feed is replaced or revoked or the practitioner is deactivated or removed."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import icalendar
import psycopg
import pytest
from fastapi.testclient import TestClient

from tests.booking_support import BookingWorkspace, book, create_booking_workspace, drop_booking_workspace
from tests.edge_api_support import app_for
from tests.support import Actor, create_user, rpc, rpc_error


@pytest.fixture(scope="module")
def client(db_url: str) -> Iterator[TestClient]:
    with TestClient(app_for(db_url)) as test_client:
        yield test_client


@pytest.fixture
def place(autocommit_conn: psycopg.Connection) -> Iterator[BookingWorkspace]:
    made = create_booking_workspace(autocommit_conn, practitioners=2)
    yield made
    autocommit_conn.execute(
        "delete from pgmq.q_jobs where message -> 'payload' ->> 'message_id' in"
        " (select id::text from public.messages where workspace_id = %s)",
        [made.workspace_id],
    )
    drop_booking_workspace(autocommit_conn, made)


def hour(hours: int) -> datetime:
    return (datetime.now(UTC) + timedelta(hours=hours)).replace(minute=0, second=0, microsecond=0)


def new_feed(conn: psycopg.Connection, place: BookingWorkspace, who: int) -> str:
    [(token, _)] = rpc(
        conn, Actor.user(place.users[who]), "create_calendar_feed", p_workspace_id=place.workspace_id
    )
    return str(token)


def events(response: Any) -> dict[str, icalendar.Event]:
    calendar = icalendar.Calendar.from_ical(response.content)
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


def uid(booking: dict[str, Any]) -> str:
    return f"booking-{booking['booking_id']}@careops"


def test_a_feed_shows_its_practitioners_bookings_as_they_change(
    client: TestClient, autocommit_conn: psycopg.Connection, place: BookingWorkspace
) -> None:
    owner_feed = new_feed(autocommit_conn, place, 0)
    staff_feed = new_feed(autocommit_conn, place, 1)
    first = book(autocommit_conn, place, hour(48), p_staff_id=place.practitioners[0], p_name="Ann Lee")
    second = book(autocommit_conn, place, hour(72), p_staff_id=place.practitioners[0], p_name="Bob Roe")
    theirs = book(autocommit_conn, place, hour(48), p_staff_id=place.practitioners[1], p_name="Cy Doe")

    response = client.get(f"/calendar/{owner_feed}.ics")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    assert response.headers["cache-control"] == "private, max-age=300"
    calendar = icalendar.Calendar.from_ical(response.content)
    assert str(calendar["REFRESH-INTERVAL"].to_ical().decode()) == "PT15M"
    seen = events(response)
    assert set(seen) == {uid(first), uid(second)}
    assert seen[uid(first)].decoded("DTSTART") == hour(48)
    assert str(seen[uid(first)]["SUMMARY"]) == "Consultation: Ann Lee"
    assert int(seen[uid(first)]["SEQUENCE"]) == 1
    assert set(events(client.get(f"/calendar/{staff_feed}.ics"))) == {uid(theirs)}

    # Unchanged: 304 for the ETag; a move and a cancellation change it.
    etag = response.headers["etag"]
    assert client.get(f"/calendar/{owner_feed}.ics", headers={"If-None-Match": etag}).status_code == 304
    rpc(
        autocommit_conn,
        Actor.anon(),
        "reschedule_booking",
        p_token=first["manage_token"],
        p_new_starts_at=hour(96),
    )
    rpc(autocommit_conn, Actor.anon(), "cancel_booking", p_token=second["manage_token"])
    response = client.get(f"/calendar/{owner_feed}.ics", headers={"If-None-Match": etag})
    assert response.status_code == 200
    assert response.headers["etag"] != etag
    seen = events(response)
    assert set(seen) == {uid(first)}
    assert (seen[uid(first)].decoded("DTSTART"), int(seen[uid(first)]["SEQUENCE"])) == (hour(96), 2)


def test_a_feed_answers_404_once_replaced_revoked_or_its_practitioner_gone(
    client: TestClient, autocommit_conn: psycopg.Connection, place: BookingWorkspace
) -> None:
    owner, staff = Actor.user(place.users[0]), Actor.user(place.users[1])
    old = new_feed(autocommit_conn, place, 0)
    current = new_feed(autocommit_conn, place, 0)
    assert client.get(f"/calendar/{old}.ics").status_code == 404
    assert client.get(f"/calendar/{current}.ics").status_code == 200
    assert rpc(autocommit_conn, owner, "revoke_calendar_feed", p_workspace_id=place.workspace_id) == [(True,)]
    response = client.get(f"/calendar/{current}.ics")
    assert (response.status_code, response.json()["message"]) == (404, "not_found")
    assert client.get(f"/calendar/{secrets.token_urlsafe(32)}.ics").status_code == 404

    staff_feed = new_feed(autocommit_conn, place, 1)
    autocommit_conn.execute(
        "update public.practitioners set active = false where id = %s", [place.practitioners[1]]
    )
    assert client.get(f"/calendar/{staff_feed}.ics").status_code == 404
    autocommit_conn.execute(
        "update public.practitioners set active = true where id = %s", [place.practitioners[1]]
    )
    assert client.get(f"/calendar/{staff_feed}.ics").status_code == 200
    autocommit_conn.execute(
        "delete from public.workspace_members where workspace_id = %s and user_id = %s",
        [place.workspace_id, place.users[1].id],
    )
    assert client.get(f"/calendar/{staff_feed}.ics").status_code == 404
    assert rpc_error(autocommit_conn, staff, "create_calendar_feed", p_workspace_id=place.workspace_id) == (
        "not_found"
    )


def test_only_practitioners_make_feeds_and_only_the_hash_is_kept(conn: psycopg.Connection) -> None:
    place = create_booking_workspace(conn)
    outsider = create_user(conn)
    assert rpc_error(
        conn, Actor.user(outsider), "create_calendar_feed", p_workspace_id=place.workspace_id
    ) == ("not_found")
    assert (
        rpc_error(conn, Actor.anon(), "create_calendar_feed", p_workspace_id=place.workspace_id) is not None
    )
    token = new_feed(conn, place, 0)
    stored = conn.execute(
        "select token_hash = private.token_hash(%s), token_hash <> convert_to(%s, 'UTF8')"
        " from private.calendar_feeds where practitioner_id = %s",
        [token, token, place.practitioners[0]],
    ).fetchone()
    assert stored == (True, True)
    assert len(token) >= 43
