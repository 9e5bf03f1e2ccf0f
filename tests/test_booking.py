"""Public booking as the booking page calls it (anon, named arguments), and the staff path."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from tests.booking_support import BookingWorkspace, book, create_booking_workspace, table_counts
from tests.support import Actor, create_user, race_behind_lock, rpc, rpc_error


def day_after_tomorrow(hour: int = 10, minute: int = 0) -> datetime:
    now = datetime.now(UTC)
    return now.replace(hour=hour, minute=minute, second=0, microsecond=0) + timedelta(days=2)


def anon_error(conn: psycopg.Connection, function: str, **params: Any) -> str | None:
    return rpc_error(conn, Actor.anon(), function, **params)


def book_error(conn: psycopg.Connection, place: BookingWorkspace, starts_at: Any, **extra: Any) -> str | None:
    params: dict[str, Any] = {
        "p_workspace_slug": place.slug,
        "p_booking_type_id": place.booking_type_id,
        "p_starts_at": starts_at,
        "p_name": "Pat",
        "p_email": "pat@example.test",
    }
    params.update(extra)
    return anon_error(conn, "book_appointment", **params)


def slots(
    conn: psycopg.Connection, place: BookingWorkspace, first: Any, last: Any, **extra: Any
) -> list[tuple]:
    return rpc(
        conn,
        Actor.anon(),
        "get_available_slots",
        p_workspace_slug=place.slug,
        p_booking_type_id=place.booking_type_id,
        p_from=first,
        p_to=last,
        **extra,
    )


def test_anon_books_and_gets_a_manage_token(conn: psycopg.Connection) -> None:
    place = create_booking_workspace(conn, practitioners=1, buffer_before=5, buffer_after=10)
    starts_at = day_after_tomorrow()
    booked = book(
        conn,
        place,
        starts_at,
        email="  Pat.Doe@Example.TEST ",
        p_phone="+44 20 7946 0958",
        p_notes="Line 1\nLine 2",
    )
    assert booked["starts_at"] == starts_at
    assert booked["ends_at"] == starts_at + timedelta(minutes=30)
    assert booked["practitioner_id"] == place.practitioners[0]
    assert booked["practitioner_name"] == place.users[0].metadata["full_name"]
    stored = conn.execute(
        "select c.email, c.phone, c.name, b.manage_token_hash = private.token_hash(%s), b.status, b.notes,"
        " b.blocked_period"
        " = tstzrange(%s::timestamptz - interval '5 minutes', %s::timestamptz + interval '40 minutes'),"
        " b.created_by is null"
        " from public.bookings b join public.contacts c on c.id = b.contact_id where b.id = %s",
        [booked["manage_token"], starts_at, starts_at, booked["booking_id"]],
    ).fetchone()
    assert stored == (
        "pat.doe@example.test",
        "+442079460958",
        "Pat Customer",
        True,
        "confirmed",
        "Line 1\nLine 2",
        True,
        True,
    )
    assert (
        conn.execute(
            "select count(*) from public.bookings where manage_token_hash = convert_to(%s, 'UTF8')",
            [booked["manage_token"]],
        ).fetchone()[0]
        == 0
    )


def test_same_email_is_the_same_contact_and_a_booking_never_changes_it(conn: psycopg.Connection) -> None:
    place = create_booking_workspace(conn)
    book(conn, place, day_after_tomorrow(10), email="sam@example.test", p_name="Sam First")
    book(
        conn,
        place,
        day_after_tomorrow(11),
        email="SAM@example.test ",
        p_name="Other Name",
        p_phone="+1 415 555 0100",
    )
    book(conn, place, day_after_tomorrow(12), email="sam@example.test", p_phone="+33 6 12 34 56 78")
    contacts = conn.execute(
        "select name, phone from public.contacts where workspace_id = %s", [place.workspace_id]
    ).fetchall()
    # Anonymous input never changes an existing contact (issue 17): the phones stay on their bookings.
    assert contacts == [("Sam First", None)]
    phones = conn.execute(
        "select contact_phone from public.bookings where workspace_id = %s order by starts_at",
        [place.workspace_id],
    ).fetchall()
    assert phones == [(None,), ("+14155550100",), ("+33612345678",)]
    other = create_booking_workspace(conn)
    book(conn, other, day_after_tomorrow(10), email="sam@example.test")
    assert (
        conn.execute("select count(*) from public.contacts where email = 'sam@example.test'").fetchone()[0]
        == 2
    )


def test_anyone_goes_to_the_practitioner_with_fewest_bookings_that_day(conn: psycopg.Connection) -> None:
    place = create_booking_workspace(conn, practitioners=3)
    first, second, third = sorted(place.practitioners)
    picks = [book(conn, place, day_after_tomorrow(9))["practitioner_id"] for _ in range(3)]
    assert picks == [first, second, third], "ties go to the lowest id, then the next with fewest bookings"
    # `first` gets a second booking of the day; the next "anyone" goes to one with fewer.
    book(conn, place, day_after_tomorrow(11), p_staff_id=first)
    assert book(conn, place, day_after_tomorrow(13))["practitioner_id"] == second


def test_a_named_practitioner_is_booked_or_the_slot_is_unavailable(conn: psycopg.Connection) -> None:
    place = create_booking_workspace(conn, practitioners=2)
    wanted = place.practitioners[1]
    assert book(conn, place, day_after_tomorrow(), p_staff_id=wanted)["practitioner_id"] == wanted
    assert book_error(conn, place, day_after_tomorrow(), p_staff_id=wanted) == "slot_unavailable"
    assert book(conn, place, day_after_tomorrow())["practitioner_id"] == place.practitioners[0]
    assert book_error(conn, place, day_after_tomorrow()) == "slot_unavailable"


def test_buffers_of_both_bookings_keep_them_apart(conn: psycopg.Connection) -> None:
    place = create_booking_workspace(conn, duration=30, interval=15, buffer_before=15, buffer_after=15)
    book(conn, place, day_after_tomorrow(10))
    for minute in (30, 45):  # the existing one holds until 10:45, a new one needs 15 minutes before it
        assert book_error(conn, place, day_after_tomorrow(10, minute)) == "slot_unavailable"
    assert book(conn, place, day_after_tomorrow(11))["practitioner_id"] == place.practitioners[0]


def test_rules_refuse_with_their_codes_and_write_nothing(conn: psycopg.Connection) -> None:
    place = create_booking_workspace(
        conn,
        practitioners=1,
        min_notice=120,
        max_days_ahead=10,
        windows=[("09:00", "17:00")],
        daily_capacity=2,
    )
    draft = create_booking_workspace(conn)
    conn.execute("update public.workspaces set status = 'draft' where id = %s", [draft.workspace_id])
    now = datetime.now(UTC)
    conn.execute(
        "insert into public.workspace_closures (workspace_id, closed_on) values (%s, %s)",
        [place.workspace_id, (now + timedelta(days=4)).date()],
    )
    book(conn, place, day_after_tomorrow(9))
    book(conn, place, day_after_tomorrow(10), p_staff_id=place.practitioners[0])
    before = table_counts(conn)
    cases = {
        "too_soon": dict(starts_at=now + timedelta(minutes=30)),
        "too_far_ahead": dict(
            starts_at=(now + timedelta(days=12)).replace(hour=10, minute=0, second=0, microsecond=0)
        ),
        "outside_availability": dict(starts_at=day_after_tomorrow(8)),
        "outside_availability (off grid)": dict(starts_at=day_after_tomorrow(11, 10)),
        "outside_availability (closed)": dict(
            starts_at=(now + timedelta(days=4)).replace(hour=10, minute=0, second=0, microsecond=0)
        ),
        "outside_availability (no start)": dict(starts_at=None),
        "slot_unavailable (daily capacity)": dict(starts_at=day_after_tomorrow(14)),
        "not_found (draft)": dict(starts_at=day_after_tomorrow(10), p_workspace_slug=draft.slug),
        "not_found (other workspace's type)": dict(
            starts_at=day_after_tomorrow(10), p_booking_type_id=draft.booking_type_id
        ),
        "not_found (stranger as practitioner)": dict(
            starts_at=day_after_tomorrow(11), p_staff_id=draft.practitioners[0]
        ),
        "invalid_name": dict(starts_at=day_after_tomorrow(11), p_name=" \t "),
        "invalid_email": dict(starts_at=day_after_tomorrow(11), p_email="not an email"),
        "invalid_phone": dict(starts_at=day_after_tomorrow(11), p_phone="020 7946 0958"),
        "invalid_notes": dict(starts_at=day_after_tomorrow(11), p_notes="x" * 2001),
        "invalid_notes (huge)": dict(starts_at=day_after_tomorrow(11), p_notes="x" * 1_000_000),
        "invalid_name (huge)": dict(starts_at=day_after_tomorrow(11), p_name="x" * 1_000_000),
        "invalid_email (huge)": dict(starts_at=day_after_tomorrow(11), p_email="x" * 1_000_000 + "@x.test"),
        "not_found (huge slug)": dict(starts_at=day_after_tomorrow(11), p_workspace_slug="x" * 1_000_000),
    }
    for label, case in cases.items():
        starts_at = case.pop("starts_at")
        assert book_error(conn, place, starts_at, **case) == label.split(" (")[0], label
    assert table_counts(conn) == before


def test_daily_capacity_counts_the_type_across_practitioners(conn: psycopg.Connection) -> None:
    place = create_booking_workspace(conn, practitioners=2, daily_capacity=1)
    book(conn, place, day_after_tomorrow(9))
    assert book_error(conn, place, day_after_tomorrow(15)) == "slot_unavailable"
    assert book(conn, place, day_after_tomorrow(15) + timedelta(days=1))["booking_id"]
    assert [
        row[0] for row in slots(conn, place, day_after_tomorrow().date(), day_after_tomorrow().date())
    ] == []


def test_per_email_limit_is_configurable_and_writes_nothing(conn: psycopg.Connection) -> None:
    place = create_booking_workspace(conn)
    conn.execute(
        "update public.workspaces set max_active_bookings_per_email = 2 where id = %s", [place.workspace_id]
    )
    book(conn, place, day_after_tomorrow(9), email="busy@example.test")
    book(conn, place, day_after_tomorrow(10), email="busy@example.test")
    before = table_counts(conn)
    # Staff booking for the customer are told; the public page holds it as pending (issue 17,
    # tests/test_trust.py), so its answer says nothing about the address's bookings.
    staff = Actor.user(place.users[0])
    assert (
        rpc_error(
            conn,
            staff,
            "book_appointment",
            p_workspace_slug=place.slug,
            p_booking_type_id=place.booking_type_id,
            p_starts_at=day_after_tomorrow(11),
            p_name="Pat",
            p_email="Busy@example.test",
        )
        == "booking_limit_reached"
    )
    assert table_counts(conn) == before
    held = book(conn, place, day_after_tomorrow(11), email="Busy@example.test")
    assert conn.execute(
        "select status from public.bookings where id = %s", [held["booking_id"]]
    ).fetchone() == ("pending",)
    assert book(conn, place, day_after_tomorrow(12), email="other@example.test")["booking_id"]
    with pytest.raises(psycopg.Error) as refused, conn.transaction():
        conn.execute(
            "update public.workspaces set max_active_bookings_per_email = 0 where id = %s",
            [place.workspace_id],
        )
    assert refused.value.diag.message_primary == "invalid_booking_limit"


def test_per_email_limit_holds_under_a_race(db_url: str, autocommit_conn: psycopg.Connection) -> None:
    with autocommit_conn.transaction():
        place = create_booking_workspace(autocommit_conn)
        autocommit_conn.execute(
            "update public.workspaces set max_active_bookings_per_email = 1 where id = %s",
            [place.workspace_id],
        )
    try:

        def attempt(hour: int) -> Any:
            return lambda c: book(c, place, day_after_tomorrow(hour), email="racer@example.test")[
                "booking_id"
            ]

        first, second = race_behind_lock(
            db_url, autocommit_conn, (Actor.anon(), attempt(9)), (Actor.anon(), attempt(10))
        )
        # Both answered alike; the second is held for the address holder to confirm.
        statuses = autocommit_conn.execute(
            "select id, status from public.bookings where id = any(%s)", [[first, second]]
        ).fetchall()
        assert dict(statuses) == {first: "confirmed", second: "pending"}
    finally:
        from tests.booking_support import drop_booking_workspace

        drop_booking_workspace(autocommit_conn, place)


def test_every_offered_slot_can_be_booked(conn: psycopg.Connection) -> None:
    place = create_booking_workspace(
        conn,
        timezone="America/New_York",
        practitioners=2,
        duration=45,
        interval=20,
        windows=[("09:00", "12:10")],
    )
    day = day_after_tomorrow().date()
    offered = slots(conn, place, day, day)
    assert len(offered) == 8  # 09:00 .. 11:20 every 20 minutes, ending by 12:10
    for starts_at, _, practitioner_ids in offered[::3]:
        booked = book(conn, place, starts_at)
        assert booked["practitioner_id"] in practitioner_ids


def test_slot_search_checks_its_range(conn: psycopg.Connection) -> None:
    place = create_booking_workspace(conn)
    day = day_after_tomorrow().date()
    params = dict(p_workspace_slug=place.slug, p_booking_type_id=place.booking_type_id)
    assert (
        anon_error(conn, "get_available_slots", **params, p_from=day, p_to=day - timedelta(days=1))
        == "invalid_range"
    )
    assert anon_error(conn, "get_available_slots", **params, p_from=None, p_to=day) == "invalid_range"
    assert (
        anon_error(conn, "get_available_slots", **params, p_from=day, p_to=day + timedelta(days=62))
        == "range_too_long"
    )
    assert len(slots(conn, place, day, day + timedelta(days=61))) > 0
    assert anon_error(
        conn, "get_available_slots", **{**params, "p_workspace_slug": "nope"}, p_from=day, p_to=day
    ) == ("not_found")


# Cancel and reschedule -------------------------------------------------------------------


def test_cancel_by_token_frees_the_time(conn: psycopg.Connection) -> None:
    place = create_booking_workspace(conn)
    booked = book(conn, place, day_after_tomorrow())
    cancelled = rpc(conn, Actor.anon(), "cancel_booking", p_token=booked["manage_token"], p_reason="Ill")
    assert cancelled[0][:2] == (booked["booking_id"], "cancelled")
    assert conn.execute(
        "select cancellation_reason, cancelled_by from public.bookings where id = %s", [booked["booking_id"]]
    ).fetchone() == ("Ill", None)
    assert book(conn, place, day_after_tomorrow())["booking_id"] != booked["booking_id"]
    assert anon_error(conn, "cancel_booking", p_token=booked["manage_token"]) == "booking_cancelled"
    assert anon_error(conn, "cancel_booking", p_token="not-a-token") == "not_found"
    assert anon_error(conn, "cancel_booking", p_token=None) == "not_found"


def test_past_bookings_cannot_change(conn: psycopg.Connection) -> None:
    place = create_booking_workspace(conn)
    booked = book(conn, place, day_after_tomorrow())
    conn.execute(
        "update public.bookings"
        " set starts_at = now() - interval '1 hour', ends_at = now() - interval '30 minutes'"
        " where id = %s",
        [booked["booking_id"]],
    )
    token = booked["manage_token"]
    assert anon_error(conn, "cancel_booking", p_token=token) == "booking_past"
    assert anon_error(conn, "reschedule_booking", p_token=token, p_new_starts_at=day_after_tomorrow(11)) == (
        "booking_past"
    )


def test_reschedule_keeps_id_and_token_and_prefers_the_same_practitioner(conn: psycopg.Connection) -> None:
    place = create_booking_workspace(conn, practitioners=2)
    booked = book(conn, place, day_after_tomorrow(10), p_staff_id=place.practitioners[1])
    moved = rpc(
        conn,
        Actor.anon(),
        "reschedule_booking",
        p_token=booked["manage_token"],
        p_new_starts_at=day_after_tomorrow(14),
    )[0]
    assert moved[:4] == (
        booked["booking_id"],
        day_after_tomorrow(14),
        day_after_tomorrow(14, 30),
        place.practitioners[1],
    )
    # The same practitioner is busy at 16:00: the booking moves to the other one.
    book(conn, place, day_after_tomorrow(16), p_staff_id=place.practitioners[1])
    moved = rpc(
        conn,
        Actor.anon(),
        "reschedule_booking",
        p_token=booked["manage_token"],
        p_new_starts_at=day_after_tomorrow(16),
    )[0]
    assert moved[3] == place.practitioners[0]
    # Nobody is free at 16:00 any more for a third booking; a failed move changes nothing.
    other = book(conn, place, day_after_tomorrow(17))
    before = conn.execute("select * from public.bookings where id = %s", [other["booking_id"]]).fetchone()
    assert (
        anon_error(
            conn, "reschedule_booking", p_token=other["manage_token"], p_new_starts_at=day_after_tomorrow(16)
        )
        == "slot_unavailable"
    )
    assert (
        anon_error(
            conn,
            "reschedule_booking",
            p_token=other["manage_token"],
            p_new_starts_at=day_after_tomorrow(16, 10),
        )
        == "outside_availability"
    )
    assert (
        conn.execute("select * from public.bookings where id = %s", [other["booking_id"]]).fetchone()
        == before
    )
    # A move may overlap the booking's own old time.
    moved = rpc(
        conn,
        Actor.anon(),
        "reschedule_booking",
        p_token=other["manage_token"],
        p_new_starts_at=day_after_tomorrow(17, 30),
    )[0]
    assert moved[1] == day_after_tomorrow(17, 30)
    assert rpc(conn, Actor.anon(), "cancel_booking", p_token=booked["manage_token"])[0][1] == "cancelled"


def test_reschedule_needs_an_active_workspace(conn: psycopg.Connection) -> None:
    place = create_booking_workspace(conn)
    booked = book(conn, place, day_after_tomorrow())
    conn.execute("update public.workspaces set status = 'suspended' where id = %s", [place.workspace_id])
    assert (
        anon_error(
            conn, "reschedule_booking", p_token=booked["manage_token"], p_new_starts_at=day_after_tomorrow(11)
        )
        == "workspace_inactive"
    )
    assert rpc(conn, Actor.anon(), "cancel_booking", p_token=booked["manage_token"])[0][1] == "cancelled"


def test_staff_cancel_and_move_bookings_of_their_workspace_only(conn: psycopg.Connection) -> None:
    place = create_booking_workspace(conn, practitioners=2)
    staff = Actor.user(place.users[1])
    outsider = Actor.user(create_user(conn))
    booked = book(conn, place, day_after_tomorrow(10))
    booking_id = booked["booking_id"]
    assert rpc_error(conn, outsider, "cancel_workspace_booking", p_booking_id=booking_id) == "not_found"
    assert (
        rpc_error(
            conn,
            outsider,
            "reschedule_workspace_booking",
            p_booking_id=booking_id,
            p_new_starts_at=day_after_tomorrow(12),
        )
        == "not_found"
    )
    assert rpc_error(conn, Actor.anon(), "cancel_workspace_booking", p_booking_id=booking_id) is not None
    moved = rpc(
        conn,
        staff,
        "reschedule_workspace_booking",
        p_booking_id=booking_id,
        p_new_starts_at=day_after_tomorrow(12),
        p_staff_id=place.practitioners[1],
    )[0]
    assert moved[1:4] == (day_after_tomorrow(12), day_after_tomorrow(12, 30), place.practitioners[1])
    assert rpc(conn, staff, "cancel_workspace_booking", p_booking_id=booking_id, p_reason="Called in")[0][
        1
    ] == ("cancelled")
    assert conn.execute(
        "select cancelled_by, cancellation_reason from public.bookings where id = %s", [booking_id]
    ).fetchone() == (place.users[1].id, "Called in")
    assert rpc_error(conn, staff, "cancel_workspace_booking", p_booking_id=booking_id) == "booking_cancelled"


def test_staff_may_book_on_behalf_of_a_customer(conn: psycopg.Connection) -> None:
    place = create_booking_workspace(conn)
    staff_user = place.users[0]
    booked = book(conn, place, day_after_tomorrow(), actor=Actor.user(staff_user))
    assert conn.execute(
        "select created_by from public.bookings where id = %s", [booked["booking_id"]]
    ).fetchone() == (staff_user.id,)


def test_the_database_refuses_overlap_whatever_the_path(conn: psycopg.Connection) -> None:
    place = create_booking_workspace(conn, buffer_after=10)
    booked = book(conn, place, day_after_tomorrow(10))
    row = conn.execute(
        "select workspace_id, booking_type_id, practitioner_id, contact_id"
        " from public.bookings where id = %s",
        [booked["booking_id"]],
    ).fetchone()
    with pytest.raises(psycopg.errors.ExclusionViolation):
        conn.execute(
            "insert into public.bookings"
            " (workspace_id, booking_type_id, practitioner_id, contact_id, starts_at, ends_at)"
            " values (%s, %s, %s, %s, %s, %s)",
            [*row, day_after_tomorrow(10, 35), day_after_tomorrow(11)],
        )


def test_manage_tokens_are_distinct(conn: psycopg.Connection) -> None:
    place = create_booking_workspace(conn, practitioners=3)
    tokens = {
        book(conn, place, day_after_tomorrow(9), email=f"t{secrets.token_hex(3)}@x.test")["manage_token"]
        for _ in range(3)
    }
    assert len(tokens) == 3
    assert all(len(token) >= 43 for token in tokens)
