"""Fuzzed book_appointment: whatever the page sends, the answer is a booking or a registered
error code, and a refusal leaves every table as it was (no orphan contact either).

Examples: CAREOPS_FUZZ_EXAMPLES (default 1000).
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.booking_support import create_booking_workspace
from tests.support import Actor, rpc

EXAMPLES = int(os.environ.get("CAREOPS_FUZZ_EXAMPLES", "1000"))

# Text as JSON can carry it: anything but NUL (PostgreSQL text cannot hold it).
any_text = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=300)
long_text = st.text(
    st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), min_size=100, max_size=2100
)


def counts_query(conn: psycopg.Connection) -> str:
    tables = [
        name
        for (name,) in conn.execute(
            "select format('%I.%I', n.nspname, c.relname) from pg_class c"
            " join pg_namespace n on n.oid = c.relnamespace"
            " where (n.nspname = 'public' and c.relkind = 'r')"
            " or (n.nspname = 'pgmq' and c.relname in ('q_jobs', 'q_events'))"
            " order by 1"
        ).fetchall()
    ]
    return "select " + ", ".join(f"(select count(*) from {table})" for table in tables)


def test_fuzzed_bookings_answer_with_registered_codes_and_write_nothing_when_refused(
    conn: psycopg.Connection,
) -> None:
    place = create_booking_workspace(conn, practitioners=2, interval=15, min_notice=60, max_days_ahead=30)
    codes = {code for (code,) in conn.execute("select code from private.error_codes").fetchall()}
    count_all = counts_query(conn)
    base = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
    outcomes: dict[str, int] = {}

    inputs = st.fixed_dictionaries(
        {
            "p_workspace_slug": st.one_of(st.just(place.slug), st.just(place.slug.upper() + " "), any_text),
            "p_booking_type_id": st.one_of(st.just(place.booking_type_id), st.uuids()),
            "p_starts_at": st.one_of(
                st.integers(-200, 24 * 4 * 40).map(lambda quarter: base + timedelta(minutes=15 * quarter)),
                st.datetimes(timezones=st.just(UTC)),
                st.none(),
            ),
            "p_name": st.one_of(st.just("Pat Doe"), any_text, long_text),
            "p_email": st.one_of(st.emails(), st.just(" Pat@Example.test "), any_text),
            "p_phone": st.one_of(
                st.none(), st.just("+44 20 7946 0958"), st.just("0044 (20) 7946-0958"), any_text
            ),
            "p_notes": st.one_of(st.none(), any_text, long_text),
            "p_staff_id": st.one_of(st.none(), st.sampled_from(place.practitioners), st.uuids()),
        }
    )

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(inputs)
    def answer_is_a_booking_or_a_code(params: dict[str, Any]) -> None:
        with conn.transaction(force_rollback=True):
            before = conn.execute(count_all).fetchone()
            try:
                row = rpc(conn, Actor.anon(), "book_appointment", **params)[0]
            except psycopg.Error as exc:
                refused = exc
            else:
                refused = None
            if refused is not None:
                code = refused.diag.message_primary
                assert code in codes, f"unregistered error {refused.sqlstate}: {code}"
                assert (refused.sqlstate or "").startswith("PT"), refused.sqlstate
                assert conn.execute(count_all).fetchone() == before, f"{code} wrote something"
                outcomes[code] = outcomes.get(code, 0) + 1
                return
            assert isinstance(row[0], uuid.UUID)
            assert row[5], "a manage token"
            outcomes["booked"] = outcomes.get("booked", 0) + 1

    answer_is_a_booking_or_a_code()
    # The fuzz reached both sides: real bookings and several kinds of refusal.
    assert outcomes.get("booked", 0) > 0, outcomes
    assert len(outcomes) >= 5, outcomes
