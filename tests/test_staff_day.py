"""The staff day on real connections: completions drawing the last units of stock, a staff
reply pausing automation, as PostgREST calls the RPCs."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest

from tests.booking_support import BookingWorkspace, create_booking_workspace, drop_booking_workspace
from tests.support import (
    Actor,
    in_transaction,
    race_behind_lock,
    rpc,
    rpc_error,
    send_due_reminders,
    write_events,
)


@pytest.fixture
def committed_workspace(db_url: str) -> Iterator[Callable[[], BookingWorkspace]]:
    """Committed workspaces for tests on several connections, removed afterwards with their jobs."""
    made: list[BookingWorkspace] = []
    with psycopg.connect(db_url, autocommit=True) as conn:

        def make() -> BookingWorkspace:
            place = create_booking_workspace(conn)
            made.append(place)
            return place

        yield make
        for place in made:
            conn.execute(
                "delete from pgmq.q_jobs where message -> 'payload' ->> 'message_id' in"
                " (select id::text from public.messages where workspace_id = %s)",
                [place.workspace_id],
            )
            drop_booking_workspace(conn, place)


def stock_item(conn: psycopg.Connection, place: BookingWorkspace, quantity: int) -> Any:
    """An item the workspace's booking type uses one of per booking."""
    item_id = conn.execute(
        "insert into public.inventory_items (workspace_id, name, quantity) values (%s, 'Gloves', %s)"
        " returning id",
        [place.workspace_id, quantity],
    ).fetchone()[0]
    conn.execute(
        "insert into public.booking_type_inventory_usage (workspace_id, booking_type_id, item_id,"
        " quantity_per_booking) values (%s, %s, %s, 1)",
        [place.workspace_id, place.booking_type_id, item_id],
    )
    return item_id


def started_bookings(conn: psycopg.Connection, place: BookingWorkspace, count: int) -> list[Any]:
    """`count` bookings that started 1..count hours ago, one after the other, for one contact."""
    contact_id = conn.execute(
        "insert into public.contacts (workspace_id, name, email) values (%s, 'Ann Lee', %s) returning id",
        [place.workspace_id, f"ann-{place.slug}@example.test"],
    ).fetchone()[0]
    return [
        conn.execute(
            "insert into public.bookings (workspace_id, booking_type_id, practitioner_id, contact_id,"
            " starts_at, ends_at) values (%s, %s, %s, %s, now() - make_interval(hours => %s),"
            " now() - make_interval(hours => %s) + interval '30 minutes') returning id",
            [place.workspace_id, place.booking_type_id, place.practitioners[0], contact_id, hours, hours],
        ).fetchone()[0]
        for hours in range(1, count + 1)
    ]


def complete(booking_id: Any) -> Callable[[psycopg.Connection], Any]:
    def call(conn: psycopg.Connection) -> Any:
        return conn.execute("select status from public.complete_booking(%s)", [booking_id]).fetchone()[0]

    return call


def test_a_completion_waiting_on_the_last_unit_gets_insufficient_stock(
    db_url: str, autocommit_conn: psycopg.Connection, committed_workspace: Callable[[], BookingWorkspace]
) -> None:
    """The second completion blocks on the item row the first is drawing from, then finds none left."""
    place = committed_workspace()
    item_id = stock_item(autocommit_conn, place, quantity=1)
    first_booking, second_booking = started_bookings(autocommit_conn, place, 2)
    owner = Actor.user(place.users[0])
    first, second = race_behind_lock(
        db_url, autocommit_conn, (owner, complete(first_booking)), (owner, complete(second_booking))
    )
    assert (first, second) == ("completed", "insufficient_stock")
    assert (
        autocommit_conn.execute(
            "select quantity from public.inventory_items where id = %s", [item_id]
        ).fetchone()[0]
        == 0
    )
    statuses = autocommit_conn.execute(
        "select status from public.bookings where id = any(%s) order by starts_at desc",
        [[first_booking, second_booking]],
    ).fetchall()
    assert statuses == [("completed",), ("confirmed",)]  # the refused one is untouched


