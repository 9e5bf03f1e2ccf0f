"""The "anyone" retry of book_appointment: when the practitioner it picked is taken between
picking and inserting, it books the next free one instead of refusing.

Two practitioners, A first in the fair order. Two open transactions hold them: one books A
at the contested time, the other books B at another time that day. The "anyone" request
sees both free (neither booking is committed), finds both locked, waits on A, loses A to
the committed booking (exclusion violation) and must then try B, which it gets once the
other transaction commits. Without the retry the answer is slot_unavailable although B
is free.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from tests.booking_support import BookingWorkspace, create_booking_workspace, drop_booking_workspace
from tests.support import Actor, call_as, in_transaction, wait_until_blocked


@pytest.fixture
def place(db_url: str) -> Iterator[BookingWorkspace]:
    with psycopg.connect(db_url, autocommit=True) as conn:
        with conn.transaction():
            made = create_booking_workspace(conn, practitioners=2)
        yield made
        drop_booking_workspace(conn, made)


def day_after_tomorrow(hours: int) -> datetime:
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today + timedelta(days=2, hours=hours)


def book(
    place: BookingWorkspace, starts_at: datetime, staff_id: Any = None
) -> Callable[[psycopg.Connection], Any]:
    def call(conn: psycopg.Connection) -> Any:
        return conn.execute(
            "select practitioner_id from public.book_appointment("
            "p_workspace_slug => %s, p_booking_type_id => %s, p_starts_at => %s,"
            " p_name => 'Racer', p_email => %s, p_staff_id => %s)",
            [
                place.slug,
                place.booking_type_id,
                starts_at,
                f"racer-{starts_at:%H}-{staff_id}@example.com",
                staff_id,
            ],
        ).fetchone()[0]

    return call


def test_anyone_books_the_next_practitioner_when_the_first_is_taken_meanwhile(
    db_url: str, autocommit_conn: psycopg.Connection, place: BookingWorkspace
) -> None:
    first, second = sorted(place.practitioners)  # the fair order: equally booked, then by id
    contested = day_after_tomorrow(10)
    with psycopg.connect(db_url) as holds_first, psycopg.connect(db_url) as holds_second:
        assert call_as(holds_first, Actor.anon(), book(place, contested, first)) == first
        assert call_as(holds_second, Actor.anon(), book(place, day_after_tomorrow(14), second)) == second
        name = "anyone-retry"
        with ThreadPoolExecutor(1) as pool:
            pending = pool.submit(
                in_transaction, f"{db_url}?application_name={name}", Actor.anon(), book(place, contested)
            )
            try:
                wait_until_blocked(autocommit_conn, name)  # on the first practitioner
            finally:
                holds_first.commit()
                holds_second.commit()
            assert pending.result(timeout=10) == second
