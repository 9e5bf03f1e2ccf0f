"""`python -m worker` delivering message rows as real processes: kill -9 mid-batch under load, and
two or four processes on one queue."""

from __future__ import annotations

import signal
import subprocess
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.message_support import create_messaging_workspace, queue_messages
from tests.stubs import ResendStub
from tests.test_worker_process import eventually, start_worker
from worker.handlers.messages import provider_key


@pytest.fixture
def queue(autocommit_conn: psycopg.Connection) -> Iterator[str]:
    name = f"delivery_process_{uuid.uuid4().hex[:8]}"
    autocommit_conn.execute("select pgmq.create(%s)", [name])
    yield name
    autocommit_conn.execute("select pgmq.drop_queue(%s)", [name])


def statuses(conn: psycopg.Connection, ids: list[uuid.UUID]) -> Counter[str]:
    rows = conn.execute("select status from public.messages where id = any(%s)", [ids]).fetchall()
    return Counter(status for (status,) in rows)


def jobs_left(conn: psycopg.Connection, queue: str) -> int:
    return conn.execute(f"select count(*) from pgmq.q_{queue}").fetchone()[0]


def test_kill_9_mid_batch_twenty_times_sends_each_message_once_and_loses_none(
    db_url: str, queue: str, autocommit_conn: psycopg.Connection
) -> None:
    """Claims, provider keys and at-least-once jobs: however often the worker dies mid-send, every
    message ends `sent`, delivered exactly once at the provider, with no job left behind."""
    place = create_messaging_workspace(autocommit_conn)
    kills = 20
    ids: list[uuid.UUID] = []
    env = {
        "WORKER_CONCURRENCY": "8",
        # Killed jobs come back and killed claims are taken over quickly.
        "WORKER_VISIBILITY_TIMEOUT_SECONDS": "2",
        "WORKER_CLAIM_TIMEOUT_SECONDS": "2",
        "EMAIL_PROVIDERS": "resend",
        "RESEND_API_KEY": "re_test",
    }
    with ResendStub(delay_seconds=0.02) as stub:
        env["RESEND_API_URL"] = stub.url
        ids += queue_messages(autocommit_conn, place, queue, 100)
        for _ in range(kills):
            seen = len(stub.requests)
            worker = start_worker(db_url, queue, stdout=subprocess.DEVNULL, **env)
            try:
                eventually(lambda seen=seen: len(stub.requests) >= seen + 5)  # mid-batch: sends in flight
            finally:
                worker.kill()
                worker.wait(timeout=10)
            ids += queue_messages(autocommit_conn, place, queue, 10)  # the load goes on meanwhile
        worker = start_worker(db_url, queue, stdout=subprocess.DEVNULL, **env)
        try:
            eventually(
                lambda: (
                    statuses(autocommit_conn, ids) == Counter(sent=len(ids))
                    and jobs_left(autocommit_conn, queue) == 0
                ),
                timeout=120,
            )
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(timeout=15) == 0
        finally:
            worker.kill()
        requests_per_key = Counter(request.headers["Idempotency-Key"] for request in stub.requests)

    keys = [provider_key(message_id) for message_id in ids]
    assert stub.deliveries == Counter(dict.fromkeys(keys, 1))  # each delivered exactly once
    assert set(requests_per_key) == set(keys)  # none lost
    assert (
        max(requests_per_key.values()) > 1
    )  # kills after a send did cause resends, which the key suppressed
    provider_ids = autocommit_conn.execute(
        "select id, provider_message_id from public.messages where id = any(%s)", [ids]
    ).fetchall()
    assert {
        provider_key(message_id): provider_id for message_id, provider_id in provider_ids
    } == stub.ids_by_key


@pytest.mark.parametrize("processes", [2, 4])
def test_several_processes_on_one_queue_send_each_message_once(
    db_url: str, queue: str, autocommit_conn: psycopg.Connection, processes: int, tmp_path: Path
) -> None:
    deliver_with_processes(db_url, queue, autocommit_conn, processes, tmp_path)


def deliver_with_processes(
    worker_url: str,
    queue: str,
    autocommit_conn: psycopg.Connection,
    processes: int,
    tmp_path: Path,
    messages: int = 120,
    **env: str,
) -> None:
    """`processes` workers (4 in flight each) connected to `worker_url` drain `messages` message
    rows of one workspace: each is sent exactly once (one request per key at the provider, one
    claim), none is lost, no job is left, and more than one process did some of the work."""
    place = create_messaging_workspace(autocommit_conn)
    logs = [tmp_path / f"worker-{n}.log" for n in range(processes)]
    with ResendStub(delay_seconds=0.02) as stub:
        workers = []
        for log in logs:
            with log.open("w") as out:
                workers.append(
                    start_worker(
                        worker_url,
                        queue,
                        WORKER_CONCURRENCY="4",
                        EMAIL_PROVIDERS="resend",
                        RESEND_API_KEY="re_test",
                        RESEND_API_URL=stub.url,
                        stdout=out,
                        **env,
                    )
                )
        try:
            eventually(lambda: all("worker on queue" in log.read_text() for log in logs))
            ids = queue_messages(autocommit_conn, place, queue, messages)
            eventually(lambda: statuses(autocommit_conn, ids) == Counter(sent=len(ids)), timeout=60)
            eventually(lambda: jobs_left(autocommit_conn, queue) == 0)
            for worker in workers:
                worker.send_signal(signal.SIGTERM)
            codes = [worker.wait(timeout=15) for worker in workers]
        finally:
            for worker in workers:
                worker.kill()
        requests_per_key = Counter(request.headers["Idempotency-Key"] for request in stub.requests)
    outputs = [log.read_text() for log in logs]
    assert codes == [0] * processes, outputs
    # Not merely deduplicated by the provider: each message was requested exactly once.
    assert requests_per_key == Counter({provider_key(message_id): 1 for message_id in ids})
    attempts = autocommit_conn.execute("select max(attempts) from public.messages where id = any(%s)", [ids])
    assert attempts.fetchone()[0] == 1
    sent_per_process = [output.count('"outcome": "sent"') for output in outputs]
    assert sum(sent_per_process) == len(ids)
    assert sum(1 for sent in sent_per_process if sent) > 1  # the work was shared
