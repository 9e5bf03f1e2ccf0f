"""Fairness: a flood of jobs that keep failing does not starve the jobs behind them.

Workspace A floods the queue with SMS messages while the SMS provider hangs past
PROVIDER_TIMEOUT_SECONDS (every attempt fails transiently, slowly); workspace B's email is queued
right behind them. A failed attempt goes back on the queue only after its backoff
(retry_delay: at least WORKER_RETRY_BASE_SECONDS / 2), so the worker passes over the failing
jobs once and then reaches B's. The bound: B's email is sent within one pass over the jobs
queued before it, (jobs ahead / WORKER_CONCURRENCY) x PROVIDER_TIMEOUT_SECONDS, plus
SLACK_SECONDS. Retried at once instead, the failing jobs (lower msg_ids, read first) would come
back ahead of B's until their attempts ran out: WORKER_MAX_ATTEMPTS passes.
"""

from __future__ import annotations

import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.message_support import create_messaging_workspace, queue_messages
from tests.stubs import ResendStub, TwilioStub
from tests.test_message_delivery_process import statuses
from tests.test_worker_process import eventually, start_worker

FLOOD = 24
CONCURRENCY = 4
PROVIDER_TIMEOUT_SECONDS = 0.5
SLACK_SECONDS = 4.0
ONE_PASS_SECONDS = FLOOD / CONCURRENCY * PROVIDER_TIMEOUT_SECONDS


@pytest.fixture
def queue(autocommit_conn: psycopg.Connection) -> Iterator[str]:
    name = f"fairness_{uuid.uuid4().hex[:8]}"
    autocommit_conn.execute("select pgmq.create(%s)", [name])
    yield name
    autocommit_conn.execute("select pgmq.drop_queue(%s)", [name])


def test_a_flood_of_failing_sms_does_not_hold_back_another_workspaces_email(
    db_url: str, queue: str, autocommit_conn: psycopg.Connection, tmp_path: Path
) -> None:
    flooding = create_messaging_workspace(autocommit_conn)
    other = create_messaging_workspace(autocommit_conn)
    with (
        ResendStub() as resend,
        TwilioStub(hang_seconds=PROVIDER_TIMEOUT_SECONDS * 4) as twilio,
    ):
        twilio.mode = "hang"
        log = tmp_path / "worker.log"
        with log.open("w") as out:
            worker = start_worker(
                db_url,
                queue,
                stdout=out,
                WORKER_CONCURRENCY=str(CONCURRENCY),
                PROVIDER_TIMEOUT_SECONDS=str(PROVIDER_TIMEOUT_SECONDS),
                WORKER_RETRY_BASE_SECONDS="60",
                EMAIL_PROVIDERS="resend",
                RESEND_API_KEY="re_test",
                RESEND_API_URL=resend.url,
                SMS_PROVIDERS="twilio",
                TWILIO_ACCOUNT_SID="AC_test",
                TWILIO_AUTH_TOKEN="test",
                TWILIO_FROM_NUMBER="+15005550006",
                TWILIO_API_URL=twilio.url,
            )
        try:
            eventually(lambda: "worker on queue" in log.read_text())
            flood = queue_messages(autocommit_conn, flooding, queue, FLOOD, channel="sms")
            queued_at = time.monotonic()
            email = queue_messages(autocommit_conn, other, queue, 1)
            eventually(lambda: statuses(autocommit_conn, email)["sent"] == 1, timeout=60)
            waited = time.monotonic() - queued_at
            # Every SMS was tried once and is waiting for its backoff, none was sent.
            eventually(lambda: statuses(autocommit_conn, flood)["queued"] == FLOOD, timeout=10)
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=30)
        finally:
            worker.kill()
    assert waited <= ONE_PASS_SECONDS + SLACK_SECONDS, f"B's email waited {waited:.1f}s\n{log.read_text()}"
    attempts = autocommit_conn.execute(
        "select max(attempts) from public.messages where id = any(%s)", [flood]
    ).fetchone()[0]
    assert attempts == 1
