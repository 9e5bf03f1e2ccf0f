"""The worker loop against a real queue: dispatch by kind, archive on success, retry with backoff,
dead jobs archived, malformed jobs archived, concurrency, reconnects, delivery through providers."""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from typing import Any

import psycopg
import pytest

from tests.stubs import ResendStub, SmtpStub
from worker.jobs import Job, MalformedJob
from worker.loop import APPLICATION_NAME, run
from worker.providers import (
    DeliveryError,
    EmailMessage,
    ProviderChain,
    Providers,
    ResendProvider,
    SmtpProvider,
)
from worker.settings import Settings


def settings_for(db_url: str, queue: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": db_url,
        "queue_name": queue,
        "event_queue_name": queue,
        "worker_visibility_timeout_seconds": 30,
        "worker_unhandled_delay_seconds": 600,
        "worker_poll_seconds": 1,
        "worker_concurrency": 4,
        "provider_timeout_seconds": 0.5,
        **overrides,
    }
    return Settings(**values)


def send(conn: psycopg.Connection, queue: str, kind: str, payload: Any) -> int:
    return send_raw(conn, queue, {"kind": kind, "payload": payload})


def send_raw(conn: psycopg.Connection, queue: str, message: Any) -> int:
    return conn.execute("select pgmq.send(%s, %s::jsonb)", [queue, json.dumps(message)]).fetchone()[0]


def archived_ids(conn: psycopg.Connection, queue: str) -> set[int]:
    return {row[0] for row in conn.execute(f"select msg_id from pgmq.a_{queue}").fetchall()}


def pending(conn: psycopg.Connection, queue: str) -> dict[int, tuple[int, float]]:
    """msg_id -> (read_ct, seconds until visible)."""
    rows = conn.execute(
        f"select msg_id, read_ct, extract(epoch from vt - now())::float from pgmq.q_{queue}"
    ).fetchall()
    return {msg_id: (read_ct, wait) for msg_id, read_ct, wait in rows}


def make_visible(conn: psycopg.Connection, queue: str) -> None:
    conn.execute(f"update pgmq.q_{queue} set vt = now()")


def delivery_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "worker.delivery"]


def job_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "worker.job"]


def test_burst_dispatches_archives_defers_and_retries_with_backoff(
    db_url: str, queue: str, autocommit_conn: psycopg.Connection, handlers: Any
) -> None:
    seen: list[dict[str, Any]] = []

    @handlers("test_record")
    def record(job: Job) -> None:
        seen.append(job.payload)

    @handlers("test_explode")
    def explode(job: Job) -> None:
        raise RuntimeError("provider down")

    ok = send(autocommit_conn, queue, "test_record", {"n": 1})
    failing = send(autocommit_conn, queue, "test_explode", {"n": 2})
    unknown = send(autocommit_conn, queue, "not_yet_handled", {"n": 3})

    settings = settings_for(db_url, queue, worker_retry_base_seconds=100, worker_retry_max_seconds=1000)
    totals = run(settings, threading.Event(), burst=True)

    assert (totals.done, totals.retried, totals.deferred) == (1, 1, 1)
    assert seen == [{"n": 1}]
    assert archived_ids(autocommit_conn, queue) == {ok}
    left = pending(autocommit_conn, queue)
    assert set(left) == {failing, unknown}
    assert left[failing][0] == 1
    assert 45 < left[failing][1] <= 100  # retry_delay(1, 100, 1000): between 50 and 100 seconds
    assert 590 < left[unknown][1] <= 600


def test_a_handler_registers_once(handlers: Any) -> None:
    handlers("dup_kind")(lambda job: None)
    with pytest.raises(ValueError, match="already registered"):
        handlers("dup_kind")(lambda job: None)


def test_a_handler_error_rolls_back_its_writes_and_the_loop_goes_on(
    db_url: str, queue: str, autocommit_conn: psycopg.Connection, handlers: Any
) -> None:
    table = f"worker_probe_{uuid.uuid4().hex[:8]}"
    autocommit_conn.execute(f"create table public.{table} (n int)")
    try:

        @handlers("test_write_then_crash")
        def crash(job: Job) -> None:
            job.conn.execute(f"insert into public.{table} values (%s)", [job.payload["n"]])
            if job.payload["n"] == 1:
                raise ZeroDivisionError("handler bug")

        first = send(autocommit_conn, queue, "test_write_then_crash", {"n": 1})
        second = send(autocommit_conn, queue, "test_write_then_crash", {"n": 2})
        totals = run(settings_for(db_url, queue), threading.Event(), burst=True)

        assert (totals.done, totals.retried) == (1, 1)
        assert archived_ids(autocommit_conn, queue) == {second}
        assert set(pending(autocommit_conn, queue)) == {first}
        assert autocommit_conn.execute(f"select array_agg(n) from public.{table}").fetchone()[0] == [2]
    finally:
        autocommit_conn.execute(f"drop table public.{table}")