def test_concurrent_completions_draw_exactly_the_stock_there_is(
    db_url: str, autocommit_conn: psycopg.Connection, committed_workspace: Callable[[], BookingWorkspace]
) -> None:
    """Eight completions at once for three units: three succeed, five are refused, stock ends at 0."""
    place = committed_workspace()
    item_id = stock_item(autocommit_conn, place, quantity=3)
    bookings = started_bookings(autocommit_conn, place, 8)
    owner = Actor.user(place.users[0])
    start = threading.Barrier(len(bookings))

    def attempt(booking_id: Any) -> Any:
        def call(conn: psycopg.Connection) -> Any:
            start.wait(timeout=10)
            return complete(booking_id)(conn)

        return in_transaction(db_url, owner, call)

    with ThreadPoolExecutor(len(bookings)) as pool:
        outcomes = Counter(pool.map(attempt, bookings))
    assert outcomes == Counter({"completed": 3, "insufficient_stock": 5})
    quantity, movements, drawn = autocommit_conn.execute(
        "select i.quantity, count(m.id), coalesce(sum(m.delta), 0) from public.inventory_items i"
        " left join public.inventory_movements m on m.item_id = i.id where i.id = %s group by i.quantity",
        [item_id],
    ).fetchone()
    assert (quantity, movements, drawn) == (0, 3, -3)
    completed = autocommit_conn.execute(
        "select count(*) from public.bookings where id = any(%s) and status = 'completed'", [bookings]
    ).fetchone()[0]
    assert completed == 3


def test_staff_reply_through_the_api_pauses_and_resume_lets_reminders_through(
    conn: psycopg.Connection,
) -> None:
    place = create_booking_workspace(conn)
    staff = Actor.user(place.users[0])
    contact_id = conn.execute(
        "insert into public.contacts (workspace_id, name, email) values (%s, 'Ann Lee', 'ann@example.test')"
        " returning id",
        [place.workspace_id],
    ).fetchone()[0]
    write_events(conn)
    conversation_id = conn.execute(
        "select id from public.conversations where contact_id = %s", [contact_id]
    ).fetchone()[0]
    assert rpc_error(
        conn, staff, "send_message", p_conversation_id=conversation_id, p_body="Hi", p_channel="sms"
    ) == ("channel_disabled")
    [reply] = rpc(
        conn, staff, "send_message", p_conversation_id=conversation_id, p_body="Hi", p_channel="email"
    )
    assert reply[0] is not None
    booking_id = conn.execute(
        "insert into public.bookings (workspace_id, booking_type_id, practitioner_id, contact_id,"
        " starts_at, ends_at, created_at) values (%s, %s, %s, %s, now() + interval '5 hours',"
        " now() + interval '5 hours 30 minutes', now() - interval '3 days') returning id",
        [place.workspace_id, place.booking_type_id, place.practitioners[0], contact_id],
    ).fetchone()[0]
    send_due_reminders(conn)
    reminder = conn.execute(
        "select status, skip_reason from public.messages where booking_id = %s and template_kind ="
        " 'reminder'",
        [booking_id],
    ).fetchall()
    assert reminder == [("skipped", "automation_paused")]
    rpc(conn, staff, "resume_automation", p_conversation_id=conversation_id)
    conn.execute(
        "update public.bookings set starts_at = starts_at + interval '1 hour', ends_at = ends_at +"
        " interval '1 hour'"
        " where id = %s",
        [booking_id],
    )
    send_due_reminders(conn)
    statuses = conn.execute(
        "select status from public.messages where booking_id = %s and template_kind = 'reminder'"
        " order by created_at, status",
        [booking_id],
    ).fetchall()
    assert ("queued",) in statuses


def test_completion_and_no_show_racing_on_one_booking_close_it_once(
    db_url: str, autocommit_conn: psycopg.Connection, committed_workspace: Callable[[], BookingWorkspace]
) -> None:
    """The no-show waits on the booking row the completion holds, then finds it closed."""
    place = committed_workspace()
    item_id = stock_item(autocommit_conn, place, quantity=5)
    [booking_id] = started_bookings(autocommit_conn, place, 1)
    owner = Actor.user(place.users[0])

    def no_show(conn: psycopg.Connection) -> Any:
        return conn.execute("select status from public.mark_no_show(%s)", [booking_id]).fetchone()[0]

    first, second = race_behind_lock(db_url, autocommit_conn, (owner, complete(booking_id)), (owner, no_show))
    assert (first, second) == ("completed", "booking_closed")
    quantity = autocommit_conn.execute(
        "select quantity from public.inventory_items where id = %s", [item_id]
    ).fetchone()[0]
    assert quantity == 4
