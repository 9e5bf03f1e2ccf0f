"""The worker loop against a real queue: dispatch by kind, archive on success, retry on failure."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from worker import registry
from worker.loop import run
from worker.settings import Settings


@pytest.fixture
def queue(autocommit_conn: psycopg.Connection) -> Iterator[str]:
    name = f"worker_test_{uuid.uuid4().hex[:8]}"
    autocommit_conn.execute("select pgmq.create(%s)", [name])
    yield name
    autocommit_conn.execute("select pgmq.drop_queue(%s)", [name])


def settings_for(db_url: str, queue: str) -> Settings:
    return Settings(
        database_url=db_url,
        queue_name=queue,
        worker_visibility_timeout_seconds=30,
        worker_unhandled_delay_seconds=600,
    )


def send(conn: psycopg.Connection, queue: str, kind: str, payload: dict[str, Any]) -> int:
    return conn.execute(
        "select pgmq.send(%s, %s::jsonb)", [queue, json.dumps({"kind": kind, "payload": payload})]
    ).fetchone()[0]


def archived_ids(conn: psycopg.Connection, queue: str) -> set[int]:
    return {row[0] for row in conn.execute(f"select msg_id from pgmq.a_{queue}").fetchall()}


def test_burst_dispatches_archives_defers_and_retries(
    db_url: str, queue: str, autocommit_conn: psycopg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[dict[str, Any]] = []

    def record(conn: psycopg.Connection, payload: dict[str, Any]) -> None:
        seen.append(payload)

    def explode(conn: psycopg.Connection, payload: dict[str, Any]) -> None:
        raise RuntimeError("provider down")

    monkeypatch.setattr(registry, "_handlers", {})
    registry.job("test_record")(record)
    registry.job("test_explode")(explode)

    ok = send(autocommit_conn, queue, "test_record", {"n": 1})
    failing = send(autocommit_conn, queue, "test_explode", {"n": 2})
    unknown = send(autocommit_conn, queue, "not_yet_handled", {"n": 3})

    totals = run(settings_for(db_url, queue), threading.Event(), burst=True)

    assert (totals.done, totals.failed, totals.deferred) == (1, 1, 1)
    assert seen == [{"n": 1}]
    assert archived_ids(autocommit_conn, queue) == {ok}
    pending = dict(autocommit_conn.execute(f"select msg_id, read_ct from pgmq.q_{queue}").fetchall())
    assert pending == {failing: 1, unknown: 1}


def test_a_handler_registers_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "_handlers", {})
    registry.job("dup_kind")(lambda conn, payload: None)
    with pytest.raises(ValueError, match="already registered"):
        registry.job("dup_kind")(lambda conn, payload: None)


def test_stop_event_ends_a_polling_worker(db_url: str, queue: str) -> None:
    stop = threading.Event()
    settings = settings_for(db_url, queue)
    settings.worker_poll_seconds = 1
    worker = threading.Thread(target=run, args=(settings, stop))
    worker.start()
    stop.set()
    worker.join(timeout=5)
    assert not worker.is_alive()
