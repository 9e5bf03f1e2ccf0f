"""Sustained bookings with every side effect and the worker running: the outbox against the
in-transaction design it replaced, in alternating rounds of one run.

    .venv/bin/python bench/booking_outbox.py [ADMIN_URL] [--clients 2] [--seconds 20] [--rounds 3]
        [--keep]

ADMIN_URL is a superuser URL of the test cluster (default: $TEST_DATABASE_URL). The benchmark
clones `careops_template` into `careops_bench_outbox` with booking_side_effects.py's per-client
layout (one workspace per client, a 5-minute type with an intake form, SMS on, 1,000 past
bookings per practitioner) and runs `python -m worker` against it for the whole run
(harness.worker_process: console delivery, default WORKER_* settings). Two variants:

    outbox   as landed: the booking's transaction writes the booking, the contact and one
             message_events job; the worker writes the messages a read batch at a time
             (private.write_event_messages) and delivers them
    inline   the design before the outbox, bench-only: the same two trigger functions
             (private.publish_booking_event, private.publish_contact_event, read from the
             database) with their `private.enqueue_job('message_events', {events: E})` replaced by
             `private.write_event_messages(E)`: the same rules and the same rows, written inside
             the booking's transaction; the worker then only delivers

Each round runs both (the order reversed every other round): pgbench with `--clients` clients
for `--seconds` (booking_side_effects.py's script: begin; set local role anon; claims;
book_appointment; commit; -M prepared, --log), then waits until every booking of the run has
its messages and the queue is empty (deliveries done), so the next run starts clean.

Measured (bench-only tables and deferred constraint triggers, which fire at commit):
- bookings/s: pgbench's tps; and bookings / (run + the time after it until the last booking's
  messages were written): what the system sustained, backlog included;
- booking latency: pgbench's per-transaction latency (begin to commit, in the client), p50/p95;
- booking -> messages written: for each booking, clock_timestamp() at its commit (a deferred
  trigger on bookings insert, fired at commit after the contact's) to clock_timestamp() at the
  commit of the transaction that wrote its confirmation email (a deferred trigger on messages
  insert): mean and p95 over the run's bookings, negative clamped to 0 (inline: same commit).

Targets: outbox / inline bookings/s >= 1.5, outbox booking p95 <= 50 ms, booking -> messages
mean <= 100 ms and p95 <= 1 s. It exits 1 only when a sanity check fails.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from booking_side_effects import PER_CLIENT, booking_script, seed
from harness import (
    SanityError,
    alternating,
    bench_database,
    check,
    limit_line,
    load_average,
    median,
    p95,
    pgbench,
    ratio_line,
    spread,
    worker_process,
)

BENCH_DB = "careops_bench_outbox"
CORES = os.cpu_count() or 2
MESSAGES_PER_BOOKING = 6
PUBLISHERS = ("private.publish_booking_event()", "private.publish_contact_event()")
ENQUEUE = re.compile(
    r"perform private\.enqueue_job\(\s*'message_events',\s*pg_catalog\.jsonb_build_object\(\s*'events',\s*"
    r"(pg_catalog\.jsonb_build_array\(.*?\))\s*\)\s*\);",
    re.DOTALL,
)

TIMING = """
create schema bench;
create table bench.booking_committed (booking_id uuid primary key, at timestamptz not null);
create table bench.messages_written (booking_id uuid primary key, at timestamptz not null);

create function bench.booking_committed() returns trigger language plpgsql security definer
set search_path = '' as $$
begin
    insert into bench.booking_committed values (new.id, pg_catalog.clock_timestamp());
    return null;
end $$;

create function bench.messages_written() returns trigger language plpgsql security definer
set search_path = '' as $$
begin
    insert into bench.messages_written values (new.booking_id, pg_catalog.clock_timestamp())
    on conflict do nothing;
    return null;
end $$;

create constraint trigger zz_bench_booking_committed after insert on public.bookings
deferrable initially deferred for each row execute function bench.booking_committed();

create constraint trigger zz_bench_messages_written after insert on public.messages
deferrable initially deferred for each row
when (new.template_kind = 'booking_confirmation' and new.channel = 'email')
execute function bench.messages_written();
"""

VACUUM = "vacuum (analyze) public.bookings, public.contacts, public.messages, pgmq.q_jobs"
COUNT_WRITTEN = "select count(*) from bench.messages_written"
COUNT_JOBS = "select count(*) from pgmq.q_jobs"
COUNT_MESSAGES = "select count(*) from public.messages"
RESULTS = """
select
    count(*),
    count(m.booking_id),
    coalesce(
        array_agg(greatest(0, extract(epoch from m.at - c.at) * 1000)) filter (where m.at is not null), '{}'
    )
