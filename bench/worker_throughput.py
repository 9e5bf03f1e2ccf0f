"""Worker throughput: jobs/s through `python -m worker` processes vs a raw pgmq loop.

    .venv/bin/python bench/worker_throughput.py [DATABASE_URL] [--jobs 4000] [--stub-jobs 1500]
        [--processes 1,2,4] [--concurrency 16] [--batch-size 20] [--stub-concurrency 32] [--rounds 3]
        [--stub-rounds 1] [--warmup-jobs 2000] [--pooler POOL_SIZE]

DATABASE_URL (default: $TEST_DATABASE_URL) is a database of the test cluster (`make test-db`);
the benchmark clones `careops_template` there into `careops_bench_worker` and measures in it
(with `--in-place`, in DATABASE_URL itself: any migrated database with pgmq). It creates its
own queues `bench_worker_<random>` (the workers') and `bench_raw_<random>` (the raw loop's).

In the same run it measures:

    raw per-message   one connection: pgmq.read(a batch), then pgmq.archive per message
    raw batched       one connection: pgmq.read(a batch), then one pgmq.archive(ids[])
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

How a ratio to the raw loop is taken, so that it measures the worker and not the moment:

- warm on both sides: per case and process count the worker processes start once, deliver
  `--warmup-jobs` jobs per process off the clock (every pooled connection opened, its plans
  cached and statements prepared: a worker that has been up a while), then run the measured
  rounds; the raw loop is warmed once the same way;
- interleaved: every measured round of a worker case runs the raw per-message loop over as many
  jobs right before or after it (alternating, raw-worker then worker-raw), so both see the same
  load of a shared machine; the ratio is per round, and the run's figure is the median round's
  (every round is printed, and the lowest);
- the same batches: the raw loop reads as many jobs at once as the workers (`--batch-size`,
  their WORKER_BATCH_SIZE);
- the same window on both sides: jobs are queued invisible (pgmq.send_batch's delay) and the
  clock starts when they become visible, so queueing them is timed in neither; it stops when
  the last job is archived;
- a table in use: `--history` (200,000) sent message rows are loaded first, so plans are made
  for a `messages` table of a workspace in use (on a near-empty table they read it whole);
- the same state: each run measures in a fresh clone of careops_template (`careops_bench_worker`,
  dropped afterwards; `--in-place` measures in DATABASE_URL itself), both queues are truncated
  after each round, each round's message rows are deleted after it and the table vacuumed
  before the next (off the clock), so every round starts from the same tables and autovacuum
  does not start inside one.

Message rows are inserted before the clock starts (what book_appointment and the sweeps
write); every row must end `sent` with attempts = 1 (and each key requested once at the stub).
A benchmark reports: it exits 0 whatever the figures, 1 only when a sanity check fails (a job
not archived exactly once, a row not sent once).
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
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness import bench_database, limit_line, median, ratio_line  # noqa: E402

from tests.message_support import MessagingWorkspace, create_messaging_workspace  # noqa: E402
from tests.pooler import PgBouncer  # noqa: E402
from tests.stubs import ResendStub  # noqa: E402

BENCH_DB = "careops_bench_worker"
TARGET_CONSOLE_RATE = 1000
TARGET_RAW_RATIO = 0.5
TARGET_STUB_RATE = 300


# Jobs become visible this long after they are queued, so queueing them is off the clock.
VISIBLE_AFTER_SECONDS = 1.0


def enqueue(
    conn: psycopg.Connection, queue: str, bodies: list[str] | str, count: int = 0, visible_after: float = 0
) -> float:
    """Queue the job bodies (or `count` copies of one body) in batches of 1000, invisible until
    `visible_after` seconds from now (pgmq.send_batch's delay), so queueing is not measured.
    Returns the perf_counter instant they become visible."""
    bodies = [bodies] * count if isinstance(bodies, str) else bodies
    visible_at = conn.execute(
        "select clock_timestamp() + make_interval(secs => %s)", [visible_after]
    ).fetchone()[0]
    for start in range(0, len(bodies), 1000):
        conn.execute(
            "select pgmq.send_batch(%s, %s::jsonb[], %s::timestamptz)",
            [queue, bodies[start : start + 1000], visible_at],
        )
    remaining = conn.execute("select extract(epoch from %s - clock_timestamp())::float8", [visible_at])
    return time.perf_counter() + max(0.0, remaining.fetchone()[0])


def job_body(kind: str, payload: dict[str, str] | None = None) -> str:
    return json.dumps({"kind": kind, "payload": payload or {}})


def archived(conn: psycopg.Connection, queue: str) -> int:
    return conn.execute(f"select count(*) from pgmq.a_{queue}").fetchone()[0]


def reset(conn: psycopg.Connection, queue: str) -> None:
    conn.execute(f"truncate pgmq.q_{queue}, pgmq.a_{queue}")


# Jobs per pgmq.read, the workers' (WORKER_BATCH_SIZE) and the raw loop's alike; set by main().
BATCH_SIZE = 20


def raw_loop(conn: psycopg.Connection, queue: str, jobs: int, batched: bool) -> float:
    """The least a worker does per job, on one connection: read a batch (as many as the workers
    read at once), archive each (or all at once, `batched`). Timed from the jobs being queued and
    visible to the last archive."""
    enqueue(conn, queue, job_body("raw"), jobs)
    done = 0
    started = time.perf_counter()
    while done < jobs:
        ids = [
            row[0]
            for row in conn.execute(
                "select msg_id from pgmq.read(%s, 30, %s)", [queue, BATCH_SIZE]
            ).fetchall()
        ]
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


@contextlib.contextmanager
def running_workers(
    db_url: str, queue: str, processes: int, concurrency: int, env: dict[str, str]
) -> Iterator[None]:
    """`processes` worker processes polling `queue` for the block's length (started and stopped
    off the clock: long-lived workers are what is measured, not their start-up)."""
    logs = Path(tempfile.mkdtemp(prefix="bench-worker-"))
    environment = {
        **os.environ,
        "DATABASE_URL": db_url,
        "QUEUE_NAME": queue,
        "EVENT_QUEUE_NAME": queue,
        "WORKER_IMPORTS": "bench.worker_handlers",
        "WORKER_CONCURRENCY": str(concurrency),
        "WORKER_BATCH_SIZE": str(BATCH_SIZE),
        "WORKER_POLL_SECONDS": "1",
        **POOLER_ENV,
        **env,
    }
    workers = []
    try:
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
        wait_for(lambda: all("worker on queue" in (logs / f"{n}.log").read_text() for n in range(processes)))
        yield
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()


# Queues `jobs` jobs for the running workers (invisible for a moment); returns when they are visible.
Send = Callable[[int], float]


def timed_delivery(conn: psycopg.Connection, queue: str, jobs: int, send: Send) -> float:
    """jobs/s through the running workers: from the jobs becoming visible (queued beforehand) to
    the last one archived."""
    visible = send(jobs)
    wait_for(lambda: archived(conn, queue) >= jobs, timeout=600, pause=0.02)
    elapsed = time.perf_counter() - visible
    check_archived(conn, queue, jobs)
    return jobs / elapsed


def empty_jobs(conn: psycopg.Connection, queue: str, kind: str) -> Send:
    return lambda jobs: enqueue(conn, queue, job_body(kind), jobs, VISIBLE_AFTER_SECONDS)


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
    # Earlier rounds' updates leave dead rows: vacuumed here, off the clock, so autovacuum
    # does not start in the middle of a measured round.
    conn.execute("vacuum (analyze) public.messages")
    return [row[0] for row in rows]


def seed_message_history(conn: psycopg.Connection, place: MessagingWorkspace, count: int) -> None:
    """`count` sent messages in the workspace's conversation (no triggers: they are history), so
    the claim's and the record's plans are made for a table in use, as in production: on a
    near-empty table the planner reads `messages` whole instead of through its primary key."""
    conn.execute("set session_replication_role = replica")
    try:
        conn.execute(
            """
            insert into public.messages (
                workspace_id, conversation_id, direction, channel, kind, subject, body, recipient,
                status, attempts, idempotency_key, created_at
            )
            select %s, %s, 'outbound', 'email', 'automated', 'Your visit', 'See you soon ' || n,
                'guest@example.test', 'sent', 1, 'history:' || n, now() - n * interval '1 minute'
            from generate_series(1, %s) as n
            """,
            [place.workspace_id, place.conversation_id, count],
        )
    finally:
        conn.execute("set session_replication_role = origin")
    conn.execute("vacuum (analyze) public.messages")


def message_rows(conn: psycopg.Connection, queue: str, place: MessagingWorkspace) -> Send:
    """Inserts `jobs` queued message rows and queues their deliver_message jobs (checked `sent`
    once afterwards by `check_sent`)."""

    def send(jobs: int) -> float:
        ids = insert_message_rows(conn, place, jobs)
        SENT_CHECKS.append(ids)
        bodies = [job_body("deliver_message", {"message_id": str(i)}) for i in ids]
        return enqueue(conn, queue, bodies, visible_after=VISIBLE_AFTER_SECONDS)

    return send


SENT_CHECKS: list[list[uuid.UUID]] = []


def check_sent(conn: psycopg.Connection) -> None:
    """Every message row of the rounds so far ended `sent` once; then they are deleted, so each
    round starts with the same table (the next round's insert vacuums what they leave)."""
    for ids in SENT_CHECKS:
        sent = conn.execute(
            "select count(*) from public.messages where id = any(%s) and status = 'sent' and attempts = 1",
            [ids],
        ).fetchone()[0]
        if sent != len(ids):
            raise SystemExit(f"sanity check failed: {sent} of {len(ids)} message rows sent once")
        conn.execute("delete from public.messages where id = any(%s)", [ids])
    SENT_CHECKS.clear()


@dataclass
class Row:
    """One case at one process count: its measured rounds, and the raw loop's interleaved with them."""

    case: str
    processes: int
    concurrency: int
    rates: list[float]
    raw: list[float] = field(default_factory=list)

    @property
    def ratios(self) -> list[float]:
        return [rate / raw for rate, raw in zip(self.rates, self.raw, strict=True)]


def measure(
    conn: psycopg.Connection,
    raw_queue: str,
    queue: str,
    send: Send,
    jobs: int,
    rounds: int,
    warmup: int,
    with_raw: bool,
) -> tuple[list[float], list[float]]:
    """With the workers running: `warmup` jobs off the clock (every pooled connection opened,
    its plans cached and its statements prepared, as in a worker that has been up for a while),
    then `rounds` measured rounds; with `with_raw`, each round also runs the raw per-message loop
    over the same number of jobs, in alternating order (raw first, then worker first), so both
    see the same moment of the machine. Returns (worker rates, raw rates)."""
    if warmup:
        timed_delivery(conn, queue, warmup, send)
        check_sent(conn)
        if with_raw:
            raw_loop(conn, raw_queue, warmup, batched=False)
    rates: list[float] = []
    raws: list[float] = []
    for n in range(rounds):
        if with_raw and n % 2 == 0:
            raws.append(raw_loop(conn, raw_queue, jobs, batched=False))
        rates.append(timed_delivery(conn, queue, jobs, send))
        check_sent(conn)
        if with_raw and n % 2 == 1:
            raws.append(raw_loop(conn, raw_queue, jobs, batched=False))
    return rates, raws


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
    parser.add_argument("--jobs", type=int, default=4000, help="jobs per raw, noop and console round")
    parser.add_argument("--stub-jobs", type=int, default=1500, help="jobs per 50 ms stub round")
    parser.add_argument("--processes", default="1,2,4", help="worker process counts to try")
    parser.add_argument("--concurrency", type=int, default=16, help="WORKER_CONCURRENCY, noop and console")
    parser.add_argument(
        "--batch-size", type=int, default=20, help="jobs per read: WORKER_BATCH_SIZE and the raw loop's"
    )
    parser.add_argument(
        "--case",
        choices=["noop", "console", "stub", "messages", "stub-messages"],
        action="append",
        help="default: all (raw always runs)",
    )
    parser.add_argument("--stub-concurrency", type=int, default=32, help="WORKER_CONCURRENCY, 50 ms stub")
    parser.add_argument(
        "--rounds", type=int, default=3, help="measured rounds per case and process count (raw interleaved)"
    )
    parser.add_argument("--stub-rounds", type=int, default=1, help="measured rounds of the 50 ms stub cases")
    parser.add_argument(
        "--warmup-jobs", type=int, default=2000, help="jobs per process run off the clock before the rounds"
    )
    parser.add_argument("--pooler", type=int, default=0, help="workers through PgBouncer with this pool size")
    parser.add_argument(
        "--history", type=int, default=200_000, help="sent message rows in the table before the rounds"
    )
    parser.add_argument(
        "--in-place",
        action="store_true",
        help=f"measure in DATABASE_URL itself (default: in {BENCH_DB}, a clone of careops_template there)",
    )
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("give DATABASE_URL or set TEST_DATABASE_URL")
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    global BATCH_SIZE  # one setting for the workers and the raw loop
    BATCH_SIZE = args.batch_size
    process_counts = [int(n) for n in args.processes.split(",")]
    cases = set(args.case or ["noop", "console", "stub", "messages", "stub-messages"])
    suffix = uuid.uuid4().hex[:8]
    rows: list[Row] = []
    with contextlib.ExitStack() as stack:
        if not args.in_place:
            # A fresh clone per run: every run starts from the same tables (a run leaves ~50,000
            # message rows behind, and the cluster's pg_cron schedules run in `postgres` only).
            args.database_url = stack.enter_context(bench_database(args.database_url, BENCH_DB))
        if args.pooler:
            bouncer = stack.enter_context(PgBouncer(args.database_url, pool_size=args.pooler))
            POOLER_ENV.update(DATABASE_URL=bouncer.url, DATABASE_TRANSACTION_POOLER="true")
            print(f"workers through PgBouncer (transaction mode, {args.pooler} server connections)")
        run_cases(args, cases, process_counts, f"bench_raw_{suffix}", f"bench_worker_{suffix}", rows)
    report(args, rows)
    return 0


def run_cases(
    args: argparse.Namespace,
    cases: set[str],
    process_counts: list[int],
    raw_queue: str,
    queue: str,
    rows: list[Row],
) -> None:
    """Every case at every process count, each with its own running workers. The raw loop runs on
    its own queue (the workers poll theirs) on the benchmark's connection, warmed up once first."""
    with psycopg.connect(args.database_url, autocommit=True) as conn:
        conn.execute("select pgmq.create(%s)", [raw_queue])
        conn.execute("select pgmq.create(%s)", [queue])
        try:
            raw_loop(conn, raw_queue, args.warmup_jobs, batched=False)
            raw_loop(conn, raw_queue, args.warmup_jobs, batched=True)
            rows.append(Row("raw batched", 1, 1, [raw_loop(conn, raw_queue, args.jobs, batched=True)]))
            console = {"EMAIL_PROVIDERS": "console", "LOG_LEVEL": "INFO"}
            place = create_messaging_workspace(conn)
            if {"messages", "stub-messages"} & cases:
                seed_message_history(conn, place, args.history)
            plain = [
                ("noop", "noop", empty_jobs(conn, queue, "bench_noop"), {}),
                ("console", "console email", empty_jobs(conn, queue, "bench_email"), console),
                ("messages", "console messages", message_rows(conn, queue, place), console),
            ]
            for key, case, send, env in plain:
                for processes in process_counts if key in cases else []:
                    with running_workers(args.database_url, queue, processes, args.concurrency, env):
                        rates, raws = measure(
                            conn,
                            raw_queue,
                            queue,
                            send,
                            args.jobs,
                            args.rounds,
                            args.warmup_jobs * processes,
                            with_raw=True,
                        )
                    rows.append(Row(case, processes, args.concurrency, rates, raws))
            with ResendStub(delay_seconds=0.05) as stub:
                slow = {"EMAIL_PROVIDERS": "resend", "RESEND_API_KEY": "re_bench", "RESEND_API_URL": stub.url}
                stubbed = [
                    ("stub", "50 ms stub", empty_jobs(conn, queue, "bench_email")),
                    ("stub-messages", "50 ms messages", message_rows(conn, queue, place)),
                ]
                for key, case, send in stubbed:
                    for processes in process_counts if key in cases else []:
                        warmup = min(args.warmup_jobs, args.stub_jobs) * processes
                        concurrency = args.stub_concurrency
                        with running_workers(args.database_url, queue, processes, concurrency, slow):
                            rates, _ = measure(
                                conn, raw_queue, queue, send, args.stub_jobs, args.stub_rounds, warmup, False
                            )
                        rows.append(Row(case, processes, args.stub_concurrency, rates))
                check_stub(stub, args, process_counts, cases)
        finally:
            conn.execute("select pgmq.drop_queue(%s)", [queue])
            conn.execute("select pgmq.drop_queue(%s)", [raw_queue])


def check_stub(
    stub: ResendStub, args: argparse.Namespace, process_counts: list[int], cases: set[str]
) -> None:
    """One request per job at the stub (warm-up included), each message's key once."""
    runs = len([key for key in ("stub", "stub-messages") if key in cases])
    expected = runs * sum(
        min(args.warmup_jobs, args.stub_jobs) * processes + args.stub_jobs * args.stub_rounds
        for processes in process_counts
    )
    if len(stub.requests) != expected:
        raise SystemExit(f"sanity check failed: {len(stub.requests)} stub requests, expected {expected}")
    keys = [
        key for request in stub.requests if (key := request.headers["Idempotency-Key"]).startswith("message:")
    ]
    if len(keys) != len(set(keys)):
        raise SystemExit("sanity check failed: a message requested twice at the stub")


def spread(values: list[float], digits: int = 0) -> str:
    return " ".join(f"{value:.{digits}f}" for value in values)


def report(args: argparse.Namespace, rows: list[Row]) -> None:
    print(
        f"\nworker throughput (jobs/s, warm workers; {args.jobs} jobs per round, {args.rounds} rounds,"
        " the raw per-message loop interleaved with every round)"
    )
    print(f"{'case':<18}{'processes':>10}{'in flight':>10}{'median/s':>10}  rounds/s ; raw/s ; x raw")
    for row in rows:
        detail = spread(row.rates)
        if row.raw:
            detail += f" ; {spread(row.raw)} ; {spread(row.ratios, 2)}"
        print(f"{row.case:<18}{row.processes:>10}{row.concurrency:>10}{median(row.rates):>10.0f}  {detail}")

    def best(case: str) -> Row | None:
        found = [row for row in rows if row.case == case]
        key = (lambda row: median(row.ratios)) if found and found[0].raw else (lambda row: median(row.rates))
        return max(found, key=key, default=None)

    print()
    raw_name = "raw per-message loop (same rounds)"
    for case, name, target in (
        ("console messages", "message rows, console", TARGET_CONSOLE_RATE),
        ("console email", "console email", TARGET_CONSOLE_RATE),
        ("50 ms messages", "message rows, 50 ms stub", TARGET_STUB_RATE),
        ("50 ms stub", "50 ms stub", TARGET_STUB_RATE),
    ):
        row = best(case)
        if row is None:
            continue
        label = f"{name}, {row.processes} process{'es' if row.processes > 1 else ''}, median"
        print(limit_line(label, median(row.rates), target, "msg/s", False, digits=0))
        if row.raw:
            print(
                ratio_line(label, median(row.rates), raw_name, median(row.raw), TARGET_RAW_RATIO, digits=0)
                + f"; per round {spread(row.ratios, 2)} (lowest {min(row.ratios):.2f}x)"
            )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
