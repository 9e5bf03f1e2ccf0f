"""Reminder sweep: private.send_due_reminders() on 100,000 and 1,000,000 bookings.

    .venv/bin/python bench/reminder_sweep.py [ADMIN_URL] [--iterations 10] [--keep]

ADMIN_URL is a superuser URL of the test cluster (default: $TEST_DATABASE_URL). The
benchmark clones the migrated template `careops_template` into its own database
`careops_bench_reminders`, seeds it set-based (triggers off: the seed is not what is
measured), and measures the sweep at three points:

    100k total, 1,000 due    the baseline
    1M total,   1,000 due    ten times the table, the same due bookings
    1M total,   100 due      the same table, a tenth of the due bookings

After `vacuum (analyze)` and two discarded sweeps per point, each sample is one sweep in
a transaction that is rolled back (so every sample has the same
due bookings): it queues an email and an SMS per due booking (message rows, deliver_message
jobs) and marks the booking reminded. It prints median and p95 per point, the ratios, and
the EXPLAIN (ANALYZE, BUFFERS) of the sweep's query, which must be an index scan on
bookings_confirmed_starts_at_idx, not a sequential scan. It exits 1 only when a sanity check fails.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import psycopg
from harness import clone_template, drop_database, limit_line, median, p95

BENCH_DB = "careops_bench_reminders"
WORKSPACES = 100
TARGET_MS = 50.0
DUE_PER_WORKSPACE = 10  # 1,000 due in all
WARMUP = 2  # sweeps per point run first and discarded (plans, caches)

# The sweep's selection, as private.send_due_reminders runs it.
SWEEP_QUERY = """
select b.id, b.starts_at
from public.bookings as b
where
    b.status = 'confirmed'
    and b.starts_at > now()
    and b.starts_at <= now() + interval '24 hours'
    and (b.starts_at - b.created_at >= interval '24 hours' or b.created_at <= now() - interval '12 hours')
    and not exists (
        select 1 from private.booking_reminders as r
        where r.booking_id = b.id and r.starts_at = b.starts_at
    )