from bench.booking_committed as c
left join bench.messages_written as m on c.booking_id = m.booking_id
"""


def log(message: str) -> None:
    print(f"==> {message}", flush=True)


def definitions(conn: psycopg.Connection) -> tuple[list[str], list[str]]:
    """(landed, inline) definitions of the two publishing trigger functions."""
    landed = [
        conn.execute("select pg_get_functiondef(%s::regprocedure)", [name]).fetchone()[0]
        for name in PUBLISHERS
    ]
    inline = []
    for text in landed:
        changed, count = ENQUEUE.subn(r"perform private.write_event_messages(\1);", text)
        check(count == 1, "publish_* no longer enqueue one message_events job as this bench expects")
        inline.append(changed)
    return landed, inline


def wait_until(condition: object, timeout: float) -> float:
    started = time.perf_counter()
    while not condition():  # type: ignore[operator]
        check(time.perf_counter() - started < timeout, f"not done within {timeout} s")
        time.sleep(0.05)
    return time.perf_counter() - started


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("admin_url", nargs="?", default=os.environ.get("TEST_DATABASE_URL"))
    parser.add_argument("--clients", type=int, default=CORES)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    if not args.admin_url:
        parser.error("give ADMIN_URL or set TEST_DATABASE_URL")
    base = int(
        (datetime.now(UTC) + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0).timestamp()
    )
    figures: dict[str, dict[str, list[float]]] = {"outbox": {}, "inline": {}}
    worker_log = Path(tempfile.mkdtemp(prefix="bench-outbox-")) / "worker.log"

    try:
        with (
            bench_database(args.admin_url, BENCH_DB, args.keep) as url,
            psycopg.connect(url, autocommit=True) as conn,
        ):
            log(f"seeding {args.clients} workspaces ({load_average()})")
            seed(conn, args.clients, [PER_CLIENT])
            conn.execute(TIMING)
            landed, inline = definitions(conn)
            conn.execute("select pgmq.purge_queue('jobs')")
            with worker_process(url, worker_log):
                for number, variant in alternating(["outbox", "inline"], args.rounds):
                    for text in landed if variant == "outbox" else inline:
                        conn.execute(text)
                    conn.execute("truncate bench.booking_committed, bench.messages_written")
                    conn.execute(
                        "vacuum (analyze) public.bookings, public.contacts, public.messages, pgmq.q_jobs"
                    )
                    messages_before = conn.execute(COUNT_MESSAGES).fetchone()[0]
                    load = load_average()
                    result = pgbench(
                        url,
                        args.clients,
                        args.seconds,
                        min(args.clients, 4),
                        booking_script(PER_CLIENT),
                        prepared=True,
                        defines={"base": base},
                        log=True,
                    )
                    bookings = result.transactions

                    def written(bookings: int = bookings) -> bool:
                        return (
                            conn.execute("select count(*) from bench.messages_written").fetchone()[0]
                            >= bookings
                        )

                    drain = wait_until(written, 600)
                    wait_until(
                        lambda: not conn.execute("select count(*) from pgmq.q_jobs").fetchone()[0], 600
                    )
                    total, with_messages, delays = conn.execute(RESULTS).fetchone()
                    messages = conn.execute(COUNT_MESSAGES).fetchone()[0] - messages_before
                    check(total == bookings, f"{variant}: {bookings} transactions but {total} bookings")
                    check(
                        with_messages == total,
                        f"{variant}: {total - with_messages} bookings without messages",
                    )
                    check(
                        messages == MESSAGES_PER_BOOKING * bookings,
                        f"{variant}: {messages} messages for {bookings} bookings",
                    )
                    figure = figures[variant]
                    sustained = bookings / (args.seconds + drain)
                    row = {
                        "tps": result.tps,
                        "sustained": sustained,
                        "p50": median(result.latencies_ms),
                        "p95": p95(result.latencies_ms),
                        "delay mean": sum(delays) / len(delays),
                        "delay p95": p95(delays),
                        "drain": drain,
                    }
                    for key, value in row.items():
                        figure.setdefault(key, []).append(value)
                    print(
                        f"    round {number + 1}, {variant:<6} {result.tps:7.1f} bookings/s"
                        f" (sustained {sustained:6.1f}), booking p50 {row['p50']:6.1f}"
                        f" p95 {row['p95']:6.1f} ms,"
                        f" -> messages mean {row['delay mean']:7.1f} p95 {row['delay p95']:7.1f} ms,"
                        f" drained {drain:4.1f} s after; {load} -> {load_average()}",
                        flush=True,
                    )
    except SanityError as exc:
        print(f"\nsanity check failed: {exc}\n(worker log: {worker_log})", file=sys.stderr)
        return 1

    outbox, inline_ = figures["outbox"], figures["inline"]
    print()
    for key, unit in (
        ("tps", "bookings/s"),
        ("sustained", "bookings/s"),
        ("p95", "ms"),
        ("delay mean", "ms"),
        ("delay p95", "ms"),
    ):
        print(f"  {key:<11} outbox {spread(outbox[key])} {unit}; inline {spread(inline_[key])} {unit}")
    ratios = " ".join(f"{o / i:.2f}" for o, i in zip(outbox["tps"], inline_["tps"], strict=True))
    print()
    print(
        ratio_line(
            f"outbox, {args.clients} clients, worker running,",
            median(outbox["tps"]),
            "in-transaction design",
            median(inline_["tps"]),
            1.5,
            "bookings/s",
        ),
        f"[per round {ratios}x]",
    )
    sustained = " ".join(
        f"{o / i:.2f}" for o, i in zip(outbox["sustained"], inline_["sustained"], strict=True)
    )
    print(
        ratio_line(
            "  the same, counting until the last messages were written,",
            median(outbox["sustained"]),
            "in-transaction",
            median(inline_["sustained"]),
            1.5,
            "bookings/s",
        ),
        f"[per round {sustained}x]",
    )
    print(limit_line("outbox booking latency p95 (median of runs)", median(outbox["p95"]), 50, digits=1))
    print(limit_line("outbox booking -> messages written, mean", median(outbox["delay mean"]), 100, digits=1))
    print(limit_line("outbox booking -> messages written, p95", median(outbox["delay p95"]), 1000, digits=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
