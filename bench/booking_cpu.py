"""Server CPU per booking on one connection: the booking transaction, the worker's writing of
its messages, the bare floor and pgbench's tpcb-like, in alternating rounds.

    .venv/bin/python bench/booking_cpu.py [ADMIN_URL] [--transactions 400] [--rounds 3] [--batch 10]
        [--warmup-rounds 1]

Wall-clock throughput on a shared 2-core machine moves by 2x with the neighbours' load; the CPU
time of one backend (utime + stime from /proc, harness.backend_cpu_seconds) moves much less.
The workspace is booking_side_effects.py's (5 practitioners open all day, a 5-minute type with
an intake form, SMS on, 1,000 past bookings each); every booking is a new free slot, as anon,
with a new email (a new contact) and a phone. Per round, in an order reversed every other round
(as harness.alternating):

    tpcb-like         pgbench's transaction, on pgbench's own database
    bare              the floor: contact upsert + booking insert (booking_side_effects.py's
                      function), the outbox triggers off
    book, no job      book_appointment with the outbox triggers off (what the job costs is the
                      difference with the next)
    book              book_appointment as it runs: booking, contact, one message_events job

then, always after "book", the worker's side for the jobs that run queued, on one connection as
the worker runs it (worker/handlers/events.py, EventBatch): pgmq.read of `--batch` jobs, then
in one transaction private.write_event_messages(their events) and pgmq.archive (per booking:
welcome, confirmation, form submission and request, email and SMS each: 6 messages, 6
deliver_message jobs). The figure is that CPU per booking.

It prints every round with the load average (a first warm-up round, not counted: it writes the
first messages into empty tables) and:

    worker time per booking's messages / the booking transaction's own CPU   target <= 1.0
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
from typing import Any

import psycopg
from booking_side_effects import BARE_FUNCTION, SLOT_MINUTES, bookable_workspace, set_outbox
from harness import (
    Transaction,
    backend_cpu_seconds,
    clone_template,
    cpu_per_transaction,
    create_empty,
    drop_database,
    load_average,
    median,
    pgbench_init,
    ratio_line,
    spread,
    tpcb_like,
)
from psycopg.types.json import Jsonb

BENCH_DB = "careops_bench_cpu"
PGBENCH_DB = "careops_bench_cpu_pgbench"
ANON = [
    "begin",
    "select set_config('request.jwt.claims', '{\"role\":\"anon\"}', true)",
    "set local role anon",
]
# A new number each time (the anonymous limits count per phone too).
PHONE = "'+3361' || lpad((random() * 9999999)::int::text, 7, '0')"
START = "date_trunc('day', now()) + interval '1 day' + nextval('public.bench_slots') * interval '{m} minutes'"


def book(place: Any) -> Transaction:
    def transaction(i: int) -> list[str]:
        return [
            *ANON,
            f"select booking_id from public.book_appointment(p_workspace_slug => '{place.slug}',"
            f" p_booking_type_id => '{place.booking_type_id}',"
            f" p_starts_at => {START.format(m=SLOT_MINUTES)},"
            f" p_name => 'Bench Customer', p_email => 'cpu-' || gen_random_uuid() || '@bench.test',"
            f" p_phone => {PHONE})",
            "commit",
        ]

    return transaction


def bare(_: Any) -> Transaction:
    def transaction(i: int) -> list[str]:
        return [
            *ANON,
            f"select public.bench_bare_booking('cpu', {i % 5}, {START.format(m=SLOT_MINUTES)},"
            f" 'cpu-' || gen_random_uuid() || '@bench.test', {PHONE})",
            "commit",
        ]

    return transaction


def worker_cpu(url: str, batch: int, warmup: int = 5) -> tuple[float, int, float]:
    """The worker's SQL for every queued message_events job, `batch` jobs per read: server CPU
    ms per booking, bookings, messages written per booking. The first `warmup` batches are not
    measured (as cpu_per_transaction's first 50 transactions: a new session's first calls)."""
    bookings = written = 0
    with psycopg.connect(url, autocommit=True) as conn:
        pid = conn.execute("select pg_backend_pid()").fetchone()[0]
        before = 0.0
        for number in itertools.count():
            if number == warmup:
                before = backend_cpu_seconds(pid) or 0.0
                bookings = written = 0
            # The events (the deliver_message jobs the writes queue stay for nobody here).
            jobs = conn.execute(
                "select msg_id, message from pgmq.read('events', 60, %s)",
                [batch],
            ).fetchall()
            if not jobs:
                break
            events = [e for _, message in jobs for e in message["payload"]["events"]]
            with conn.transaction():
                row = conn.execute("select private.write_event_messages(%s)", [Jsonb(events)]).fetchone()
                written += row[0]
                conn.execute("select pgmq.archive('events', %s::bigint[])", [[msg_id for msg_id, _ in jobs]])
            bookings += len(events)
        after = backend_cpu_seconds(pid) or 0.0
    return (after - before) / max(bookings, 1) * 1e3, bookings, written / max(bookings, 1)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("admin_url", nargs="?", default=os.environ.get("TEST_DATABASE_URL"))
    parser.add_argument("--transactions", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    # The first round writes the first messages into empty tables (files extended, indexes cold):
    # its worker side cost 1.2-2.2x the others in every run, so it is run and not counted.
    parser.add_argument("--warmup-rounds", type=int, default=1)
    parser.add_argument("--batch", type=int, default=10, help="jobs per worker read (WORKER_BATCH_SIZE)")
    args = parser.parse_args(argv)
    if not args.admin_url:
        parser.error("give ADMIN_URL or set TEST_DATABASE_URL")
    bench_url = clone_template(args.admin_url, BENCH_DB)
    pgbench_url = create_empty(args.admin_url, PGBENCH_DB)
    figures: dict[str, list[float]] = {}
    try:
        pgbench_init(pgbench_url, 16)
        with psycopg.connect(bench_url, autocommit=True) as conn:
            place = bookable_workspace(conn, 5)
            conn.execute(
                "create table public.bench_targets (layout text, client_id integer, slug text,"
                " booking_type uuid, practitioner uuid, primary key (layout, client_id))"
            )
            conn.cursor().executemany(
                "insert into public.bench_targets values ('cpu', %s, %s, %s, %s)",
                [(n, place.slug, place.booking_type_id, p) for n, p in enumerate(place.practitioners)],
            )
            conn.execute("create sequence public.bench_slots")
            conn.execute("grant usage on sequence public.bench_slots to anon")
            conn.execute("grant select on public.bench_targets to anon")
            conn.execute(BARE_FUNCTION)
            conn.execute("vacuum (analyze)")
        variants = ["tpcb-like", "bare", "book, no job", "book"]
        for number in range(args.warmup_rounds + args.rounds):
            counted = number >= args.warmup_rounds
            label = f"round {number + 1 - args.warmup_rounds}" if counted else "warm-up"
            with psycopg.connect(bench_url, autocommit=True) as conn:
                conn.execute("select pgmq.purge_queue('jobs'), pgmq.purge_queue('events')")
                conn.execute("vacuum (analyze) public.bookings, public.contacts, public.messages")
            for variant in variants if number % 2 == 0 else list(reversed(variants)):
                if variant == "tpcb-like":
                    cpu = cpu_per_transaction(pgbench_url, tpcb_like(), args.transactions)
                else:
                    with psycopg.connect(bench_url, autocommit=True) as conn:
                        set_outbox(conn, enabled=variant == "book")
                    transaction = bare(place) if variant == "bare" else book(place)
                    cpu = cpu_per_transaction(bench_url, transaction, args.transactions)
                    with psycopg.connect(bench_url, autocommit=True) as conn:
                        set_outbox(conn, enabled=True)
                if cpu is None:
                    print("no /proc for the server: run it on the database machine", file=sys.stderr)
                    return 1
                if counted:
                    figures.setdefault(variant, []).append(cpu)
                print(f"    {label}, {variant:<14} {cpu:.3f} ms  ({load_average()})", flush=True)
            per_booking, bookings, messages = worker_cpu(bench_url, args.batch)
            if counted:
                figures.setdefault("worker", []).append(per_booking)
            print(
                f"    {label}, worker, {bookings} bookings, {messages:.1f} messages each:"
                f" {per_booking:.3f} ms per booking  ({load_average()})",
                flush=True,
            )
            if messages != 6:
                print(f"SANITY: expected 6 messages per booking, got {messages:.2f}", file=sys.stderr)
                return 1
    finally:
        drop_database(args.admin_url, BENCH_DB)
        drop_database(args.admin_url, PGBENCH_DB)
    print()
    print(f"server CPU per transaction (ms), one client, {args.transactions} transactions x {args.rounds}")
    for name, values in figures.items():
        print(f"  {name:<14} {spread(values, 3)}")
    print()
    worker, own = median(figures["worker"]), median(figures["book"])
    ratios = " ".join(f"{w / b:.2f}" for w, b in zip(figures["worker"], figures["book"], strict=True))
    print(
        ratio_line(
            f"worker SQL per booking's messages (batches of {args.batch}),",
            worker,
            "book_appointment transaction",
            own,
            1.0,
            "ms CPU",
            at_least=False,
            digits=3,
        ),
        f"[per round {ratios}x]",
    )
    print(
        f"  the outbox job's share of the booking: book {own:.3f} - book, no job"
        f" {median(figures['book, no job']):.3f} ms; bare floor {median(figures['bare']):.3f} ms;"
        f" tpcb-like {median(figures['tpcb-like']):.3f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
