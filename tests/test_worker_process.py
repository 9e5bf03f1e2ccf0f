"""`python -m worker` as a real process: signals mid-batch, and several processes on one queue."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.stubs import ResendStub

ROOT = Path(__file__).resolve().parent.parent


def start_worker(
    db_url: str, queue: str, *args: str, stdout: Any = subprocess.PIPE, **env: str
) -> subprocess.Popen[str]:
    environment = {
        **os.environ,
        "DATABASE_URL": db_url,
        "QUEUE_NAME": queue,
        "EVENT_QUEUE_NAME": queue,
        "WORKER_IMPORTS": "tests.worker_handlers",
        "WORKER_POLL_SECONDS": "1",
        "WORKER_VISIBILITY_TIMEOUT_SECONDS": "60",
        **env,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "worker", *args],
        cwd=ROOT,
        env=environment,
        stdout=stdout,
        stderr=subprocess.STDOUT,
        text=True,
    )


def send_jobs(conn: psycopg.Connection, queue: str, kind: str, payloads: list[dict[str, object]]) -> None:
    for payload in payloads:
        conn.execute(
            "select pgmq.send(%s, %s::jsonb)", [queue, json.dumps({"kind": kind, "payload": payload})]
        )


def eventually(condition: Callable[[], bool], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition never became true")
        time.sleep(0.05)


def read_count(conn: psycopg.Connection, queue: str) -> int:
    return conn.execute(f"select count(*) from pgmq.q_{queue} where read_ct > 0").fetchone()[0]


def queue_state(conn: psycopg.Connection, queue: str) -> tuple[int, list[tuple[int, bool]]]:
    """(archived count, [(read_ct, visible now)] of what is still queued)."""
    archived = conn.execute(f"select count(*) from pgmq.a_{queue}").fetchone()[0]
    queued = conn.execute(f"select read_ct, vt <= now() from pgmq.q_{queue} order by msg_id").fetchall()
    return archived, queued


def finish(process: subprocess.Popen[str], timeout: float = 15) -> tuple[int, str]:
    output, _ = process.communicate(timeout=timeout)
    return process.returncode, output


def test_sigterm_mid_batch_finishes_running_jobs_and_releases_the_rest(
    db_url: str, queue: str, autocommit_conn: psycopg.Connection
) -> None:
    send_jobs(autocommit_conn, queue, "test_sleep", [{"seconds": 1.5}] * 6)
    # Two threads, batches of two: two jobs run, two more wait in the process, two stay queued.
    worker = start_worker(db_url, queue, WORKER_CONCURRENCY="2", WORKER_BATCH_SIZE="2")
    try:
        eventually(lambda: read_count(autocommit_conn, queue) == 4)
        time.sleep(0.3)
        worker.send_signal(signal.SIGTERM)
        code, output = finish(worker)
    finally:
        worker.kill()
    assert code == 0, output
    archived, queued = queue_state(autocommit_conn, queue)
    assert archived == 2  # the two running jobs finished
    assert sorted(queued) == [(0, True), (0, True), (1, True), (1, True)]  # released: visible now
    assert "finishing the jobs in flight" in output


def test_jobs_outliving_the_grace_period_are_released(
    db_url: str, queue: str, autocommit_conn: psycopg.Connection
) -> None:
    send_jobs(autocommit_conn, queue, "test_sleep", [{"seconds": 30}])
    worker = start_worker(db_url, queue, WORKER_SHUTDOWN_GRACE_SECONDS="0.5")
    try:
        eventually(lambda: read_count(autocommit_conn, queue) == 1)
        worker.send_signal(signal.SIGINT)
        code, output = finish(worker, timeout=10)
    finally:
        worker.kill()
    assert code == 0, output
    assert queue_state(autocommit_conn, queue) == (0, [(1, True)])


def test_a_second_signal_exits_at_once(db_url: str, queue: str, autocommit_conn: psycopg.Connection) -> None:
    send_jobs(autocommit_conn, queue, "test_sleep", [{"seconds": 30}])
    worker = start_worker(db_url, queue, WORKER_SHUTDOWN_GRACE_SECONDS="60")
    try:
        eventually(lambda: read_count(autocommit_conn, queue) == 1)
        worker.send_signal(signal.SIGTERM)
        eventually(lambda: worker.poll() is None)
        time.sleep(0.3)
        worker.send_signal(signal.SIGTERM)
        code, output = finish(worker, timeout=5)
    finally:
        worker.kill()
    assert code == 1, output
    assert "exiting now" in output
    # Not released: it comes back after its visibility timeout, like after a crash.
    assert queue_state(autocommit_conn, queue) == (0, [(1, False)])


@pytest.mark.parametrize("processes", [2, 4])
def test_several_processes_on_one_queue_send_each_message_once(
    db_url: str, queue: str, autocommit_conn: psycopg.Connection, processes: int, tmp_path: Path
) -> None:
    jobs = 120
    logs = [tmp_path / f"worker-{n}.log" for n in range(processes)]
    with ResendStub(delay_seconds=0.02) as stub:
        workers = []
        for log in logs:
            with log.open("w") as out:
                workers.append(
                    start_worker(
                        db_url,
                        queue,
                        WORKER_CONCURRENCY="4",
                        EMAIL_PROVIDERS="resend",
                        RESEND_API_KEY="re_test",
                        RESEND_API_URL=stub.url,
                        stdout=out,
                    )
                )
        try:
            # Every process is polling before the jobs arrive, so they compete for them.
            eventually(lambda: all("worker on queue" in log.read_text() for log in logs))
            send_jobs(autocommit_conn, queue, "test_email", [{"key": f"k-{n}"} for n in range(jobs)])
            eventually(lambda: queue_state(autocommit_conn, queue)[0] == jobs, timeout=60)
            for worker in workers:
                worker.send_signal(signal.SIGTERM)
            codes = [worker.wait(timeout=15) for worker in workers]
        finally:
            for worker in workers:
                worker.kill()
        requests_per_key = Counter(request.headers["Idempotency-Key"] for request in stub.requests)
    outputs = [log.read_text() for log in logs]
    assert codes == [0] * processes, outputs
    # Not merely deduplicated by the provider: each key was requested exactly once.
    assert requests_per_key == Counter({f"k-{n}": 1 for n in range(jobs)})
    assert queue_state(autocommit_conn, queue) == (jobs, [])
    sent_per_process = [output.count('"outcome": "sent"') for output in outputs]
    assert sum(sent_per_process) == jobs
    assert sum(1 for sent in sent_per_process if sent) > 1  # the work was shared


def test_kill_9_mid_batch_repeatedly_loses_nothing_and_sends_each_key_once(
    db_url: str, queue: str, autocommit_conn: psycopg.Connection
) -> None:
    """At-least-once jobs plus the provider's idempotency key: every email is delivered exactly
    once at the provider and every job is archived, however often the worker dies mid-send."""
    kills = 20
    keys: list[str] = []

    def enqueue(count: int) -> None:
        new = [f"k-{len(keys) + n}" for n in range(count)]
        keys.extend(new)
        send_jobs(autocommit_conn, queue, "test_email", [{"key": key} for key in new])

    env = {
        "WORKER_CONCURRENCY": "8",
        "WORKER_VISIBILITY_TIMEOUT_SECONDS": "1",  # killed jobs come back quickly
        "EMAIL_PROVIDERS": "resend",
        "RESEND_API_KEY": "re_test",
    }
    with ResendStub(delay_seconds=0.02) as stub:
        env["RESEND_API_URL"] = stub.url
        enqueue(100)
        for _ in range(kills):
            seen = len(stub.requests)
            worker = start_worker(db_url, queue, stdout=subprocess.DEVNULL, **env)
            try:
                eventually(lambda seen=seen: len(stub.requests) >= seen + 5)  # mid-batch: sends in flight
            finally:
                worker.kill()
                worker.wait(timeout=10)
            enqueue(10)  # the load goes on while the worker is down
        worker = start_worker(db_url, queue, stdout=subprocess.DEVNULL, **env)
        try:
            eventually(lambda: queue_state(autocommit_conn, queue)[0] == len(keys), timeout=60)
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(timeout=15) == 0
        finally:
            worker.kill()
        requests_per_key = Counter(request.headers["Idempotency-Key"] for request in stub.requests)

    assert queue_state(autocommit_conn, queue) == (len(keys), [])  # none lost, none left
    assert stub.deliveries == Counter(dict.fromkeys(keys, 1))  # each delivered exactly once
    assert set(requests_per_key) == set(keys)
    assert max(requests_per_key.values()) > 1  # the kills did cause resends, which the key suppressed
