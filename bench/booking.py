"""Public booking: book_appointment throughput next to pgbench, and get_available_slots latency.

    .venv/bin/python bench/booking.py [ADMIN_URL] [--clients 16] [--seconds 15] [--scale 16]
        [--iterations 200] [--warmup 20] [--keep]

ADMIN_URL is a superuser URL of the test cluster (default: $TEST_DATABASE_URL). The script
clones the migrated template `careops_template` into `careops_bench_booking` and creates
`careops_bench_pgbench` for pgbench's own tables; both are dropped at the end unless --keep.

1. Throughput. The same client, pgbench, runs in the same session:
   - tpcb-like: pgbench's built-in script (`pgbench -i -s SCALE`, then `-c CLIENTS -j 2 -T SECONDS`);
   - booking: a pgbench script that does what PostgREST does for an anon RPC call
     (begin; request.jwt.claims; set local role anon; select * from book_appointment(named
     arguments); commit), every transaction on a distinct free slot (a sequence numbers
     them; one nextval inside the transaction), as "anyone" (the database picks one of 5
     practitioners open all day in UTC), a new email each time (so a new contact each time):
     all clients book into the one workspace (bench/booking_side_effects.py sets that
     against one workspace per client).
   It prints both tps and booking/tpcb-like (target >= 0.75), then checks that every
   transaction booked (the bookings table holds exactly pgbench's count, no two overlap).
   After a 3-second warm-up of each (not counted), the pair runs twice in alternating order
   (tpcb, booking, booking, tpcb) to cancel drift. --named makes each client book its own
   practitioner (p_staff_id), --practitioners sets how many there are.
2. Latency. A workspace with 5 practitioners (08:00-20:00, Monday to Saturday) and 10,000
   existing bookings; get_available_slots as anon for a 31-day range starting on a random
   day of the next 60, as PostgREST runs it (one transaction, role and claims set). Prints
   median and p95 of the call (target p95 <= 20 ms) and of the whole request, and EXPLAIN
   ANALYZE of the inner query once.
A benchmark reports: it exits 0 whatever the figures, 1 only when a sanity check fails.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from datetime import date, timedelta
from typing import Any

import psycopg
from harness import (
    SanityError,
    check,
    clone_template,
    cpu_per_transaction,
    create_empty,
    drop_database,
    limit_line,
    median,
    p95,
    pgbench_init,
    pgbench_run,
    ratio_line,
    seed_history,
    tpcb_like,
    with_database,
)

BENCH_DB = "careops_bench_booking"
PGBENCH_DB = "careops_bench_pgbench"
TARGET_RATIO = 0.75
HISTORY_PER_PRACTITIONER = 1000  # past bookings the throughput workspace starts with
TARGET_P95_MS = 20.0
THREADS = 2  # pgbench -j
ANON_CLAIMS = '{"role":"anon"}'


SEED_WORKSPACE = """
with owner as (
    insert into auth.users (instance_id, id, aud, role, email, raw_user_meta_data, created_at, updated_at)
    values ('00000000-0000-0000-0000-000000000000', gen_random_uuid(), 'authenticated', 'authenticated',
            %(slug)s || '-owner@bench.test', '{"full_name": "Owner"}', now(), now())
    returning id
)
insert into public.workspaces (name, slug, timezone, created_by)
select 'Bench ' || %(slug)s, %(slug)s, %(timezone)s, owner.id from owner
returning id, created_by
"""


def seed_workspace(
    conn: psycopg.Connection,
    slug: str,
    timezone: str,
    opens: str,
    closes: str,
    weekdays: int,
    practitioners: int = 5,
) -> tuple[Any, Any]:
    """An active workspace whose practitioners (the owner and staff) perform one 30-minute type;
    returns (workspace, type)."""
    workspace_id, owner_id = conn.execute(SEED_WORKSPACE, {"slug": slug, "timezone": timezone}).fetchone()
    conn.execute(
        "insert into public.workspace_members (workspace_id, user_id, role) values (%s, %s, 'owner')",
        [workspace_id, owner_id],
    )
    for n in range(1, practitioners):
        user_id = conn.execute(
            "insert into auth.users"
            " (instance_id, id, aud, role, email, raw_user_meta_data, created_at, updated_at)"
            " values ('00000000-0000-0000-0000-000000000000', gen_random_uuid(), 'authenticated',"
            " 'authenticated', %s, %s, now(), now()) returning id",
            [f"{slug}-staff{n}@bench.test", json.dumps({"full_name": f"Staff {n}"})],
        ).fetchone()[0]
        conn.execute(
            "insert into public.workspace_members (workspace_id, user_id, role) values (%s, %s, 'staff')",
            [workspace_id, user_id],
        )
        conn.execute(
            "insert into public.practitioners (workspace_id, user_id) values (%s, %s)",
            [workspace_id, user_id],
        )
    type_id = conn.execute(
        "insert into public.booking_types (workspace_id, name, duration_minutes, max_days_ahead)"
        " values (%s, 'Consultation', 30, 730) returning id",
        [workspace_id],
    ).fetchone()[0]
    conn.execute(
        "insert into public.booking_type_practitioners (workspace_id, booking_type_id, practitioner_id)"
        " select workspace_id, %s, id from public.practitioners where workspace_id = %s",
        [type_id, workspace_id],
    )
    conn.execute(
        "insert into public.availability_rules (workspace_id, practitioner_id, weekday, start_time, end_time)"
        " select p.workspace_id, p.id, d, %s, %s from public.practitioners p, generate_series(1, %s) d"
        " where p.workspace_id = %s",
        [opens, closes, weekdays, workspace_id],
    )
    conn.execute(
        "update public.workspaces set status = 'active', max_active_bookings_per_email = 100 where id = %s",
        [workspace_id],
    )
    return workspace_id, type_id


def seed_existing_bookings(conn: psycopg.Connection, workspace_id: Any, type_id: Any, count: int) -> None:
    """`count` bookings on the grid of the latency workspace, from 30 days ago on, about half
    of each practitioner's slots taken (a random half: busy days and gaps)."""
    conn.execute(
        "insert into public.contacts (workspace_id, name, email)"
        " select %s, 'Customer ' || n, 'customer' || n || '@bench.test' from generate_series(1, 2000) n",
        [workspace_id],
    )
    conn.execute("select setseed(0.42)")
    conn.execute(
        """
        with
        practitioners as (
            select id, row_number() over (order by id) as n
            from public.practitioners where workspace_id = %(ws)s
        ),
        contacts as (
            select id, row_number() over (order by id) as n from public.contacts where workspace_id = %(ws)s
        ),
        grid as (
            select p.id as practitioner_id,
                ((current_date - 30 + day)::timestamp + time '08:00' + slot * interval '30 minutes')
                    at time zone 'Europe/London' as starts_at
            from practitioners p
            cross join generate_series(0, 400) as day
            cross join generate_series(0, 23) as slot
            where extract(isodow from current_date - 30 + day) <= 6 and random() < 0.5
        ),
        chosen as (
            select g.*, row_number() over (order by g.starts_at, g.practitioner_id) as n from grid g
        )
        insert into public.bookings
            (workspace_id, booking_type_id, practitioner_id, contact_id, starts_at, ends_at)
        select %(ws)s, %(bt)s, c.practitioner_id, k.id, c.starts_at, c.starts_at + interval '30 minutes'
        from chosen c join contacts k on k.n = 1 + c.n %% 2000
        where c.n <= %(count)s
        """,
        {"ws": workspace_id, "bt": type_id, "count": count},
    )
    conn.execute("vacuum (analyze)")


