"""Server CPU per booking transaction on one connection: the landed and the current
book_appointment side by side, with and without side effects, next to pgbench's tpcb-like.

    .venv/bin/python bench/booking_cpu.py postgresql://postgres:postgres@127.0.0.1:54330/postgres \
        [--transactions 400] [--rounds 3]

Wall-clock throughput on a shared 2-core machine moves by 2x with the neighbours' load; the
CPU time of one backend (utime + stime from /proc, harness.cpu_per_transaction) moves much
less, and the minimum over rounds less still. The "before" function is the
book_appointment of migration 20261126200200 (read from that file, created as
bench.book_appointment_before, with the private.try_booking it calls, since removed, as
bench.try_booking from the booking migration of 55e1e93); "before" side effects run with the booking message
functions re-planned per call (plan_cache_mode reset), "after" with the setting of
20261128300100. Every transaction books a new free slot as anon, with a new email (so a
new contact) and a new phone, in a workspace with 5 practitioners open all day (UTC).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
from booking import ANON_CLAIMS, BENCH_DB, PGBENCH_DB, seed_workspace
from harness import (
    Transaction,
    clone_template,
    cpu_per_transaction,
    create_empty,
    drop_database,
    pgbench_init,
    tpcb_like,
)

ROOT = Path(__file__).resolve().parent.parent
# The book_appointment before the leaner one, read from history: the migrations were squashed since.
LANDED = ("57e0c31", "supabase/migrations/20261126200200_book_appointment.sql")
# Its insert helper, removed when book_appointment came to write its inserts itself.
LANDED_TRY_BOOKING = ("55e1e93", "supabase/migrations/20261201000300_booking.sql")
MESSAGE_FUNCTIONS = (
    "private.booking_message_values(uuid[])",
    "private.queue_booking_message(uuid, text, text)",
    "private.announce_new_booking()",
    "private.queue_welcome_message()",
)
AUTOMATION_TRIGGERS = (
    ("public.contacts", "contacts_queue_welcome_message"),
    ("public.bookings", "bookings_announce_new_booking"),
)


def from_history(revision: str, path: str, function: str) -> str:
    """The `create function` statement of `function` in `path` at `revision`."""
    git = shutil.which("git") or "git"
    text = subprocess.run(  # noqa: S603 (a fixed revision and path of this repository)
        [git, "-C", str(ROOT), "show", f"{revision}:{path}"], check=True, capture_output=True, text=True
    ).stdout
    start = text.index(f"create function {function}(")
    end = text.index("$$;", text.index("as $$", start) + 5) + 3
    return text[start:end]


def landed_book_appointment() -> str:
    return (
        from_history(*LANDED, "public.book_appointment")
        .replace("public.book_appointment(", "bench.book_appointment_before(", 1)
        .replace("book_appointment.practitioner_id", "book_appointment_before.practitioner_id")
        .replace("private.try_booking(", "bench.try_booking(")
    )


def landed_try_booking() -> str:
    return from_history(*LANDED_TRY_BOOKING, "private.try_booking").replace(
        "private.try_booking(", "bench.try_booking(", 1
    )


def booking(function: str, type_id: Any, offset: int) -> Transaction:
    claims = f"select set_config('request.jwt.claims', '{ANON_CLAIMS}', true)"

    def transaction(i: int) -> list[str]:
        n = i + offset
        return [
            "begin",
            "select nextval('bench.slot')",
            claims,
            "set local role anon",
            f"select * from {function}(p_workspace_slug => 'bench-throughput',"
            f" p_booking_type_id => '{type_id}',"
            f" p_starts_at => date_trunc('day', now()) + interval '10 days' + {n} * interval '30 minutes',"
            " p_name => 'Bench Customer',"
            # A new phone each time too: one phone is capped at 8 anonymous bookings an hour.
            f" p_email => 'cpu{n}@bench.test', p_phone => '+3361{n % 10_000_000:07d}')",
            "commit",
        ]

    return transaction


def configure(url: str, side_effects: bool, kept_plans: bool) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for table, trigger in AUTOMATION_TRIGGERS:
            conn.execute(f"alter table {table} {'enable' if side_effects else 'disable'} trigger {trigger}")
        for function in MESSAGE_FUNCTIONS:
            setting = "set plan_cache_mode = force_generic_plan" if kept_plans else "reset plan_cache_mode"
            conn.execute(f"alter function {function} {setting}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("admin_url", nargs="?", default=os.environ.get("TEST_DATABASE_URL"))
    parser.add_argument("--transactions", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    bench_url = clone_template(args.admin_url, BENCH_DB)
    pgbench_url = create_empty(args.admin_url, PGBENCH_DB)
    try:
        pgbench_init(pgbench_url, 16)
        with psycopg.connect(bench_url, autocommit=True) as conn:
            _, type_id = seed_workspace(conn, "bench-throughput", "UTC", "00:00", "24:00", 7, 5)
            conn.execute("create schema bench")
            conn.execute("create sequence bench.slot")
            conn.execute("grant usage on schema bench to anon")
            conn.execute(landed_try_booking())
            conn.execute(landed_book_appointment())
            conn.execute("grant execute on function bench.book_appointment_before to anon")
            conn.execute("vacuum (analyze)")
        variants = (
            ("booking, no side effects, before", "bench.book_appointment_before", False, False),
            ("booking, no side effects, after", "public.book_appointment", False, True),
            ("booking, side effects, before", "bench.book_appointment_before", True, False),
            ("booking, side effects, after", "public.book_appointment", True, True),
        )
        figures: dict[str, list[float]] = {}
        batch = 0
        for _ in range(args.rounds):
            cpu = cpu_per_transaction(pgbench_url, tpcb_like(), args.transactions)
            if cpu is None:
                print("no /proc for the server: run it on the database machine", file=sys.stderr)
                return 1
            figures.setdefault("tpcb-like", []).append(cpu)
            for name, function, side_effects, kept_plans in variants:
                configure(bench_url, side_effects, kept_plans)
                batch += 1
                offset = batch * (args.transactions + 60)
                cpu = cpu_per_transaction(bench_url, booking(function, type_id, offset), args.transactions)
                figures.setdefault(name, []).append(cpu or 0.0)
        print(
            f"server CPU per transaction, one client, {args.transactions} transactions x {args.rounds} rounds"
        )
        best = {name: min(values) for name, values in figures.items()}
        for name, values in figures.items():
            runs = " ".join(f"{v:.3f}" for v in values)
            # /proc counts in clock ticks (10 ms): a short run can measure 0.
            ratio = f"{best['tpcb-like'] / best[name]:.2f}x" if best[name] else "n/a (too few transactions)"
            print(f"  {name:34} {runs} ms; min {best[name]:.3f} ms, tpcb/this {ratio}")
    finally:
        drop_database(args.admin_url, BENCH_DB)
        drop_database(args.admin_url, PGBENCH_DB)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
