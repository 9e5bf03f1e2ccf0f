import logging
import threading
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import dict_row

from worker.registry import handler_for
from worker.settings import Settings

log = logging.getLogger("worker")


@dataclass
class BatchResult:
    done: int = 0
    deferred: int = 0
    failed: int = 0


def read_batch(conn: psycopg.Connection, settings: Settings, poll: bool) -> list[dict[str, Any]]:
    if poll:
        return conn.execute(
            "select msg_id, read_ct, message from pgmq.read_with_poll(%s, %s, %s, %s)",
            [
                settings.queue_name,
                settings.worker_visibility_timeout_seconds,
                settings.worker_batch_size,
                settings.worker_poll_seconds,
            ],
        ).fetchall()
    return conn.execute(
        "select msg_id, read_ct, message from pgmq.read(%s, %s, %s)",
        [
            settings.queue_name,
            settings.worker_visibility_timeout_seconds,
            settings.worker_batch_size,
        ],
    ).fetchall()


def process(conn: psycopg.Connection, settings: Settings, message: dict[str, Any]) -> str:
    """Run one job; archive it when its handler succeeds. Returns done|deferred|failed."""
    body = message["message"] or {}
    kind = body.get("kind", "")
    handler = handler_for(kind)
    if handler is None:
        conn.execute(
            "select pgmq.set_vt(%s, %s, %s)",
            [settings.queue_name, message["msg_id"], settings.worker_unhandled_delay_seconds],
        )
        log.info("no handler for %r yet; job %s stays queued", kind, message["msg_id"])
        return "deferred"
    try:
        with conn.transaction():
            handler(conn, body.get("payload") or {})
            conn.execute("select pgmq.archive(%s, %s)", [settings.queue_name, message["msg_id"]])
    except Exception:
        # The message becomes visible again after its visibility timeout: that is the retry.
        log.exception("job %s (%s) failed on attempt %s", message["msg_id"], kind, message["read_ct"])
        return "failed"
    return "done"


def run(settings: Settings, stop: threading.Event, burst: bool = False) -> BatchResult:
    """Drain the queue until `stop` is set; in burst mode, until the queue has nothing visible."""
    totals = BatchResult()
    with psycopg.connect(str(settings.database_url), autocommit=True, row_factory=dict_row) as conn:
        log.info("worker listening on queue %r", settings.queue_name)
        while not stop.is_set():
            batch = read_batch(conn, settings, poll=not burst)
            if not batch and burst:
                break
            for message in batch:
                outcome = process(conn, settings, message)
                setattr(totals, outcome, getattr(totals, outcome) + 1)
    log.info("worker stopped: %s", totals)
    return totals