BOOKING_SCRIPT = """begin;
select nextval('bench.slot') as n \\gset
select set_config('request.jwt.claims', '{claims}', true);
set local role anon;
select * from public.book_appointment(p_workspace_slug => 'bench-throughput',
  p_booking_type_id => '{type_id}',
  p_starts_at => '{base}'::timestamptz + (:n * interval '30 minutes'), p_name => 'Bench Customer',
  p_email => 'b' || :n || '@bench.test', p_phone => '+44 20 7946 0958'{staff});
commit;
"""


def throughput(
    admin_url: str, bench_url: str, clients: int, seconds: int, scale: int, practitioners: int, named: bool
) -> tuple[list, list]:
    pgbench_url = create_empty(admin_url, PGBENCH_DB)
    print(f"  pgbench -i -s {scale} ...", flush=True)
    pgbench_init(pgbench_url, scale)
    with psycopg.connect(bench_url, autocommit=True) as conn:
        workspace_id, type_id = seed_workspace(
            conn, "bench-throughput", "UTC", "00:00", "24:00", 7, practitioners
        )
        seed_history(conn, workspace_id, type_id, HISTORY_PER_PRACTITIONER)
        conn.execute("create schema bench")
        conn.execute("create sequence bench.slot")
        base = conn.execute(
            "select date_trunc('day', now() at time zone 'UTC') at time zone 'UTC' + interval '2 days'"
        ).fetchone()[0]
        conn.execute("vacuum (analyze)")
        # --named: client c always asks for practitioner c mod N (p_staff_id), as the
        # booking page does when the customer picks someone.
        conn.execute(
            "create table bench.client_practitioner as select (row_number() over (order by id)) - 1 as n, id"
            " from public.practitioners where workspace_id = %s",
            [workspace_id],
        )
        conn.execute("grant usage on schema bench to anon")
        conn.execute("grant select on bench.client_practitioner to anon")
    staff = (
        f", p_staff_id => (select id from bench.client_practitioner where n = :client_id % {practitioners})"
        if named
        else ""
    )
    script = BOOKING_SCRIPT.format(claims=ANON_CLAIMS, type_id=type_id, base=base.isoformat(), staff=staff)
    tpcb: list[float] = []
    booking: list[float] = []
    # Warm-up, not counted: caches, plans, the first autovacuum of the fresh tables.
    pgbench_run(pgbench_url, clients, 3, THREADS)
    pgbench_run(bench_url, clients, 3, THREADS, script)
    for order in (("tpcb", "booking"), ("booking", "tpcb")):
        for kind in order:
            if kind == "tpcb":
                tps = pgbench_run(pgbench_url, clients, seconds, THREADS)
                tpcb.append(tps)
            else:
                tps = pgbench_run(bench_url, clients, seconds, THREADS, script)
                booking.append(tps)
            print(f"  {kind:8} {tps:8.1f} tps", flush=True)
    with psycopg.connect(bench_url) as conn:
        made = conn.execute("select last_value from bench.slot").fetchone()[0]
        booked = conn.execute(
            "select count(*) from public.bookings b join public.workspaces w on w.id = b.workspace_id"
            " where w.slug = 'bench-throughput' and b.starts_at > now()"  # not the seeded history
        ).fetchone()[0]
        overlaps = conn.execute(
            "select count(*) from public.bookings a join public.bookings b"
            " on a.practitioner_id = b.practitioner_id"
            " and a.id < b.id and a.blocked_period && b.blocked_period"
            " where a.status <> 'cancelled' and b.status <> 'cancelled'"
        ).fetchone()[0]
        spread = conn.execute(
            "select count(distinct practitioner_id) from public.bookings b join public.workspaces w"
            " on w.id = b.workspace_id where w.slug = 'bench-throughput'"
        ).fetchone()[0]
    check(booked == made, f"{made} booking transactions but {booked} bookings")
    check(overlaps == 0, f"{overlaps} overlapping bookings")
    print(
        f"  sanity: {booked} bookings for {made} transactions, none overlapping, {spread} practitioners used"
    )
    tpcb_cpu, booking_cpu = server_cpu(bench_url, pgbench_url, type_id, 1000)
    if tpcb_cpu is not None and booking_cpu is not None:
        print(
            f"  server CPU per transaction, one client: tpcb-like {tpcb_cpu:.3f} ms,"
            f" book_appointment {booking_cpu:.3f} ms (ratio {tpcb_cpu / booking_cpu:.2f}x)"
        )
    return tpcb, booking


