"""Property: book_appointment and reschedule_booking accept exactly what get_available_slots offers.

One copy of the booking rule means the three public RPCs never disagree. Hypothesis builds the
same DST-day workspaces as tests/test_available_slots_properties.py (practitioners with weekly
windows, overrides, closures, buffers, notice, capacity, existing bookings), on DST changes
still ahead of today. For every slot get_available_slots offers, and for starts it does not
offer (5 minutes off an offered one, and a spread of others on a 5-minute grid):
- book_appointment with "anyone" succeeds exactly when the start is offered, and with a
  named practitioner exactly when the slot lists that practitioner;
- reschedule_booking of a booking far away succeeds exactly when the start is offered.
Each attempt runs in a savepoint that is rolled back, so one does not change the next.

Examples per zone: CAREOPS_BOOKING_PROPERTY_EXAMPLES (default 6).
"""

from __future__ import annotations

import dataclasses
import os
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.slot_reference import windows_on
from tests.support import Actor, acting_as
from tests.test_available_slots_properties import ZONES, load, scenarios

EXAMPLES = int(os.environ.get("CAREOPS_BOOKING_PROPERTY_EXAMPLES", "6"))
OTHER_STARTS = 24


def future_scenarios(zone: str) -> st.SearchStrategy[dict]:
    """Scenarios on DST days at least two days ahead, with a horizon that reaches them."""
    soon = datetime.now(UTC).date() + timedelta(days=2)
    return (
        scenarios(zone)
        .filter(lambda scenario: scenario["first_day"] > soon)
        .map(
            lambda scenario: {**scenario, "rules": dataclasses.replace(scenario["rules"], max_days_ahead=730)}
        )
    )


def attempt(conn: psycopg.Connection, call: Callable[[psycopg.Connection], object]) -> str | None:
    """None when the call succeeds as anon, else its error code; rolled back either way."""
    outcome: str | None = None
    try:
        with conn.transaction(force_rollback=True), acting_as(conn, Actor.anon()):
            call(conn)
    except psycopg.Error as error:
        outcome = error.diag.message_primary or error.sqlstate
    return outcome


def candidate_starts(scenario: dict, offered: dict[datetime, set[uuid.UUID]]) -> list[datetime]:
    zone = ZoneInfo(scenario["zone"])
    first: date = scenario["first_day"]
    start = datetime(first.year, first.month, first.day, tzinfo=zone).astimezone(UTC)
    after = scenario["last_day"] + timedelta(days=1)
    end = datetime(after.year, after.month, after.day, tzinfo=zone).astimezone(UTC)
    grid = [start + timedelta(minutes=5 * n) for n in range(int((end - start) / timedelta(minutes=5)))]
    others = [moment for moment in grid if moment not in offered]
    spread = others[:: max(1, len(others) // OTHER_STARTS)]
    beside = {slot + timedelta(minutes=5) for slot in offered} - set(offered)
    return sorted(set(offered) | set(spread) | beside | in_someones_hours(scenario, others))


def in_someones_hours(scenario: dict, moments: list[datetime]) -> set[datetime]:
    """Starts inside some practitioner's window on a slot grid, refused (if at all) for another
    reason: notice, buffers, bookings, capacity, closures, a clock change."""
    zone = ZoneInfo(scenario["zone"])
    interval = scenario["rules"].interval
    found = set()
    for moment in moments:
        local = moment.astimezone(zone)
        minute = local.hour * 60 + local.minute
        for hours in scenario["practitioners"].values():
            if any(
                s <= minute < e and (minute - s) % interval == 0 for s, e in windows_on(hours, local.date())
            ):
                found.add(moment)
    return found


def check(conn: psycopg.Connection, scenario: dict) -> None:
    with conn.transaction(force_rollback=True):
        workspace_id, type_id, ids, _ = load(conn, scenario)
        slug = conn.execute("select slug from public.workspaces where id = %s", [workspace_id]).fetchone()[0]
        contact_id = conn.execute(
            "select id from public.contacts where workspace_id = %s", [workspace_id]
        ).fetchone()[0]
        rules = scenario["rules"]
        far = datetime.combine(scenario["last_day"] + timedelta(days=40), datetime.min.time(), UTC)
        mover_token = conn.execute(
            "insert into public.bookings (workspace_id, booking_type_id, practitioner_id, contact_id,"
            " starts_at, ends_at, buffer_before_minutes, buffer_after_minutes)"
            " values (%s, %s, %s, %s, %s, %s, %s, %s)"
            " returning private.derived_token(id, manage_token_nonce)",
            [
                workspace_id,
                type_id,
                next(iter(ids.values())),
                contact_id,
                far,
                far + timedelta(minutes=rules.duration),
                rules.buffer_before,
                rules.buffer_after,
            ],
        ).fetchone()[0]
        with acting_as(conn, Actor.anon()):
            rows = conn.execute(
                "select starts_at, practitioner_ids from public.get_available_slots("
                "p_workspace_slug => %s, p_booking_type_id => %s, p_from => %s, p_to => %s)",
                [slug, type_id, scenario["first_day"], scenario["last_day"]],
            ).fetchall()
        offered = {starts_at: set(practitioner_ids) for starts_at, practitioner_ids in rows}
        disagreements = []
        for starts_at in candidate_starts(scenario, offered):
            is_offered = starts_at in offered

            def book(
                c: psycopg.Connection, staff_id: uuid.UUID | None = None, at: datetime = starts_at
            ) -> None:
                c.execute(
                    "select * from public.book_appointment(p_workspace_slug => %s, p_booking_type_id => %s,"
                    " p_starts_at => %s, p_name => 'Prop', p_email => %s, p_staff_id => %s)",
                    [slug, type_id, at, "prop@example.test", staff_id],
                )

            def move(c: psycopg.Connection, at: datetime = starts_at) -> None:
                c.execute(
                    "select * from public.reschedule_booking(p_token => %s, p_new_starts_at => %s)",
                    [mover_token, at],
                )

            checks = [("book, anyone", book, is_offered), ("reschedule", move, is_offered)]
            for name, practitioner_id in ids.items():
                checks.append(
                    (
                        f"book, {name}",
                        lambda c, p=practitioner_id: book(c, p),
                        practitioner_id in offered.get(starts_at, set()),
                    )
                )
            for label, call, expected in checks:
                error = attempt(conn, call)
                if (error is None) != expected:
                    disagreements.append(
                        f"{starts_at.isoformat()} {label}: offered={expected}, error={error}"
                    )
        assert not disagreements, "\n".join(disagreements[:20]) + f"\n{scenario!r}"


@pytest.mark.parametrize("zone", ZONES)
def test_book_and_reschedule_accept_exactly_the_offered_slots(conn: psycopg.Connection, zone: str) -> None:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
        database=None,
        # Each example books hundreds of times: report the first failure as found (its
        # scenario is in the message) instead of spending minutes shrinking it.
        phases=[Phase.explicit, Phase.generate],
    )
    @given(future_scenarios(zone))
    def property_holds(scenario: dict) -> None:
        check(conn, scenario)

    property_holds()
