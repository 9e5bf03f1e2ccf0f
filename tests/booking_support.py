"""Workspaces that take public bookings, for the booking tests and the benchmark."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from tests.support import JOB_QUEUES, Actor, User, create_user, rpc

Window = tuple[str, str]


@dataclass(frozen=True)
class BookingWorkspace:
    workspace_id: uuid.UUID
    slug: str
    timezone: str
    booking_type_id: uuid.UUID
    practitioners: list[uuid.UUID]  # the owner's first
    users: list[User]  # owner first, then one staff member per further practitioner


def create_booking_workspace(
    conn: psycopg.Connection,
    *,
    timezone: str = "UTC",
    practitioners: int = 1,
    duration: int = 30,
    interval: int | None = None,
    buffer_before: int = 0,
    buffer_after: int = 0,
    min_notice: int = 0,
    max_days_ahead: int = 365,
    daily_capacity: int | None = None,
    windows: Iterable[Window] = (("00:00", "24:00"),),
    weekdays: Iterable[int] = range(1, 8),
) -> BookingWorkspace:
    """An active workspace whose booking type is performed by `practitioners` members, each
    with the same weekly `windows` on `weekdays` (ISO)."""
    tag = secrets.token_hex(5)
    owner = create_user(conn, full_name=f"Owner {tag}")
    slug = f"book-{tag}"
    workspace_id = conn.execute(
        "insert into public.workspaces (name, slug, timezone, created_by)"
        " values (%s, %s, %s, %s) returning id",
        [f"Clinic {tag}", slug, timezone, owner.id],
    ).fetchone()[0]
    conn.execute(
        "insert into public.workspace_members (workspace_id, user_id, role) values (%s, %s, 'owner')",
        [workspace_id, owner.id],
    )
    conn.execute("update public.workspaces set status = 'active' where id = %s", [workspace_id])
    users = [owner]
    for n in range(1, practitioners):
        staff = create_user(conn, full_name=f"Staff {n} {tag}")
        users.append(staff)
        conn.execute(
            "insert into public.workspace_members (workspace_id, user_id, role) values (%s, %s, 'staff')",
            [workspace_id, staff.id],
        )
        conn.execute(
            "insert into public.practitioners (workspace_id, user_id) values (%s, %s)",
            [workspace_id, staff.id],
        )
    practitioner_ids = [
        conn.execute(
            "select id from public.practitioners where workspace_id = %s and user_id = %s",
            [workspace_id, user.id],
        ).fetchone()[0]
        for user in users
    ]
    booking_type_id = conn.execute(
        "insert into public.booking_types (workspace_id, name, duration_minutes, slot_interval_minutes,"
        " buffer_before_minutes, buffer_after_minutes, min_notice_minutes, max_days_ahead, daily_capacity)"
        " values (%s, 'Consultation', %s, %s, %s, %s, %s, %s, %s) returning id",
        [
            workspace_id,
            duration,
            interval,
            buffer_before,
            buffer_after,
            min_notice,
            max_days_ahead,
            daily_capacity,
        ],
    ).fetchone()[0]
    windows = list(windows)
    for practitioner_id in practitioner_ids:
        conn.execute(
            "insert into public.booking_type_practitioners (workspace_id, booking_type_id, practitioner_id)"
            " values (%s, %s, %s)",
            [workspace_id, booking_type_id, practitioner_id],
        )
        for weekday in weekdays:
            for start, end in windows:
                conn.execute(
                    "insert into public.availability_rules"
                    " (workspace_id, practitioner_id, weekday, start_time, end_time)"
                    " values (%s, %s, %s, %s, %s)",
                    [workspace_id, practitioner_id, weekday, start, end],
                )
    return BookingWorkspace(workspace_id, slug, timezone, booking_type_id, practitioner_ids, users)


def drop_booking_workspace(conn: psycopg.Connection, place: BookingWorkspace) -> None:
    """Remove a committed workspace and its users (bookings and contacts go with it)."""
    conn.execute("delete from public.workspaces where id = %s", [place.workspace_id])
    conn.execute("delete from auth.users where id = any(%s)", [[user.id for user in place.users]])


def book(
    conn: psycopg.Connection,
    place: BookingWorkspace,
    starts_at: datetime,
    *,
    email: str | None = None,
    actor: Actor | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """book_appointment as the public booking page calls it; the returned row as a dict."""
    params: dict[str, Any] = {
        "p_workspace_slug": place.slug,
        "p_booking_type_id": place.booking_type_id,
        "p_starts_at": starts_at,
        "p_name": "Pat Customer",
        "p_email": email or f"pat-{secrets.token_hex(4)}@example.test",
    }
    params.update(extra)
    row = rpc(conn, actor or Actor.anon(), "book_appointment", **params)[0]
    names = ("booking_id", "starts_at", "ends_at", "practitioner_id", "practitioner_name", "manage_token")
    return dict(zip(names, row, strict=True))


def table_counts(conn: psycopg.Connection) -> dict[str, int]:
    """Row counts of every public table (and the job queues): what a rejection must not change."""
    tables = [
        name
        for (name,) in conn.execute(
            "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
            " where n.nspname = 'public' and c.relkind = 'r' order by 1"
        ).fetchall()
    ]
    counts = {name: conn.execute(f'select count(*) from public."{name}"').fetchone()[0] for name in tables}
    for queue in JOB_QUEUES:
        counts[queue] = conn.execute(f"select count(*) from {queue}").fetchone()[0]
    return counts
