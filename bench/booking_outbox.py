"""Sustained bookings with every side effect and the worker running: the outbox against the
in-transaction design it replaced, in alternating rounds of one run.

    .venv/bin/python bench/booking_outbox.py [ADMIN_URL] [--clients 2] [--seconds 20] [--rounds 3]
        [--warmup-seconds 5] [--worker-nice 0] [--keep]

ADMIN_URL is a superuser URL of the test cluster (default: $TEST_DATABASE_URL). The benchmark
clones `careops_template` into `careops_bench_outbox` with booking_side_effects.py's per-client
layout (one workspace per client, a 5-minute type with an intake form, SMS on, 1,000 past
bookings per practitioner) and runs `python -m worker` against it for the whole run
(harness.worker_process: console delivery, WORKER_POLL_SECONDS=1, the other WORKER_* settings
at their defaults). Two variants:

    outbox   as landed: the booking's transaction writes the booking, the contact and one
             message_events job; the worker writes the messages a read batch at a time
             (private.write_event_messages) and delivers them
    inline   the design before the outbox, bench-only: the same two trigger functions
             (private.publish_booking_event, private.publish_contact_event, read from the
             database) with their `private.enqueue_events(E)` replaced by
             `private.write_event_messages(E)`: the same rules and the same rows, written inside
             the booking's transaction; the worker then only delivers

First each variant runs once for `--warmup-seconds`, not counted: the worker's pooled connections
opened and their plans made (a worker that has been up a while; a cold one spent its first round
planning, its event jobs queued for seconds). Each round runs both (the order reversed every other
round): pgbench with `--clients` clients
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
from collections.abc import Callable
from dataclasses import dataclass, replace
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
    r"perform private\.enqueue_events\(\s*(pg_catalog\.jsonb_build_array\(.*?\))\s*\);",
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

# Where an event job's time goes (outbox): enqueued -> read by the worker (pgmq.read sets vt =
# read time + the visibility timeout) -> archived (the write's transaction start, now()).
VISIBILITY_TIMEOUT = 60
EVENT_JOB_TIMES = f"""
select
    coalesce(avg(extract(epoch from r.read_at - j.enqueued_at)) * 1000, 0),
    coalesce(avg(extract(epoch from j.archived_at - r.read_at)) * 1000, 0)
