"""Property tests: private.available_slots against the brute-force reference in tests/slot_reference.py.

Hypothesis builds a workspace around a DST change of Europe/London, America/New_York or
Australia/Lord_Howe (a 30-minute shift): practitioners with weekly windows, date
overrides, closures, a booking type (duration, interval, buffers, notice, horizon,
capacity), existing bookings (some cancelled, some of another type) and a moment "now".
The database's answer must equal the reference's: every slot it returns is allowed by the
rules, and every slot the rules allow is returned. The same slots are then checked
directly against the rules (local window, bookings with buffers, notice, horizon).

Examples per zone: CAREOPS_PROPERTY_EXAMPLES (default 40).
"""

from __future__ import annotations

import os
import secrets
import uuid
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.slot_reference import (
    ExistingBooking,
    Hours,
    SlotRules,
    Window,
    first_instant,
    local_date_of,
    open_slots,
    windows_on,
)
from tests.support import create_user

ZONES = ("Europe/London", "America/New_York", "Australia/Lord_Howe")
EXAMPLES = int(os.environ.get("CAREOPS_PROPERTY_EXAMPLES", "40"))


@cache
def dst_change_dates(zone_name: str) -> list[date]:
    """Local dates on which the zone's UTC offset changes, 2026-2028 (found hour by hour)."""
    zone = ZoneInfo(zone_name)
    found = []
    instant = datetime(2026, 1, 1, tzinfo=UTC)
    previous = instant.astimezone(zone).utcoffset()
    while instant.year < 2029:
        instant += timedelta(minutes=30)
        offset = instant.astimezone(zone).utcoffset()
        if offset != previous:
            found.append(instant.astimezone(zone).date())
            previous = offset
    return found


def windows_strategy(max_windows: int = 2) -> st.SearchStrategy[list[Window]]:
    """Non-overlapping windows on a 30-minute grid, biased towards the small hours (DST)."""
    marks = st.sampled_from([0, 30, 60, 90, 120, 150, 180, 210, 240, 300, 420, 540, 720, 1020, 1380, 1440])
    return st.lists(marks, min_size=0, max_size=2 * max_windows, unique=True).map(
        lambda points: [(a, b) for a, b in zip(sorted(points)[::2], sorted(points)[1::2], strict=False)]
    )


@st.composite
def scenarios(draw: st.DrawFn, zone: str) -> dict:
    anchor = draw(st.sampled_from(dst_change_dates(zone)))
    first_day = anchor + timedelta(days=draw(st.integers(-2, 0)))
    last_day = first_day + timedelta(days=draw(st.integers(0, 3)))
    practitioners = {}
    for n in range(draw(st.integers(1, 3))):
        weekly = {weekday: draw(windows_strategy()) for weekday in range(1, 8)}
        overrides = {}
        for day in draw(st.lists(st.integers(0, 3), max_size=2, unique=True)):
            overrides[first_day + timedelta(days=day)] = draw(windows_strategy(1))
        practitioners[f"p{n}"] = Hours(weekly, overrides)
    closures = {first_day + timedelta(days=d) for d in draw(st.lists(st.integers(0, 3), max_size=1))}
    rules = SlotRules(
        duration=draw(st.sampled_from([15, 30, 45, 60, 90])),
        interval=draw(st.sampled_from([15, 20, 30, 45, 60])),
        buffer_before=draw(st.sampled_from([0, 0, 5, 15, 30])),
        buffer_after=draw(st.sampled_from([0, 0, 10, 30])),
        min_notice=(notice := draw(st.sampled_from([0, 30, 120, 1440]))),
        max_days_ahead=draw(st.sampled_from([d for d in (1, 2, 3, 30) if d * 1440 > notice])),
        daily_capacity=draw(st.sampled_from([None, None, 1, 2, 4])),
    )
    day_start = datetime(first_day.year, first_day.month, first_day.day, tzinfo=UTC)
    now = day_start + timedelta(minutes=15 * draw(st.integers(-4 * 72, 4 * 30)))
    bookings = [
        ExistingBooking(
            practitioner=draw(st.sampled_from(sorted(practitioners))),
            starts_at=(start := day_start + timedelta(minutes=15 * draw(st.integers(-8, 4 * 24 * 5)))),
            ends_at=start + timedelta(minutes=draw(st.sampled_from([15, 30, 60]))),
            buffer_before=draw(st.sampled_from([0, 10])),
            buffer_after=draw(st.sampled_from([0, 15])),
            same_type=draw(st.booleans()),
            cancelled=draw(st.booleans()) and draw(st.booleans()),
        )
        for _ in range(draw(st.integers(0, 6)))
    ]
    only = draw(st.sampled_from([None, None, *sorted(practitioners)]))
    return {
        "zone": zone,
        "first_day": first_day,
        "last_day": last_day,
        "practitioners": practitioners,
        "closures": closures,
        "rules": rules,
        "now": now,
        "bookings": bookings,
        "only": only,
    }