def server_cpu(
    bench_url: str, pgbench_url: str, type_id: Any, count: int
) -> tuple[float | None, float | None]:
    """Server CPU per tpcb-like transaction and per booking, one client, the scripts' statements."""
    claims = f"select set_config('request.jwt.claims', '{ANON_CLAIMS}', true)"

    def booking(i: int) -> list[str]:
        return [
            "begin",
            "select nextval('bench.slot')",
            claims,
            "set local role anon",
            "select * from public.book_appointment(p_workspace_slug => 'bench-throughput',"
            f" p_booking_type_id => '{type_id}',"
            f" p_starts_at => date_trunc('day', now()) + interval '600 days' + {i} * interval '30 minutes',"
            " p_name => 'Bench Customer',"
            f" p_email => 'cpu{i}@bench.test', p_phone => '+44 20 7946 0958')",
            "commit",
        ]

    return cpu_per_transaction(pgbench_url, tpcb_like(), count), cpu_per_transaction(
        bench_url, booking, count
    )


def latency(bench_url: str, iterations: int, warmup: int, seed: int) -> tuple[list[float], list[float], str]:
    with psycopg.connect(bench_url, autocommit=True) as conn:
        workspace_id, type_id = seed_workspace(conn, "bench-latency", "Europe/London", "08:00", "20:00", 6)
        started = time.monotonic()
        seed_existing_bookings(conn, workspace_id, type_id, 10_000)
        existing = conn.execute(
            "select count(*), min(starts_at)::date, max(starts_at)::date"
            " from public.bookings where workspace_id = %s",
            [workspace_id],
        ).fetchone()
        print(
            f"  seeded {existing[0]:,} bookings from {existing[1]} to {existing[2]}"
            f" in {time.monotonic() - started:.1f} s"
        )
        check(existing[0] == 10_000, "expected 10,000 existing bookings")
    rng = random.Random(seed)
    today = date.today()
    call_ms: list[float] = []
    request_ms: list[float] = []
    query = (
        "select * from public.get_available_slots(p_workspace_slug => %s, p_booking_type_id => %s,"
        " p_from => %s, p_to => %s)"
    )
    with psycopg.connect(bench_url) as conn:
        for i in range(warmup + iterations):
            first = today + timedelta(days=rng.randint(1, 60))
            params = ["bench-latency", type_id, first, first + timedelta(days=30)]
            t0 = time.perf_counter_ns()
            conn.execute("select set_config('request.jwt.claims', %s, true)", [ANON_CLAIMS])
            conn.execute("set local role anon")
            t1 = time.perf_counter_ns()
            rows = conn.execute(query, params).fetchall()
            t2 = time.perf_counter_ns()
            conn.commit()
            t3 = time.perf_counter_ns()
            check(len(rows) > 0, "no open slots in a 31-day range")
            if i >= warmup:
                call_ms.append((t2 - t1) / 1e6)
                request_ms.append((t3 - t0) / 1e6)
        plan = "\n".join(
            row[0]
            for row in conn.execute(
                "explain (analyze, buffers)"
                " select * from private.available_slots(%s, %s, %s, %s, null, now())",
                [workspace_id, type_id, today + timedelta(days=10), today + timedelta(days=40)],
            ).fetchall()
        )
        conn.rollback()
    return call_ms, request_ms, plan


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Booking throughput next to pgbench; slot search latency.")
    parser.add_argument("admin_url", nargs="?", default=os.environ.get("TEST_DATABASE_URL"))
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument(
        "--practitioners", type=int, default=5, help="practitioners of the throughput workspace"
    )
    parser.add_argument(
        "--named", action="store_true", help="each client books its own practitioner (p_staff_id), not anyone"
    )
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--scale", type=int, default=16, help="pgbench scale factor (>= clients)")
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", choices=("throughput", "latency"))
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    if not args.admin_url:
        parser.error("give ADMIN_URL or set TEST_DATABASE_URL")
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    summaries: list[str] = []
    with psycopg.connect(with_database(args.admin_url, "template1")) as conn:
        version = conn.execute("select current_setting('server_version')").fetchone()[0]
    print(f"PostgreSQL {version}, {os.cpu_count()} CPUs (client and server on this machine)")
    try:
        bench_url = clone_template(args.admin_url, BENCH_DB)
        if args.only in (None, "throughput"):
            mode = "each client its own practitioner" if args.named else "anyone"
            print(
                f"== booking throughput: {args.clients} clients, {args.seconds} s per run,"
                f" {args.practitioners} practitioners, {mode}"
            )
            tpcb, booking = throughput(
                args.admin_url,
                bench_url,
                args.clients,
                args.seconds,
                args.scale,
                args.practitioners,
                args.named,
            )
            summaries.append(
                ratio_line(
                    "book_appointment",
                    sum(booking) / len(booking),
                    "pgbench tpcb-like",
                    sum(tpcb) / len(tpcb),
                    TARGET_RATIO,
                    "tps",
                )
            )
        if args.only in (None, "latency"):
            print(
                f"== get_available_slots: 31 days, 5 practitioners, 10,000 bookings, {args.iterations} calls"
            )
            call_ms, request_ms, plan = latency(bench_url, args.iterations, args.warmup, args.seed)
            print(plan)
            print(
                f"  call median {median(call_ms):.2f} ms, p95 {p95(call_ms):.2f} ms;"
                f" request median {median(request_ms):.2f} ms, p95 {p95(request_ms):.2f} ms"
            )
            summaries.append(
                limit_line(
                    "get_available_slots 31 days p95",
                    p95(call_ms),
                    TARGET_P95_MS,
                    detail=f"median {median(call_ms):.2f} ms",
                )
            )
    except SanityError as exc:
        print(f"\nsanity check failed: {exc}", file=sys.stderr)
        return 1
    finally:
        if not args.keep:
            drop_database(args.admin_url, BENCH_DB)
            drop_database(args.admin_url, PGBENCH_DB)
    print()
    print("\n".join(summaries))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