def test_a_handler_with_its_own_transactions_claims_before_and_records_with_the_archive(
    db_url: str, queue: str, autocommit_conn: psycopg.Connection, handlers: Any
) -> None:
    # The shape message delivery takes: claim (committed), effect, then result + archive together.
    table = f"worker_probe_{uuid.uuid4().hex[:8]}"
    autocommit_conn.execute(f"create table public.{table} (n int primary key, status text)")
    try:

        @handlers("test_claim_send_record", own_transactions=True)
        def claim_send_record(job: Job) -> None:
            n = job.payload["n"]
            with job.conn.transaction():
                job.conn.execute(f"insert into public.{table} values (%s, 'sending')", [n])
            if n == 1:
                raise DeliveryError("stub", "down")  # the claim stays: a later attempt sees it
            with job.conn.transaction():
                job.conn.execute(f"update public.{table} set status = 'sent' where n = %s", [n])
                job.archive()

        @handlers("test_plain", own_transactions=True)
        def plain(job: Job) -> None:
            job.conn.execute(f"insert into public.{table} values (%s, 'plain')", [job.payload["n"]])

        failing = send(autocommit_conn, queue, "test_claim_send_record", {"n": 1})
        sent = send(autocommit_conn, queue, "test_claim_send_record", {"n": 2})
        archived_by_loop = send(autocommit_conn, queue, "test_plain", {"n": 3})
        totals = run(settings_for(db_url, queue), threading.Event(), burst=True)

        assert (totals.done, totals.retried) == (2, 1)
        assert archived_ids(autocommit_conn, queue) == {sent, archived_by_loop}
        assert set(pending(autocommit_conn, queue)) == {failing}
        rows = dict(autocommit_conn.execute(f"select n, status from public.{table}").fetchall())
        assert rows == {1: "sending", 2: "sent", 3: "plain"}
    finally:
        autocommit_conn.execute(f"drop table public.{table}")


def test_malformed_jobs_are_archived_and_logged_and_the_loop_goes_on(
    db_url: str,
    queue: str,
    autocommit_conn: psycopg.Connection,
    handlers: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="worker")
    done: list[int] = []

    @handlers("test_strict")
    def strict(job: Job) -> None:
        if "id" not in job.payload:
            raise MalformedJob("no id")
        done.append(job.payload["id"])

    malformed = {
        send_raw(autocommit_conn, queue, "just a string"),
        send_raw(autocommit_conn, queue, {"payload": {}}),
        send_raw(autocommit_conn, queue, {"kind": 7}),
        send(autocommit_conn, queue, "test_strict", ["not", "an", "object"]),
        send(autocommit_conn, queue, "test_strict", {"other": 1}),
    }
    good = send(autocommit_conn, queue, "test_strict", {"id": 42})

    totals = run(settings_for(db_url, queue), threading.Event(), burst=True)

    assert (totals.malformed, totals.done) == (5, 1)
    assert done == [42]
    assert archived_ids(autocommit_conn, queue) == malformed | {good}
    assert pending(autocommit_conn, queue) == {}
    logged = [line for line in job_lines(caplog) if line["outcome"] == "malformed"]
    assert {line["job_id"] for line in logged} == malformed
    assert all(line["error"] for line in logged)


def test_permanent_errors_and_the_last_attempt_archive_without_retry(
    db_url: str, queue: str, autocommit_conn: psycopg.Connection, handlers: Any
) -> None:
    @handlers("test_permanent")
    def permanent(job: Job) -> None:
        raise DeliveryError("stub", "invalid address", permanent=True)

    @handlers("test_transient")
    def transient(job: Job) -> None:
        raise DeliveryError("stub", "503")

    first = send(autocommit_conn, queue, "test_permanent", {})
    second = send(autocommit_conn, queue, "test_transient", {})
    settings = settings_for(db_url, queue, worker_max_attempts=2)

    totals = run(settings, threading.Event(), burst=True)
    assert (totals.failed, totals.retried) == (1, 1)
    assert archived_ids(autocommit_conn, queue) == {first}

    make_visible(autocommit_conn, queue)
    totals = run(settings, threading.Event(), burst=True)
    assert totals.failed == 1  # attempt 2 of 2
    assert archived_ids(autocommit_conn, queue) == {first, second}
    assert pending(autocommit_conn, queue) == {}


def test_jobs_run_concurrently_up_to_the_limit(
    db_url: str, queue: str, autocommit_conn: psycopg.Connection, handlers: Any
) -> None:
    # Four handlers that each wait for all four: only passes if four are in flight at once.
    together = threading.Barrier(4, timeout=10)
    most = 0
    running = 0
    lock = threading.Lock()

    @handlers("test_together")
    def meet(job: Job) -> None:
        nonlocal most, running
        with lock:
            running += 1
            most = max(most, running)
        if job.payload["n"] < 4:
            together.wait()
        time.sleep(0.05)
        with lock:
            running -= 1

    for n in range(8):
        send(autocommit_conn, queue, "test_together", {"n": n})
    totals = run(
        settings_for(db_url, queue, worker_concurrency=4, worker_batch_size=8), threading.Event(), burst=True
    )

    assert totals.done == 8
    assert most == 4  # never more than the limit