def hhmm(minutes: int) -> str:
    return "24:00" if minutes == 1440 else time(minutes // 60, minutes % 60).strftime("%H:%M")


def load(conn: psycopg.Connection, scenario: dict) -> tuple[uuid.UUID, uuid.UUID, dict[str, uuid.UUID], list]:
    """Writes the scenario; returns workspace, booking type, practitioner ids and the bookings
    the database accepted (an overlapping one is refused by the exclusion constraint)."""
    tag = secrets.token_hex(5)
    owner = create_user(conn, full_name="Owner")
    workspace_id = conn.execute(
        "insert into public.workspaces (name, slug, timezone, created_by, status)"
        " values ('Props', %s, %s, %s, 'active') returning id",
        [f"props-{tag}", scenario["zone"], owner.id],
    ).fetchone()[0]
    rules: SlotRules = scenario["rules"]
    type_id, other_type_id = (
        conn.execute(
            "insert into public.booking_types (workspace_id, name, duration_minutes, slot_interval_minutes,"
            " buffer_before_minutes, buffer_after_minutes, min_notice_minutes, max_days_ahead,"
            " daily_capacity)"
            " values (%s, %s, %s, %s, %s, %s, %s, %s, %s) returning id",
            [
                workspace_id,
                name,
                rules.duration,
                rules.interval,
                rules.buffer_before,
                rules.buffer_after,
                rules.min_notice,
                rules.max_days_ahead,
                rules.daily_capacity,
            ],
        ).fetchone()[0]
        for name in ("Tested", "Other")
    )
    ids: dict[str, uuid.UUID] = {}
    for name, hours in scenario["practitioners"].items():
        user = create_user(conn, full_name=name)
        conn.execute(
            "insert into public.workspace_members (workspace_id, user_id, role) values (%s, %s, 'staff')",
            [workspace_id, user.id],
        )
        ids[name] = conn.execute(
            "insert into public.practitioners (workspace_id, user_id) values (%s, %s) returning id",
            [workspace_id, user.id],
        ).fetchone()[0]
        conn.execute(
            "insert into public.booking_type_practitioners (workspace_id, booking_type_id, practitioner_id)"
            " values (%s, %s, %s)",
            [workspace_id, type_id, ids[name]],
        )
        for weekday, windows in hours.weekly.items():
            for start, end in windows:
                conn.execute(
                    "insert into public.availability_rules"
                    " (workspace_id, practitioner_id, weekday, start_time, end_time)"
                    " values (%s, %s, %s, %s, %s)",
                    [workspace_id, ids[name], weekday, hhmm(start), hhmm(end)],
                )
        for day, windows in hours.overrides.items():
            rows = [(hhmm(s), hhmm(e)) for s, e in windows] or [(None, None)]
            for start, end in rows:
                conn.execute(
                    "insert into public.availability_overrides"
                    " (workspace_id, practitioner_id, override_date, start_time, end_time)"
                    " values (%s, %s, %s, %s, %s)",
                    [workspace_id, ids[name], day, start, end],
                )
    for day in scenario["closures"]:
        conn.execute(
            "insert into public.workspace_closures (workspace_id, closed_on) values (%s, %s)",
            [workspace_id, day],
        )
    contact_id = conn.execute(
        "insert into public.contacts (workspace_id, name, email)"
        " values (%s, 'C', 'c@example.test') returning id",
        [workspace_id],
    ).fetchone()[0]
    accepted = []
    for booking in scenario["bookings"]:
        try:
            with conn.transaction():
                conn.execute(
                    "insert into public.bookings (workspace_id, booking_type_id, practitioner_id, contact_id,"
                    " starts_at, ends_at, buffer_before_minutes, buffer_after_minutes, status, cancelled_at)"
                    " values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    [
                        workspace_id,
                        type_id if booking.same_type else other_type_id,
                        ids[booking.practitioner],
                        contact_id,
                        booking.starts_at,
                        booking.ends_at,
                        booking.buffer_before,
                        booking.buffer_after,
                        "cancelled" if booking.cancelled else "confirmed",
                        booking.starts_at if booking.cancelled else None,
                    ],
                )
            accepted.append(booking)
        except psycopg.errors.ExclusionViolation:
            pass
    return workspace_id, type_id, ids, accepted


