"""pgmq read latency as the archive and the backlog grow (issue 20: 10M archived, 1M queued).

    .venv/bin/python bench/queue_archive.py [DATABASE_URL] [--archived N] [--queued N] [--reads 300]

DATABASE_URL (default: $TEST_DATABASE_URL) is a migrated database with pgmq; the benchmark makes
two queues of its own there and drops them at the end. Sizes default to
$BENCH_ARCHIVE_ROWS (200,000) archived and $BENCH_QUEUED_ROWS (50,000) queued jobs.

In the same run, for an empty queue pair and for one with the archive and backlog filled
(rows written with generate_series straight into pgmq's tables, as pgmq.send and pgmq.archive
would leave them), it measures per call, p50 / p95 in ms:

    read+archive   pgmq.read(queue, 30 s, 10) and pgmq.archive of the 10 ids (the worker's path)
    send           pgmq.send of one job
    metrics        pgmq.metrics(queue) (what private.metrics_snapshot reads every scrape)

A benchmark reports: it exits 0 whatever the figures.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from collections.abc import Callable

import psycopg
from harness import median, p95


def fill(conn: psycopg.Connection, queue: str, archived: int, queued: int) -> None:
    """Archived jobs first (older ids), then the backlog; both as pgmq writes them."""
    body = """jsonb_build_object('kind', 'deliver_message', 'payload',
        jsonb_build_object('message_id', gen_random_uuid()))"""
    conn.execute(
        f"insert into pgmq.a_{queue} (msg_id, read_ct, enqueued_at, archived_at, vt, message)"
        f" select n, 1, now() - interval '7 days' + n * interval '1 ms',"
        f" now() - interval '7 days' + n * interval '1 ms', now() - interval '7 days', {body}"
        " from generate_series(1, %s) as n",
        [archived],
    )
    conn.execute(
        f"insert into pgmq.q_{queue} (msg_id, read_ct, enqueued_at, vt, message)"
        f" overriding system value select %s + n, 0, now(), now(), {body}"
        " from generate_series(1, %s) as n",
        [archived, queued],
    )
    conn.execute(
        f"select setval(pg_get_serial_sequence('pgmq.q_{queue}', 'msg_id'), %s)", [archived + queued]
    )
    conn.execute(f"vacuum analyze pgmq.q_{queue}")
    conn.execute(f"vacuum analyze pgmq.a_{queue}")


def timed(call: Callable[[], object], times: int) -> tuple[float, float]:
    samples = []
    for _ in range(times):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return median(samples), p95(samples)


def measure(conn: psycopg.Connection, queue: str, reads: int) -> dict[str, tuple[float, float]]:
    def read_and_archive() -> None:
        ids = [row[0] for row in conn.execute("select msg_id from pgmq.read(%s, 30, 10)", [queue])]
        conn.execute("select pgmq.archive(%s, %s::bigint[])", [queue, ids])

    return {
        "read+archive": timed(read_and_archive, reads),
        "send": timed(lambda: conn.execute("select pgmq.send(%s, '{}'::jsonb)", [queue]), reads),
        "metrics": timed(lambda: conn.execute("select * from pgmq.metrics(%s)", [queue]).fetchall(), 20),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("database_url", nargs="?", default=os.environ.get("TEST_DATABASE_URL"))
    parser.add_argument("--archived", type=int, default=int(os.environ.get("BENCH_ARCHIVE_ROWS", 200_000)))
    parser.add_argument("--queued", type=int, default=int(os.environ.get("BENCH_QUEUED_ROWS", 50_000)))
    parser.add_argument("--reads", type=int, default=300)
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("give DATABASE_URL or set TEST_DATABASE_URL")
    tag = uuid.uuid4().hex[:8]
    empty, full = f"bench_archive_empty_{tag}", f"bench_archive_full_{tag}"
    with psycopg.connect(args.database_url, autocommit=True) as conn:
        for queue in (empty, full):
            conn.execute("select pgmq.create(%s)", [queue])
        try:
            started = time.perf_counter()
            fill(conn, full, args.archived, args.queued)
            print(
                f"filled {args.archived:,} archived + {args.queued:,} queued"
                f" in {time.perf_counter() - started:.0f}s"
            )
            sizes = conn.execute(
                "select pg_size_pretty(pg_total_relation_size(%s::regclass)),"
                " pg_size_pretty(pg_total_relation_size(%s::regclass))",
                [f"pgmq.a_{full}", f"pgmq.q_{full}"],
            ).fetchone()
            results = {queue: measure(conn, queue, args.reads) for queue in (empty, full)}
        finally:
            for queue in (empty, full):
                conn.execute("select pgmq.drop_queue(%s)", [queue])
    print(f"archive table {sizes[0]}, queue table {sizes[1]}; {args.reads} calls each (metrics: 20)")
    print(f"{'call':<14}{'empty p50':>11}{'p95':>8}{'full p50':>11}{'p95':>8}  (ms)")
    for call in results[empty]:
        (e50, e95), (f50, f95) = results[empty][call], results[full][call]
        print(f"{call:<14}{e50:>11.2f}{e95:>8.2f}{f50:>11.2f}{f95:>8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
