"""Never a double booking: many real connections book at once, as anon through book_appointment.

Each racer holds its own connection and calls the RPC as PostgREST does (anon, named
arguments, one transaction per request); a barrier releases all of them together.
Rounds: CAREOPS_SOAK_ROUNDS (default 2, so `make test` stays quick; the issue's soak is
`CAREOPS_SOAK_ROUNDS=100`, see docs/booking.md for the measured run).
"""

from __future__ import annotations

import os
import secrets
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import psycopg
import pytest

from tests.booking_support import BookingWorkspace, create_booking_workspace, drop_booking_workspace
from tests.support import Actor, call_as

RACERS = 64
ROUNDS = int(os.environ.get("CAREOPS_SOAK_ROUNDS", "2"))

Outcome = tuple[str, Any]  # ("booked", practitioner_id) or ("error", code)


@pytest.fixture
def committed(db_url: str) -> Iterator[Callable[..., BookingWorkspace]]:
    """Committed booking workspaces (the racers' connections must see them), dropped afterwards."""
    made: list[BookingWorkspace] = []
    with psycopg.connect(db_url, autocommit=True) as conn:

        def make(**options: Any) -> BookingWorkspace:
            with conn.transaction():
                place = create_booking_workspace(conn, **options)
            made.append(place)
            return place

        yield make
        for place in made:
            drop_booking_workspace(conn, place)


@pytest.fixture
def racers(db_url: str) -> Iterator[list[psycopg.Connection]]:
    """One connection per racer, kept across rounds."""
    with ExitStack() as stack:
        yield [stack.enter_context(psycopg.connect(db_url)) for _ in range(RACERS)]


def race(conns: list[psycopg.Connection], requests: list[dict[str, Any]]) -> list[Outcome]:
    """Send every request at once, each on its own connection; the outcomes in order."""
    barrier = threading.Barrier(len(requests))

    def one(conn: psycopg.Connection, params: dict[str, Any]) -> Outcome:
        barrier.wait()
        try:
            row = call_as(conn, Actor.anon(), lambda c: book_call(c, params))
        except psycopg.Error as exc:
            conn.rollback()
            return ("error", f"{exc.sqlstate}:{exc.diag.message_primary}")
        conn.commit()
        return ("booked", row[3])

    with ThreadPoolExecutor(len(requests)) as pool:
        return list(pool.map(one, conns, requests))


def book_call(conn: psycopg.Connection, params: dict[str, Any]) -> tuple[Any, ...]:
    names = ", ".join(f"{name} => %({name})s" for name in params)
    return conn.execute(f"select * from public.book_appointment({names})", params).fetchone()


def request(place: BookingWorkspace, starts_at: datetime, **extra: Any) -> dict[str, Any]:
    return {
        "p_workspace_slug": place.slug,
        "p_booking_type_id": place.booking_type_id,
        "p_starts_at": starts_at,
        "p_name": "Racer",
        "p_email": f"racer-{secrets.token_hex(6)}@example.test",
        **extra,
    }


def tomorrow(offset: timedelta = timedelta(0)) -> datetime:
    """Midnight UTC tomorrow plus `offset` (the test workspaces are open all day, every day, in UTC)."""
    now = datetime.now(UTC)
    return now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1) + offset


def live_bookings(db_url: str, place: BookingWorkspace) -> list[tuple[Any, ...]]:
    with psycopg.connect(db_url) as conn:
        return conn.execute(
            "select practitioner_id, starts_at, ends_at from public.bookings"
            " where workspace_id = %s and status <> 'cancelled' order by starts_at",
            [place.workspace_id],
        ).fetchall()


def test_one_practitioner_one_slot_exactly_one_winner_per_round(
    db_url: str, committed: Callable[..., BookingWorkspace], racers: list[psycopg.Connection]
) -> None:
    place = committed(practitioners=3)
    practitioner = place.practitioners[1]
    for round_number in range(ROUNDS):
        starts_at = tomorrow(timedelta(minutes=30 * round_number))
        outcomes = race(racers, [request(place, starts_at, p_staff_id=practitioner) for _ in range(RACERS)])
        counts = Counter(kind if kind == "booked" else value for kind, value in outcomes)
        assert counts == {"booked": 1, "PT409:slot_unavailable": RACERS - 1}, f"round {round_number}"
    booked = live_bookings(db_url, place)
    assert len(booked) == ROUNDS
    assert {practitioner_id for practitioner_id, *_ in booked} == {practitioner}


def test_anyone_gets_each_free_practitioner_once(
    db_url: str, committed: Callable[..., BookingWorkspace], racers: list[psycopg.Connection]
) -> None:
    place = committed(practitioners=3)
    for round_number in range(ROUNDS):
        starts_at = tomorrow(timedelta(minutes=30 * round_number))
        outcomes = race(racers, [request(place, starts_at) for _ in range(RACERS)])
        winners = Counter(value for kind, value in outcomes if kind == "booked")
        errors = Counter(value for kind, value in outcomes if kind == "error")
        assert winners == dict.fromkeys(place.practitioners, 1), f"round {round_number}"
        assert errors == {"PT409:slot_unavailable": RACERS - 3}, f"round {round_number}"
    assert len(live_bookings(db_url, place)) == 3 * ROUNDS


def test_overlapping_different_slots_never_overlap(
    db_url: str, committed: Callable[..., BookingWorkspace], racers: list[psycopg.Connection]
) -> None:
    """A 60-minute type on a 15-minute grid with buffers: racers ask for starts that overlap."""
    place = committed(practitioners=1, duration=60, interval=15, buffer_before=5, buffer_after=10)
    base = tomorrow(timedelta(days=1))
    for round_number in range(ROUNDS):
        first = base + timedelta(hours=4 * round_number)
        starts = [first + timedelta(minutes=15 * (n % 9)) for n in range(RACERS)]
        outcomes = race(racers, [request(place, start) for start in starts])
        errors = Counter(value for kind, value in outcomes if kind == "error")
        assert set(errors) <= {"PT409:slot_unavailable"}, errors
        assert any(kind == "booked" for kind, _ in outcomes)
    booked = live_bookings(db_url, place)
    assert booked
    for (_, _, earlier_end), (_, later_start, _) in pairwise(booked):
        assert earlier_end + timedelta(minutes=10) <= later_start - timedelta(minutes=5)