def check_scenario(conn: psycopg.Connection, scenario: dict) -> None:
    with conn.transaction(force_rollback=True):
        workspace_id, type_id, ids, accepted = load(conn, scenario)
        only = scenario["only"]
        rows = conn.execute(
            "select starts_at, ends_at, practitioner_ids"
            " from private.available_slots(%s, %s, %s, %s, %s, %s)",
            [
                workspace_id,
                type_id,
                scenario["first_day"],
                scenario["last_day"],
                ids.get(only),
                scenario["now"],
            ],
        ).fetchall()
    names = {practitioner_id: name for name, practitioner_id in ids.items()}
    rules: SlotRules = scenario["rules"]
    got = {start: frozenset(names[p] for p in practitioner_ids) for start, _, practitioner_ids in rows}
    assert all(end - start == timedelta(minutes=rules.duration) for start, end, _ in rows)
    practitioners = scenario["practitioners"]
    expected = open_slots(
        zone=scenario["zone"],
        rules=rules,
        practitioners={only: practitioners[only]} if only else practitioners,
        closures=scenario["closures"],
        bookings=accepted,
        first_day=scenario["first_day"],
        last_day=scenario["last_day"],
        now=scenario["now"],
    )
    assert got == expected, describe(got, expected, scenario["zone"]) + f"\n{scenario!r}"
    check_rules_directly(got, scenario, accepted)


def check_rules_directly(got: dict[datetime, frozenset[str]], scenario: dict, bookings: list) -> None:
    """The issue's properties, one by one, on what the database returned."""
    zone, rules = scenario["zone"], scenario["rules"]
    duration = timedelta(minutes=rules.duration)
    for start, names in got.items():
        local = start.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
        day = local.date()
        assert scenario["first_day"] <= day <= scenario["last_day"]
        assert first_instant(zone, local) == start, "a repeated local time is offered at its first occurrence"
        assert start >= scenario["now"] + timedelta(minutes=rules.min_notice)
        assert start <= scenario["now"] + timedelta(days=rules.max_days_ahead)
        assert day not in scenario["closures"]
        minute = local.hour * 60 + local.minute
        for name in names:
            windows = windows_on(scenario["practitioners"][name], day)
            assert any(s <= minute < e and (minute - s) % rules.interval == 0 for s, e in windows)
            blocked = (
                start - timedelta(minutes=rules.buffer_before),
                start + duration + timedelta(minutes=rules.buffer_after),
            )
            for b in bookings:
                if b.practitioner == name and not b.cancelled:
                    theirs = (
                        b.starts_at - timedelta(minutes=b.buffer_before),
                        b.ends_at + timedelta(minutes=b.buffer_after),
                    )
                    assert theirs[1] <= blocked[0] or blocked[1] <= theirs[0]
        if rules.daily_capacity is not None:
            same_day = [
                b
                for b in bookings
                if b.same_type and not b.cancelled and local_date_of(zone, b.starts_at) == day
            ]
            assert len(same_day) < rules.daily_capacity


def describe(got: dict, expected: dict, zone: str) -> str:
    def fmt(starts: set) -> list[str]:
        return [f"{s.astimezone(ZoneInfo(zone)).isoformat()}" for s in sorted(starts)]

    extra = set(got) - set(expected)
    missing = set(expected) - set(got)
    differ = [s for s in set(got) & set(expected) if got[s] != expected[s]]
    return (
        f"returned but not allowed: {fmt(extra)}; allowed but missing: {fmt(missing)};"
        f" other practitioners: {fmt(set(differ))}"
    )


@pytest.mark.parametrize("zone", ZONES)
def test_available_slots_match_the_reference_across_dst(conn: psycopg.Connection, zone: str) -> None:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        database=None,
    )
    @given(scenarios(zone))
    def property_holds(scenario: dict) -> None:
        check_scenario(conn, scenario)

    property_holds()


def test_dst_change_dates_are_found() -> None:
    """The scenarios really sit on DST changes (Lord Howe shifts by 30 minutes)."""
    assert date(2027, 3, 28) in dst_change_dates("Europe/London")
    assert date(2027, 11, 7) in dst_change_dates("America/New_York")
    lord_howe = ZoneInfo("Australia/Lord_Howe")
    shift = (
        datetime(2027, 1, 1, tzinfo=lord_howe).utcoffset()
        - datetime(2027, 7, 1, tzinfo=lord_howe).utcoffset()
    )
    assert shift == timedelta(minutes=30)