# --- delivery through providers ----------------------------------------------------------


def email_providers(resend_stub: ResendStub, smtp_stub: SmtpStub) -> Providers:
    sender = "CareOps <no-reply@careops.test>"
    email = ProviderChain(
        "email",
        [
            ResendProvider("re_test", resend_stub.url, sender, 0.5),
            SmtpProvider("127.0.0.1", smtp_stub.port, sender, 0.5, security="none"),
        ],
    )
    return Providers(email, ProviderChain("sms", []))


def register_email_handler(handlers: Any) -> None:
    @handlers("test_email")
    def email(job: Job) -> None:
        job.deliver(
            EmailMessage(to=job.payload["to"], subject="s", text="t"),
            idempotency_key=job.payload["key"],
            message_id=job.payload["key"],
        )


def test_both_providers_down_then_recovering(
    db_url: str,
    queue: str,
    autocommit_conn: psycopg.Connection,
    handlers: Any,
    resend_stub: ResendStub,
    smtp_stub: SmtpStub,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="worker")
    register_email_handler(handlers)
    providers = email_providers(resend_stub, smtp_stub)
    settings = settings_for(db_url, queue)
    msg_id = send(autocommit_conn, queue, "test_email", {"to": "guest@example.test", "key": "k-1"})

    resend_stub.mode = "fail"
    smtp_stub.mode = "fail"
    assert run(settings, threading.Event(), burst=True, providers=providers).retried == 1
    assert pending(autocommit_conn, queue)[msg_id][1] > 1  # backing off

    resend_stub.mode = "hang"  # primary still sick (time-out), the fallback recovered
    smtp_stub.mode = "ok"
    make_visible(autocommit_conn, queue)
    assert run(settings, threading.Event(), burst=True, providers=providers).done == 1
    assert len(smtp_stub.received) == 1
    assert archived_ids(autocommit_conn, queue) == {msg_id}

    first, second = delivery_lines(caplog)
    assert first | {"latency_ms": 0} == {
        "event": "delivery",
        "job_id": msg_id,
        "message_id": "k-1",
        "kind": "test_email",
        "channel": "email",
        "provider": "smtp",
        "outcome": "retrying",
        "attempt": 1,
        "latency_ms": 0,
        "error": first["error"],
    }
    assert "resend: 500" in first["error"]
    assert (second["provider"], second["outcome"], second["attempt"]) == ("smtp", "sent", 2)
    assert second["latency_ms"] >= 400  # waited out the primary's time-out first


def test_invalid_address_fails_at_once_without_retry(
    db_url: str,
    queue: str,
    autocommit_conn: psycopg.Connection,
    handlers: Any,
    resend_stub: ResendStub,
    smtp_stub: SmtpStub,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="worker")
    register_email_handler(handlers)
    resend_stub.mode = "reject"
    msg_id = send(autocommit_conn, queue, "test_email", {"to": "not-an-address", "key": "k-2"})

    totals = run(
        settings_for(db_url, queue),
        threading.Event(),
        burst=True,
        providers=email_providers(resend_stub, smtp_stub),
    )

    assert totals.failed == 1
    assert archived_ids(autocommit_conn, queue) == {msg_id}
    assert smtp_stub.received == []
    (line,) = delivery_lines(caplog)
    assert (line["provider"], line["outcome"], line["attempt"]) == ("resend", "failed", 1)


def test_the_worker_reconnects_after_its_connections_are_killed(
    db_url: str,
    queue: str,
    autocommit_conn: psycopg.Connection,
    handlers: Any,
) -> None:
    handled: list[int] = []

    @handlers("test_record")
    def record(job: Job) -> None:
        handled.append(job.payload["n"])

    def wait_for(count: int) -> None:
        deadline = time.monotonic() + 20
        while len(handled) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(handled) == count

    stop = threading.Event()
    worker = threading.Thread(target=run, args=(settings_for(db_url, queue), stop))
    worker.start()
    try:
        send(autocommit_conn, queue, "test_record", {"n": 1})
        wait_for(1)
        killed = autocommit_conn.execute(
            "select count(pg_terminate_backend(pid)) from pg_stat_activity"
            " where application_name = %s and datname = current_database()",
            [APPLICATION_NAME],
        ).fetchone()[0]
        assert killed >= 1
        send(autocommit_conn, queue, "test_record", {"n": 2})
        send(autocommit_conn, queue, "test_record", {"n": 3})
        wait_for(3)
    finally:
        stop.set()
        worker.join(timeout=10)
    assert not worker.is_alive()
    assert sorted(handled) == [1, 2, 3]


def test_stop_event_ends_a_polling_worker(db_url: str, queue: str) -> None:
    stop = threading.Event()
    worker = threading.Thread(target=run, args=(settings_for(db_url, queue), stop))
    worker.start()
    stop.set()
    worker.join(timeout=5)
    assert not worker.is_alive()
