"""Does an anonymous booking take longer when the email is past its per-email limit?

    .venv/bin/python bench/held_booking_timing.py [ADMIN_URL] [--rounds 300] [--keep]

Issue #17 §3: no anonymous answer, error or timing may depend on another person's bookings.
Past the per-email limit `book_appointment` holds the booking as pending (the address holder is
asked to confirm it); below it the booking is confirmed. The benchmark clones
`careops_template`, makes a workspace whose per-email limit is 1 (the churn caps raised out
of the way) and times, in rounds that alternate their order, three kinds of anonymous
booking as the booking page sends them (begin; set local role anon; book_appointment;
commit), each at its own free slot:

    held       an email that already holds its one booking (the victim's): held as pending
    returning  an existing contact's email below the limit: confirmed
    new        a new email: a new contact, confirmed

It prints the median and p95 of each (client wall time, same connection, same run) and the
held / returning and held / new ratios of the medians: equal work should give ~1.0x. It
checks that the held bookings are pending and the others confirmed, and that every
transaction wrote exactly one message_events job.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, datetime, timedelta

import psycopg
from harness import bench_database, check, median, p95

from tests.booking_support import create_booking_workspace

BENCH_DB = "careops_bench_held"
BOOK = (
    "select booking_id from public.book_appointment(p_workspace_slug => %s, p_booking_type_id => %s,"
    " p_starts_at => %s, p_name => 'Pat Customer', p_email => %s, p_phone => %s)"
)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("admin_url", nargs="?", default=os.environ.get("TEST_DATABASE_URL"))
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    if not args.admin_url:
        parser.error("ADMIN_URL or TEST_DATABASE_URL is required")

    with (
        bench_database(args.admin_url, BENCH_DB, keep=args.keep) as url,
        psycopg.connect(url, autocommit=True) as conn,
    ):
        rounds = args.warmup + args.rounds
        place = create_booking_workspace(conn, practitioners=3, duration=15)
        conn.execute(
            "update public.workspaces set max_active_bookings_per_email = 1 where id = %s",
            [place.workspace_id],
        )
        conn.execute(
            "update private.app_settings set value = '1000000'"
            " where key in ('anonymous_actions_per_email_hour', 'anonymous_actions_per_phone_hour',"
            " 'anonymous_actions_per_address_hour')"
        )
        holder, returning = "holder@example.test", [f"returning-{n}@example.test" for n in range(rounds)]
        conn.execute(
            "insert into public.contacts (workspace_id, name, email)"
            " select %s, 'Returning', e from unnest(%s::text[]) as e",
            [place.workspace_id, returning],
        )
        start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=2)
        slots = iter(start + timedelta(minutes=15 * n) for n in range(10 * rounds))
        with conn.transaction():
            conn.execute("set local role anon")
            conn.execute(BOOK, [place.slug, place.booking_type_id, next(slots), holder, None])
        conn.execute("delete from pgmq.q_jobs; delete from pgmq.q_events")

        def book(email: str, phone: str) -> float:
            started = time.perf_counter()
            with conn.transaction():
                conn.execute("set local role anon")
                conn.execute(BOOK, [place.slug, place.booking_type_id, next(slots), email, phone])
            return (time.perf_counter() - started) * 1000

        timings: dict[str, list[float]] = {"held": [], "returning": [], "new": []}
        for n in range(rounds):
            kinds = ["held", "returning", "new"]
            order = kinds[n % 3 :] + kinds[: n % 3]
            for kind in order:
                email = {"held": holder, "returning": returning[n], "new": f"new-{n}@example.test"}[kind]
                elapsed = book(email, f"+33799{n:06d}")
                if n >= args.warmup:
                    timings[kind].append(elapsed)

        statuses = dict(
            conn.execute(
                "select c.email = %s, array_agg(distinct b.status) from public.bookings as b"
                " join public.contacts as c on b.contact_id = c.id where b.workspace_id = %s"
                " group by 1",
                [holder, place.workspace_id],
            ).fetchall()
        )
        check(statuses[False] == ["confirmed"], f"bookings below the limit not all confirmed: {statuses}")
        check(set(statuses[True]) == {"confirmed", "pending"}, f"the holder's bookings: {statuses}")
        jobs = conn.execute(
            "select count(*) from pgmq.q_events where message ->> 'kind' = 'message_events'"
        ).fetchone()[0]
        check(jobs == 3 * rounds, f"{jobs} event jobs for {3 * rounds} bookings")

    print(
        f"anonymous book_appointment, {args.rounds} rounds (after {args.warmup} warm-up), client wall time:"
    )
    for kind, values in timings.items():
        print(f"  {kind:9} median {median(values):.2f} ms, p95 {p95(values):.2f} ms")
    for other in ("returning", "new"):
        print(
            f"held / {other} (medians): {median(timings['held']) / median(timings[other]):.2f}x"
            " (equal work: ~1.0x)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
