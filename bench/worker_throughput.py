"""Worker throughput: jobs/s through `python -m worker` processes vs a raw pgmq loop.

    .venv/bin/python bench/worker_throughput.py [DATABASE_URL] [--jobs 4000] [--stub-jobs 1500]
        [--processes 1,2,4] [--concurrency 16] [--stub-concurrency 32] [--pooler POOL_SIZE]

DATABASE_URL (default: $TEST_DATABASE_URL) is a migrated database with pgmq; the benchmark
creates its own queue `bench_worker_<random>` there and drops it at the end.

In the same run it measures:

    raw per-message   one connection: pgmq.read(batch 10), then pgmq.archive per message
    raw batched       one connection: pgmq.read(batch 10), then one pgmq.archive(ids[])
    noop              worker processes with a handler that does nothing
    console email     worker processes sending through the console provider (logs on, to a file)
    50 ms stub        worker processes sending through the resend SDK to a local stub that
                      answers after 50 ms
    console messages  deliver_message jobs for message rows (issue #9, end to end): claim the
                      rows of a read batch in one statement, send each through the console
                      provider, record `sent` and archive in grouped statements
    50 ms messages    the same through the resend SDK to the 50 ms stub

With --pooler N the worker processes connect through a real PgBouncer in transaction mode
(tests/pooler.py, N server connections, DATABASE_TRANSACTION_POOLER=true), as behind hosted
Supabase's Supavisor on port 6543; the benchmark's own connection stays direct.

Message rows are inserted before the clock starts (what book_appointment and the sweeps
write); their deliver_message jobs are queued while the workers poll, and the clock stops when
the last job is archived; every row must then be `sent` (and each key requested once at the stub).

For each worker case and each process count, the jobs are queued at once (pgmq.send_batch)
while the processes are already polling; the clock stops when the last job is archived.
It prints jobs/s and the ratio to the raw per-message loop. A benchmark reports: it exits 0
whatever the figures, 1 only when a sanity check fails (a job not archived exactly once).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness import limit_line, ratio_line  # noqa: E402

from tests.message_support import (  # noqa: E402
    MessagingWorkspace,
    create_messaging_workspace,
    send_delivery_jobs,
)
from tests.pooler import PgBouncer  # noqa: E402
from tests.stubs import ResendStub  # noqa: E402

TARGET_CONSOLE_RATE = 1000
TARGET_RAW_RATIO = 0.5
TARGET_STUB_RATE = 300


def enqueue(conn: psycopg.Connection, queue: str, kind: str, count: int) -> None:
    message = json.dumps({"kind": kind, "payload": {}})
    for start in range(0, count, 1000):
        size = min(1000, count - start)
        conn.execute(
            "select pgmq.send_batch(%s, array_fill(%s::jsonb, array[%s]))",
            [queue, message, size],
        )


def archived(conn: psycopg.Connection, queue: str) -> int:
    return conn.execute(f"select count(*) from pgmq.a_{queue}").fetchone()[0]


def reset(conn: psycopg.Connection, queue: str) -> None:
    conn.execute(f"truncate pgmq.q_{queue}, pgmq.a_{queue}")


def raw_loop(conn: psycopg.Connection, queue: str, jobs: int, batched: bool) -> float:
    enqueue(conn, queue, "raw", jobs)
    done = 0
    started = time.perf_counter()
    while done < jobs:
        ids = [row[0] for row in conn.execute("select msg_id from pgmq.read(%s, 30, 10)", [queue]).fetchall()]
        if batched:
            conn.execute("select pgmq.archive(%s, %s::bigint[])", [queue, ids])
        else:
            for msg_id in ids:
                conn.execute("select pgmq.archive(%s, %s::bigint)", [queue, msg_id])
        done += len(ids)
    elapsed = time.perf_counter() - started
    check_archived(conn, queue, jobs)
    return jobs / elapsed


def check_archived(conn: psycopg.Connection, queue: str, jobs: int) -> None:
    got = archived(conn, queue)
    left = conn.execute(f"select count(*) from pgmq.q_{queue}").fetchone()[0]
    if got != jobs or left:
        raise SystemExit(f"sanity check failed: {got} archived, {left} left, expected {jobs} archived")
    reset(conn, queue)


# Set by main() with --pooler: the workers' DATABASE_URL is PgBouncer's then.
POOLER_ENV: dict[str, str] = {}


def worker_run(
    conn: psycopg.Connection,
    db_url: str,
    queue: str,
    kind: str,
    jobs: int,
    processes: int,
    concurrency: int,
    env: dict[str, str],
    send: Callable[[], None] | None = None,
) -> float:
    """`send` queues the jobs (default: `jobs` empty jobs of `kind`)."""
    logs = Path(tempfile.mkdtemp(prefix="bench-worker-"))
    environment = {
        **os.environ,
        "DATABASE_URL": db_url,
        "QUEUE_NAME": queue,
        "WORKER_IMPORTS": "bench.worker_handlers",
        "WORKER_CONCURRENCY": str(concurrency),
        "WORKER_BATCH_SIZE": "10",
        "WORKER_POLL_SECONDS": "1",
        **POOLER_ENV,
        **env,
    }
    workers = []
    for n in range(processes):
        with (logs / f"{n}.log").open("w") as out:
            workers.append(
                subprocess.Popen(
                    [sys.executable, "-m", "worker"],
                    cwd=ROOT,
                    env=environment,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            )
    try:
        wait_for(lambda: all("worker on queue" in (logs / f"{n}.log").read_text() for n in range(processes)))
        started = time.perf_counter()
        if send is None:
            enqueue(conn, queue, kind, jobs)
        else:
            send()
        wait_for(lambda: archived(conn, queue) >= jobs, timeout=600, pause=0.02)
        elapsed = time.perf_counter() - started
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
    check_archived(conn, queue, jobs)
    return jobs / elapsed


def insert_message_rows(conn: psycopg.Connection, place: MessagingWorkspace, count: int) -> list[uuid.UUID]:
    """Queued outbound email rows, without their jobs (sent later, on the clock)."""
    rows = conn.execute(
        """
        insert into public.messages (
            workspace_id, conversation_id, direction, channel, kind, subject, body, recipient, status,
            idempotency_key
        )
        select %s, %s, 'outbound', 'email', 'automated', 'Your visit', 'See you soon ' || n,
            'guest@example.test', 'queued', %s || n
        from generate_series(1, %s) as n
        returning id
        """,
        [place.workspace_id, place.conversation_id, f"bench:{uuid.uuid4()}:", count],
    ).fetchall()
    conn.execute("analyze public.messages")
    return [row[0] for row in rows]


def message_run(
    conn: psycopg.Connection,
    db_url: str,
    queue: str,
    place: MessagingWorkspace,
    jobs: int,
    processes: int,
    concurrency: int,
    env: dict[str, str],
) -> float:
    ids = insert_message_rows(conn, place, jobs)

    def send() -> None:
        for start in range(0, jobs, 1000):
            send_delivery_jobs(conn, queue, ids[start : start + 1000])

    rate = worker_run(conn, db_url, queue, "deliver_message", jobs, processes, concurrency, env, send)
    sent = conn.execute(
        "select count(*) from public.messages where id = any(%s) and status = 'sent' and attempts = 1", [ids]
    ).fetchone()[0]
    if sent != jobs:
        raise SystemExit(f"sanity check failed: {sent} of {jobs} message rows sent once")
    return rate


def wait_for(condition: Callable[[], bool], timeout: float = 60, pause: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit("sanity check failed: timed out")
        time.sleep(pause)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("database_url", nargs="?", default=os.environ.get("TEST_DATABASE_URL"))
    parser.add_argument("--jobs", type=int, default=4000, help="jobs per raw, noop and console run")
    parser.add_argument("--stub-jobs", type=int, default=1500, help="jobs per 50 ms stub run")
    parser.add_argument("--processes", default="1,2,4", help="worker process counts to try")
    parser.add_argument("--concurrency", type=int, default=16, help="WORKER_CONCURRENCY, noop and console")
    parser.add_argument(
        "--case",
        choices=["noop", "console", "stub", "messages", "stub-messages"],
        action="append",
        help="default: all (raw always runs)",
    )
    parser.add_argument("--stub-concurrency", type=int, default=32, help="WORKER_CONCURRENCY, 50 ms stub")
    parser.add_argument("--pooler", type=int, default=0, help="workers through PgBouncer with this pool size")
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("give DATABASE_URL or set TEST_DATABASE_URL")
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    process_counts = [int(n) for n in args.processes.split(",")]
    cases = set(args.case or ["noop", "console", "stub", "messages", "stub-messages"])
    queue = f"bench_worker_{uuid.uuid4().hex[:8]}"
    rows: list[tuple[str, int, int, float]] = []
    with contextlib.ExitStack() as stack:
        if args.pooler:
            bouncer = stack.enter_context(PgBouncer(args.database_url, pool_size=args.pooler))
            POOLER_ENV.update(DATABASE_URL=bouncer.url, DATABASE_TRANSACTION_POOLER="true")
            print(f"workers through PgBouncer (transaction mode, {args.pooler} server connections)")
        run_cases(args, cases, process_counts, queue, rows)
    report(args, rows)
    return 0


def run_cases(
    args: argparse.Namespace,
    cases: set[str],
    process_counts: list[int],
    queue: str,
    rows: list[tuple[str, int, int, float]],
) -> None:
    with psycopg.connect(args.database_url, autocommit=True) as conn:
        conn.execute("select pgmq.create(%s)", [queue])
        try:
            raw = raw_loop(conn, queue, args.jobs, batched=False)
            rows.append(("raw per-message", 1, 1, raw))
            rows.append(("raw batched", 1, 1, raw_loop(conn, queue, args.jobs, batched=True)))
            console = {"EMAIL_PROVIDERS": "console", "LOG_LEVEL": "INFO"}
            for processes in process_counts if "noop" in cases else []:
                rate = worker_run(
                    conn, args.database_url, queue, "bench_noop", args.jobs, processes, args.concurrency, {}
                )
                rows.append(("noop", processes, args.concurrency, rate))
            for processes in process_counts if "console" in cases else []:
                rate = worker_run(
                    conn,
                    args.database_url,
                    queue,
                    "bench_email",
                    args.jobs,
                    processes,
                    args.concurrency,
                    console,
                )
                rows.append(("console email", processes, args.concurrency, rate))
            place = create_messaging_workspace(conn)
            for processes in process_counts if "messages" in cases else []:
                rate = message_run(
                    conn, args.database_url, queue, place, args.jobs, processes, args.concurrency, console
                )
                rows.append(("console messages", processes, args.concurrency, rate))
            stub_counts = process_counts if "stub" in cases else []
            with ResendStub(delay_seconds=0.05) as stub:
                slow = {"EMAIL_PROVIDERS": "resend", "RESEND_API_KEY": "re_bench", "RESEND_API_URL": stub.url}
                for processes in stub_counts:
                    rate = worker_run(
                        conn,
                        args.database_url,
                        queue,
                        "bench_email",
                        args.stub_jobs,
                        processes,
                        args.stub_concurrency,
                        slow,
                    )
                    rows.append(("50 ms stub", processes, args.stub_concurrency, rate))
                if len(stub.requests) != args.stub_jobs * len(stub_counts):
                    raise SystemExit(f"sanity check failed: {len(stub.requests)} stub requests")
                for processes in process_counts if "stub-messages" in cases else []:
                    rate = message_run(
                        conn,
                        args.database_url,
                        queue,
                        place,
                        args.stub_jobs,
                        processes,
                        args.stub_concurrency,
                        slow,
                    )
                    rows.append(("50 ms messages", processes, args.stub_concurrency, rate))
                message_keys = [
                    key
                    for request in stub.requests
                    if (key := request.headers["Idempotency-Key"]).startswith("message:")
                ]
                expected = args.stub_jobs * len(process_counts if "stub-messages" in cases else [])
                if len(message_keys) != expected or len(set(message_keys)) != expected:
                    raise SystemExit("sanity check failed: a message requested twice at the stub")
        finally:
            conn.execute("select pgmq.drop_queue(%s)", [queue])


def report(args: argparse.Namespace, rows: list[tuple[str, int, int, float]]) -> None:
    raw = rows[0][3]
    print(f"\nworker throughput (jobs/s; ratio to the raw per-message loop, {args.jobs} jobs per run)")
    print(f"{'case':<18}{'processes':>10}{'in flight':>10}{'jobs/s':>10}{'x raw':>8}")
    for case, processes, concurrency, rate in rows:
        print(f"{case:<18}{processes:>10}{concurrency:>10}{rate:>10.0f}{rate / raw:>8.2f}")
    best_console = max([rate for case, _, _, rate in rows if case == "console email"], default=0)
    best_stub = max([rate for case, _, _, rate in rows if case == "50 ms stub"], default=0)
    best_messages = max([rate for case, _, _, rate in rows if case == "console messages"], default=0)
    best_stub_messages = max([rate for case, _, _, rate in rows if case == "50 ms messages"], default=0)
    print()
    raw_name = "raw per-message loop"
    for line in (
        limit_line(
            "message rows, console: best", best_messages, TARGET_CONSOLE_RATE, "msg/s", False, digits=0
        ),
        ratio_line("message rows, console: best", best_messages, raw_name, raw, TARGET_RAW_RATIO, digits=0),
        limit_line(
            "message rows, 50 ms stub: best", best_stub_messages, TARGET_STUB_RATE, "msg/s", False, digits=0
        ),
        limit_line("console email: best", best_console, TARGET_CONSOLE_RATE, "jobs/s", False, digits=0),
        ratio_line("console email: best", best_console, raw_name, raw, TARGET_RAW_RATIO, digits=0),
        limit_line("50 ms stub: best", best_stub, TARGET_STUB_RATE, "jobs/s", False, digits=0),
    ):
        print(line)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
