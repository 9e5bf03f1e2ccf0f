"""docs/operations.md, "Restore without double-sending": after a point-in-time restore, the
messages the providers already took after the restore point are marked `sent` (by id, from the
old database or the providers' logs) before any worker starts; their queued jobs are then archived
without a send, and the rest go out once."""

from __future__ import annotations

import signal
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.message_support import create_messaging_workspace, queue_messages
from tests.stubs import ResendStub
from tests.test_message_delivery_process import jobs_left, statuses
from tests.test_worker_process import eventually, start_worker
from worker.handlers.messages import provider_key

# The runbook's reconciliation statement, as docs/operations.md gives it.
MARK_SENT = """
update public.messages
set status = 'sent', sent_at = coalesce(sent_at, now()), provider = %(provider)s
where id = any(%(ids)s::uuid[]) and direction = 'outbound' and status in ('queued', 'sending')
"""


@pytest.fixture
def queue(autocommit_conn: psycopg.Connection) -> Iterator[str]:
    name = f"restore_{uuid.uuid4().hex[:8]}"
    autocommit_conn.execute("select pgmq.create(%s)", [name])
    yield name
    autocommit_conn.execute("select pgmq.drop_queue(%s)", [name])


def test_messages_marked_sent_before_the_workers_start_are_not_sent_again(
    db_url: str, queue: str, autocommit_conn: psycopg.Connection, tmp_path: Path
) -> None:
    place = create_messaging_workspace(autocommit_conn)
    ids = queue_messages(autocommit_conn, place, queue, 10)
    already_sent, pending = ids[:6], ids[6:]
    marked = autocommit_conn.execute(MARK_SENT, {"provider": "resend", "ids": already_sent}).rowcount
    assert marked == 6
    log = tmp_path / "worker.log"
    with ResendStub() as stub, log.open("w") as out:
        worker = start_worker(
            db_url,
            queue,
            stdout=out,
            EMAIL_PROVIDERS="resend",
            RESEND_API_KEY="re_test",
            RESEND_API_URL=stub.url,
        )
        try:
            eventually(lambda: jobs_left(autocommit_conn, queue) == 0, timeout=30)
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=15)
        finally:
            worker.kill()
        requested = Counter(request.headers["Idempotency-Key"] for request in stub.requests)
    assert requested == Counter({provider_key(message_id): 1 for message_id in pending})
    assert statuses(autocommit_conn, ids) == Counter(sent=10)