from pgmq.a_events as j
cross join lateral (select j.vt - interval '{VISIBILITY_TIMEOUT} seconds') as r (read_at)
"""
VACUUM = "vacuum (analyze) public.bookings, public.contacts, public.messages, pgmq.q_jobs, pgmq.q_events"
COUNT_WRITTEN = "select count(*) from bench.messages_written"
COUNT_JOBS = "select (select count(*) from pgmq.q_jobs) + (select count(*) from pgmq.q_events)"
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


def wait_until(condition: Callable[[], bool], timeout: float) -> float:
    started = time.perf_counter()
    while not condition():
        check(time.perf_counter() - started < timeout, f"not done within {timeout} s")
        time.sleep(0.05)
    return time.perf_counter() - started


@dataclass
class Bench:
    conn: psycopg.Connection
    url: str
    clients: int
    seconds: int
    base: int
    landed: list[str]
    inline: list[str]

    def run(self, variant: str, rate: float | None) -> dict[str, float]:
        """One run of the variant (at `rate` bookings/s in all, else as fast as the clients go),
        then until its messages are written and the queue is empty: its figures."""
        conn = self.conn
        for text in self.landed if variant == "outbox" else self.inline:
            conn.execute(text)
        conn.execute("truncate bench.booking_committed, bench.messages_written, pgmq.a_events")
        conn.execute(VACUUM)
        messages_before = conn.execute(COUNT_MESSAGES).fetchone()[0]
        result = pgbench(
            self.url,
            self.clients,
            self.seconds,
            min(self.clients, 4),
            booking_script(PER_CLIENT),
            prepared=True,
            defines={"base": self.base},
            log=True,
            rate=rate,
        )
        bookings = result.transactions
        drain = wait_until(lambda: conn.execute(COUNT_WRITTEN).fetchone()[0] >= bookings, 600)
        delivered = drain + wait_until(lambda: not conn.execute(COUNT_JOBS).fetchone()[0], 600)
        total, with_messages, delays = conn.execute(RESULTS).fetchone()
        queued, reading = conn.execute(EVENT_JOB_TIMES).fetchone()
        messages = conn.execute(COUNT_MESSAGES).fetchone()[0] - messages_before
        check(total == bookings, f"{variant}: {bookings} transactions but {total} bookings")
        check(with_messages == total, f"{variant}: {total - with_messages} bookings without messages")
        check(
            messages == MESSAGES_PER_BOOKING * bookings,
            f"{variant}: {messages} messages, {bookings} bookings",
        )
        return {
            "tps": result.tps,
            "sustained": bookings / (self.seconds + drain),
            "p50": median(result.latencies_ms),
            "p95": p95(result.latencies_ms),
            "delay mean": sum(delays) / len(delays),
            "delay p95": p95(delays),
            "written after": drain,
            "job queued": float(queued),
            "job read to write": float(reading),
            "delivered after": delivered,
        }


def show(number: int, variant: str, row: dict[str, float], load: str) -> None:
    print(
        f"    round {number + 1}, {variant:<6} {row['tps']:6.1f} bookings/s"
        f" (sustained {row['sustained']:6.1f}),"
        f" booking p50 {row['p50']:5.1f} p95 {row['p95']:6.1f} ms, -> messages mean {row['delay mean']:7.1f}"
        f" p95 {row['delay p95']:7.1f} ms; after the run: written {row['written after']:4.1f} s, delivered"
        f" {row['delivered after']:4.1f} s; {load} -> {load_average()}",
        f"\n      (event jobs: {row['job queued']:.1f} ms queued before the worker read them,"
        f" {row['job read to write']:.1f} ms from the read to the write's start)"
        if variant == "outbox"
        else "",
        flush=True,
    )


def summary(figures: dict[str, dict[str, list[float]]]) -> None:
    outbox, inline = figures["outbox"], figures["inline"]
    for key, unit in (
        ("tps", "bookings/s"),
        ("sustained", "bookings/s"),
        ("p95", "ms"),
        ("delay mean", "ms"),
        ("delay p95", "ms"),
        ("delivered after", "s"),
        ("job queued", "ms"),
    ):
        print(f"  {key:<15} outbox {spread(outbox[key])} {unit}; inline {spread(inline[key])} {unit}")


def per_round(figures: dict[str, dict[str, list[float]]], key: str) -> str:
    pairs = zip(figures["outbox"][key], figures["inline"][key], strict=True)
    return f"[per round {' '.join(f'{o / i:.2f}' for o, i in pairs)}x]"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("admin_url", nargs="?", default=os.environ.get("TEST_DATABASE_URL"))
    parser.add_argument("--clients", type=int, default=CORES)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--rate",
        type=float,
        default=0,
        help="bookings/s of the latency runs (default: half the slower variant)",
    )
    parser.add_argument(
        "--worker-nice",
        type=int,
        default=0,
        help="the worker process's nice value (19: its Python gets only the CPU the database and the"
        " clients leave, as when it runs on a machine of its own; its SQL still runs in the server)",
    )
    parser.add_argument("--warmup-seconds", type=int, default=5)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    if not args.admin_url:
        parser.error("give ADMIN_URL or set TEST_DATABASE_URL")
    base = int(
        (datetime.now(UTC) + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0).timestamp()
    )
    fastest: dict[str, dict[str, list[float]]] = {"outbox": {}, "inline": {}}
    steady: dict[str, dict[str, list[float]]] = {"outbox": {}, "inline": {}}
    worker_log = Path(tempfile.mkdtemp(prefix="bench-outbox-")) / "worker.log"
    rate = args.rate

    try:
        with (
            bench_database(args.admin_url, BENCH_DB, args.keep) as url,
            psycopg.connect(url, autocommit=True) as conn,
        ):
            log(f"seeding {args.clients} workspaces ({load_average()})")
            seed(conn, args.clients, [PER_CLIENT])
            conn.execute(TIMING)
            landed, inline = definitions(conn)
            bench = Bench(conn, url, args.clients, args.seconds, base, landed, inline)
            conn.execute("select pgmq.purge_queue('jobs'), pgmq.purge_queue('events')")
            with worker_process(
                url, worker_log, args.worker_nice, WORKER_VISIBILITY_TIMEOUT_SECONDS=str(VISIBILITY_TIMEOUT)
            ):
                # Warm, off the clock: the worker's pooled connections opened and their plans made
                # (a worker that has been up a while), as worker_throughput.py warms its workers.
                log(f"warming up: each variant for {args.warmup_seconds} s, not counted")
                for variant in ("outbox", "inline"):
                    replace(bench, seconds=args.warmup_seconds).run(variant, None)
                log(f"as fast as {args.clients} clients go, {args.seconds} s a run")
                for number, variant in alternating(["outbox", "inline"], args.rounds):
                    load = load_average()
                    row = bench.run(variant, None)
                    for key, value in row.items():
                        fastest[variant].setdefault(key, []).append(value)
                    show(number, variant, row, load)
                rate = rate or min(median(fastest[v]["tps"]) for v in fastest) / 2
                log(f"at a steady {rate:.1f} bookings/s (pgbench -R), {args.seconds} s a run")
                for number, variant in alternating(["outbox", "inline"], args.rounds):
                    load = load_average()
                    row = bench.run(variant, rate)
                    for key, value in row.items():
                        steady[variant].setdefault(key, []).append(value)
                    show(number, variant, row, load)
    except SanityError as exc:
        print(f"\nsanity check failed: {exc}\n(worker log: {worker_log})", file=sys.stderr)
        return 1

    print(f"\nas fast as {args.clients} clients go (medians over rounds, min-max):")
    summary(fastest)
    print(f"\nat a steady {rate:.1f} bookings/s:")
    summary(steady)
    print()
    print(
        ratio_line(
            f"outbox, {args.clients} clients, worker running,",
            median(fastest["outbox"]["tps"]),
            "in-transaction design",
            median(fastest["inline"]["tps"]),
            1.5,
            "bookings/s",
        ),
        per_round(fastest, "tps"),
    )
    print(
        ratio_line(
            "  the same, counted until the last booking's messages were written,",
            median(fastest["outbox"]["sustained"]),
            "in-transaction",
            median(fastest["inline"]["sustained"]),
            1.5,
            "bookings/s",
        ),
        per_round(fastest, "sustained"),
    )
    outbox = fastest["outbox"]
    print(limit_line("outbox booking latency p95, as fast as it goes", median(outbox["p95"]), 50, digits=1))
    outbox = steady["outbox"]
    print(limit_line(f"outbox booking latency p95, {rate:.0f}/s", median(outbox["p95"]), 50, digits=1))
    print(
        limit_line(
            f"outbox booking -> messages written, mean, {rate:.0f}/s", median(outbox["delay mean"]), 100
        )
    )
    print(
        limit_line(
            f"outbox booking -> messages written, p95, {rate:.0f}/s", median(outbox["delay p95"]), 1000
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