"""


def log(message: str) -> None:
    print(f"==> {message}", flush=True)


def seed_tenants(conn: psycopg.Connection) -> None:
    """100 active workspaces, each with its owner as practitioner, a booking type, SMS on,
    100 contacts with email and phone and their conversations."""
    conn.execute(
        """
        insert into auth.users (instance_id, id, aud, role, email, raw_app_meta_data, raw_user_meta_data,
                                created_at, updated_at)
        select '00000000-0000-0000-0000-000000000000', gen_random_uuid(), 'authenticated', 'authenticated',
               format('bench-owner-%s@example.test', n), '{}', '{}', now(), now()
        from generate_series(1, {WORKSPACES}) as n;
        """.replace("{WORKSPACES}", str(WORKSPACES))
    )
    conn.execute(
        """
        insert into public.profiles (id, email, full_name)
        select u.id, u.email, 'Owner ' || u.email from auth.users as u where u.email like 'bench-owner-%'
        on conflict (id) do nothing;
        insert into public.workspaces (name, slug, timezone, status, created_by)
        select 'Bench ' || n, 'bench-ws-' || n, 'Europe/Paris', 'active', u.id
        from auth.users as u
        cross join lateral (select split_part(split_part(u.email, '-', 3), '@', 1)::int) as x (n)
        where u.email like 'bench-owner-%';
        insert into public.workspace_members (workspace_id, user_id, role)
        select w.id, w.created_by, 'owner' from public.workspaces as w where w.slug like 'bench-ws-%';
        select private.create_communication_defaults(w.id)
        from public.workspaces as w where w.slug like 'bench-ws-%';
        update public.communication_settings set sms_enabled = true, sms_from_number = '+33612345678';
        insert into public.practitioners (workspace_id, user_id)
        select w.id, w.created_by from public.workspaces as w where w.slug like 'bench-ws-%'
        on conflict do nothing;
        insert into public.booking_types (workspace_id, name, duration_minutes, slot_interval_minutes)
        select w.id, 'Consultation', 30, 30 from public.workspaces as w where w.slug like 'bench-ws-%';
        insert into public.contacts (workspace_id, name, email, phone)
        select w.id, 'Customer ' || c, format('customer-%s-%s@example.test', w.slug, c),
               '+3361' || lpad((c * 1000 + 7)::text, 7, '0')
        from public.workspaces as w cross join generate_series(1, 100) as c
        where w.slug like 'bench-ws-%';
        insert into public.conversations (workspace_id, contact_id)
        select c.workspace_id, c.id from public.contacts as c;
        create table public.bench_contacts as
        select c.workspace_id, c.id, row_number() over (partition by c.workspace_id order by c.id) - 1 as n
        from public.contacts as c;
        create index on public.bench_contacts (workspace_id, n);
        """
    )


def seed_bookings(conn: psycopg.Connection, first: int, count: int) -> None:
    """Bookings number `first` .. `first + count - 1` of every workspace's practitioner, one per
    hour: numbers below 0 lie in the past (reminded), 0..DUE-1 start 2 to 11 hours from now
    (due), the rest start 48 hours from now and later (not due yet). Made 3 days before start."""
    conn.execute(
        """
        with inserted as (
        insert into public.bookings (workspace_id, booking_type_id, practitioner_id, contact_id,
                                     starts_at, ends_at, status, created_at)
        select w.id, t.id, p.id, c.id,
               s.starts_at, s.starts_at + interval '30 minutes', 'confirmed',
               s.starts_at - interval '3 days'
        from public.workspaces as w
        join public.booking_types as t on t.workspace_id = w.id
        join public.practitioners as p on p.workspace_id = w.id
        cross join generate_series(%(first)s::int, %(last)s::int) as k
        join public.bench_contacts as c on c.workspace_id = w.id and c.n = abs(k) %% 100
        cross join lateral (
            select date_trunc('hour', now()) + case
                when k < 0 then k * interval '1 hour'
                when k < %(due)s::int then (k + 2) * interval '1 hour'
                else interval '48 hours' + (k - %(due)s::int) * interval '1 hour'
            end
        ) as s (starts_at)
        where w.slug like 'bench-ws-%%'
        returning id, starts_at
        )
        insert into private.booking_reminders (booking_id, starts_at, reminded_at)
        select i.id, i.starts_at, i.starts_at - interval '20 hours'
        from inserted as i where i.starts_at < now()
        """,
        {"first": first, "last": first + count - 1, "due": DUE_PER_WORKSPACE},
    )


def sweep_samples(conn: psycopg.Connection, iterations: int, hold_back: int) -> tuple[list[float], int]:
    """Times of `iterations` sweeps (ms), each rolled back; `hold_back` due bookings per workspace
    are recorded as reminded first (inside the same transaction) to shrink what is due."""
    samples: list[float] = []
    reminded = 0
    conn.execute("vacuum (analyze)")  # every table: fresh statistics for the plans
    for iteration in range(WARMUP + iterations):
        with conn.transaction(force_rollback=True):
            if hold_back:
                conn.execute(
                    "insert into private.booking_reminders (booking_id, starts_at)"
                    " select x.id, x.starts_at from (select b.id, b.starts_at, row_number() over"
                    "   (partition by b.workspace_id order by b.starts_at) as n"
                    "  from public.bookings b where b.status = 'confirmed'"
                    "  and b.starts_at > now() and b.starts_at <= now() + interval '24 hours') as x"
                    " where x.n > %s",
                    [DUE_PER_WORKSPACE - hold_back],
                )
            started = time.perf_counter()
            reminded = conn.execute("select private.send_due_reminders()").fetchone()[0]
            if iteration >= WARMUP:
                samples.append((time.perf_counter() - started) * 1000)
    return samples, reminded


def explain(conn: psycopg.Connection) -> str:
    with conn.transaction(force_rollback=True):
        rows = conn.execute("explain (analyze, buffers, costs off) " + SWEEP_QUERY).fetchall()
    return "\n".join(row[0] for row in rows)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("admin_url", nargs="?", default=os.environ.get("TEST_DATABASE_URL"))
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    if not args.admin_url:
        parser.error("give ADMIN_URL or set TEST_DATABASE_URL")

    url = clone_template(args.admin_url, BENCH_DB)
    results: list[tuple[str, int, int, list[float]]] = []
    failed = False
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("set session_replication_role = replica")  # seeding only: no triggers
            started = time.perf_counter()
            seed_tenants(conn)
            # 1,000 rows per workspace: 600 past, 10 due, 390 later (100,000 in all).
            seed_bookings(conn, -600, 1000)
            conn.execute("vacuum (analyze) public.bookings")
            conn.execute("set session_replication_role = origin")
            log(f"seeded 100,000 bookings in {time.perf_counter() - started:.1f} s")

            points = [("100k total, 1,000 due", 0)]
            for label, hold_back in points:
                samples, reminded = sweep_samples(conn, args.iterations, hold_back)
                total = conn.execute("select count(*) from public.bookings").fetchone()[0]
                results.append((label, total, reminded, samples))

            conn.execute("set session_replication_role = replica")
            started = time.perf_counter()
            # 9,000 more per workspace: 5,400 further in the past, 3,600 further ahead.
            seed_bookings(conn, -6000, 5400)
            seed_bookings(conn, 400, 3600)
            conn.execute("vacuum (analyze) public.bookings")
            conn.execute("set session_replication_role = origin")
            log(f"seeded up to 1,000,000 bookings in {time.perf_counter() - started:.1f} s")

            for label, hold_back in [
                ("1M total, 1,000 due", 0),
                ("1M total, 100 due", DUE_PER_WORKSPACE - 1),
            ]:
                samples, reminded = sweep_samples(conn, args.iterations, hold_back)
                total = conn.execute("select count(*) from public.bookings").fetchone()[0]
                results.append((label, total, reminded, samples))
            plan = explain(conn)
    finally:
        if not args.keep:
            drop_database(args.admin_url, BENCH_DB)

    expected = {"100k total, 1,000 due": 1000, "1M total, 1,000 due": 1000, "1M total, 100 due": 100}
    baseline = median(results[0][3])
    print()
    print(f"{'point':<24} {'bookings':>10} {'reminded':>9} {'median':>10} {'p95':>10} {'ratio':>7}")
    for label, total, reminded, samples in results:
        middle = median(samples)
        print(
            f"{label:<24} {total:>10,} {reminded:>9,} {middle:>8.1f}ms {p95(samples):>8.1f}ms"
            f" {middle / baseline:>6.2f}x"
        )
        if reminded != expected[label]:
            print(f"SANITY: {label} reminded {reminded}, expected {expected[label]}")
            failed = True
    print()
    print("plan of the sweep's query (1M bookings, 1,000 due):")
    print(plan)
    if "Seq Scan on bookings" in plan or "bookings_confirmed_starts_at_idx" not in plan:
        print("SANITY: the sweep does not use bookings_confirmed_starts_at_idx")
        failed = True
    per_booking = median(results[1][3]) / 1000
    print()
    print(
        limit_line(
            "reminder sweep, 1M bookings, 1,000 due: median",
            median(results[1][3]),
            TARGET_MS,
            detail=f"{per_booking:.3f} ms per reminded booking, email + SMS",
        )
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
