"""deliver_message per read batch: one claim statement for the batch's messages, outcomes
recorded in groups (group commit), mixed batches, a failure inside a batch, shutdown releasing
the claims of jobs that never started, and a claim too old to start a send."""

from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

import worker.handlers.messages as messages
from tests.message_support import (
    MessagingWorkspace,
    create_messaging_workspace,
    message_states,
    queue_messages,
    send_delivery_jobs,
)
from tests.stubs import SmtpStub, TwilioStub
from tests.test_message_delivery import (
    SENDER,
    archived_count,
    burst,
    open_alerts,
    queue_rows,
    settings_for,
)
from worker.handlers.messages import DeliveryBatch, Outcome, OutcomeRecorder, deliver_message, provider_key
from worker.jobs import Job
from worker.providers import ProviderChain, Providers, SmtpProvider, TwilioProvider


@pytest.fixture
def place(autocommit_conn: psycopg.Connection) -> MessagingWorkspace:
    return create_messaging_workspace(autocommit_conn)


@pytest.fixture
def providers(smtp_stub: SmtpStub, twilio_stub: TwilioStub) -> Providers:
    """SMTP alone for email (it rejects single addresses), Twilio for SMS."""
    email = ProviderChain("email", [SmtpProvider("127.0.0.1", smtp_stub.port, SENDER, 0.5, security="none")])
    sms = ProviderChain("sms", [TwilioProvider("ACtest", "token", "+15005550001", 0.5, twilio_stub.url)])
    return Providers(email, sms)


@pytest.fixture
def claim_calls(monkeypatch: pytest.MonkeyPatch) -> list[list[uuid.UUID]]:
    """The message ids of every claim statement the handler runs."""
    calls: list[list[uuid.UUID]] = []
    real = messages.claim_messages

    def spy(conn: psycopg.Connection, message_ids: list[uuid.UUID], timeout: timedelta) -> Any:
        calls.append(list(message_ids))
        return real(conn, message_ids, timeout)

    monkeypatch.setattr(messages, "claim_messages", spy)
    return calls


@pytest.fixture
def record_calls(monkeypatch: pytest.MonkeyPatch) -> list[list[Outcome]]:
    calls: list[list[Outcome]] = []
    real = messages.record_outcomes

    def spy(conn: psycopg.Connection, queue: str, outcomes: list[Outcome]) -> None:
        calls.append(list(outcomes))
        real(conn, queue, outcomes)

    monkeypatch.setattr(messages, "record_outcomes", spy)
    return calls


def smtp_message_ids(smtp_stub: SmtpStub) -> list[str]:
    return [str(message["Message-ID"]) for message in smtp_stub.received]


def smtp_id_of(providers: Providers, message_id: uuid.UUID) -> str:
    [smtp] = providers.email.providers
    assert isinstance(smtp, SmtpProvider)
    return smtp.message_id(provider_key(message_id))


def test_a_mixed_batch_is_claimed_in_one_statement_and_each_job_gets_its_fate(
    db_url: str,
    queue: str,
    autocommit_conn: psycopg.Connection,
    place: MessagingWorkspace,
    providers: Providers,
    smtp_stub: SmtpStub,
    claim_calls: list[list[uuid.UUID]],
) -> None:
    fresh = queue_messages(autocommit_conn, place, queue, 3)
    [sent, stale, live] = queue_messages(autocommit_conn, place, queue, 3)
    autocommit_conn.execute(
        "update public.messages set status = 'sent', attempts = 1, provider = 'smtp' where id = %s", [sent]
    )
    # A worker died 40 s ago holding `stale`; another is sending `live` right now.
    autocommit_conn.execute(
        "update public.messages set status = 'sending', attempts = 1,"
        " claimed_at = now() - case when id = %s then interval '40 seconds' else interval '5 seconds' end"
        " where id = any(%s)",
        [stale, [stale, live]],
    )
    gone = uuid.uuid4()
    send_delivery_jobs(autocommit_conn, queue, [gone, fresh[0]])  # a gone message, a duplicate job
    autocommit_conn.execute(
        "select pgmq.send(%s, %s::jsonb)",
        [queue, json.dumps({"kind": "deliver_message", "payload": {"message_id": "nope"}})],
    )

    totals = burst(db_url, queue, providers, worker_batch_size=10, worker_claim_timeout_seconds=30)

    assert len(claim_calls) == 1  # 10 jobs, one read batch, one claim
    assert sorted(claim_calls[0]) == sorted([*fresh, sent, stale, live, gone])
    states = message_states(autocommit_conn, [*fresh, sent, stale, live])
    assert {m: (states[m]["status"], states[m]["attempts"]) for m in fresh} == {m: ("sent", 1) for m in fresh}
    assert (states[stale]["status"], states[stale]["attempts"]) == ("sent", 2)  # taken over
    assert (states[sent]["status"], states[sent]["attempts"]) == ("sent", 1)  # not sent again
    assert (states[live]["status"], states[live]["attempts"]) == ("sending", 1)  # left to its worker
    assert sorted(smtp_message_ids(smtp_stub)) == sorted(smtp_id_of(providers, m) for m in [*fresh, stale])
    # fresh x3, stale, sent, gone and the duplicate archived; the malformed one archived with an alert.
    assert (totals.done, totals.deferred, totals.malformed) == (7, 1, 1)
    assert archived_count(autocommit_conn, queue) == 8
    [(_, wait)] = queue_rows(autocommit_conn, queue).values()
    assert 20 < wait <= 26  # the live claim's job is back when that claim times out


def test_one_failure_inside_a_batch_does_not_affect_the_others_records(
    db_url: str,
    queue: str,
    autocommit_conn: psycopg.Connection,
    place: MessagingWorkspace,
    providers: Providers,
    smtp_stub: SmtpStub,
    twilio_stub: TwilioStub,
    record_calls: list[list[Outcome]],
) -> None:
    smtp_stub.rejected_addresses = {"bounce@example.test"}
    good = queue_messages(autocommit_conn, place, queue, 4)
    rejected = queue_messages(autocommit_conn, place, queue, 1, recipient="bounce@example.test")
    sms = queue_messages(autocommit_conn, place, queue, 1, channel="sms")
    twilio_stub.mode = "fail"  # transient: the SMS goes back to the queue

    totals = burst(db_url, queue, providers, worker_batch_size=10, worker_concurrency=6)

    assert (totals.done, totals.failed, totals.retried) == (4, 1, 1)
    states = message_states(autocommit_conn, good + rejected + sms)
    assert {states[m]["status"] for m in good} == {"sent"}
    assert {states[m]["provider"] for m in good} == {"smtp"}
    assert all(str(states[m]["provider_message_id"]).startswith("<") for m in good)  # SMTP Message-IDs
    assert (states[rejected[0]]["status"], states[rejected[0]]["provider"]) == ("failed", "smtp")
    assert "550" in str(states[rejected[0]]["last_error"])
    assert (states[sms[0]]["status"], states[sms[0]]["attempts"]) == ("queued", 1)
    assert states[sms[0]]["last_error"]
    assert len(open_alerts(autocommit_conn, "message_failed", good + rejected + sms)) == 1
    assert archived_count(autocommit_conn, queue) == 5
    [(_, wait)] = queue_rows(autocommit_conn, queue).values()
    assert wait > 5  # the SMS job's backoff
    recorded = [outcome.message_id for group in record_calls for outcome in group]
    assert sorted(recorded) == sorted(good + rejected + sms)  # each outcome recorded once


def test_the_recorder_groups_outcomes_that_finish_while_a_statement_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[list[int]] = []
    first_running, release_first = threading.Event(), threading.Event()

    def fake_record(conn: Any, queue: str, outcomes: list[Outcome]) -> None:
        calls.append([outcome.job_id for outcome in outcomes])
        if len(calls) == 1:
            first_running.set()
            assert release_first.wait(5)

    monkeypatch.setattr(messages, "record_outcomes", fake_record)
    recorder = OutcomeRecorder()

    def record(job_id: int) -> threading.Thread:
        thread = threading.Thread(
            target=recorder.record, args=(None, "q", Outcome(job_id, uuid.uuid4(), "sent", "console"))
        )
        thread.start()
        return thread

    threads = [record(1)]
    assert first_running.wait(5)
    threads += [record(2), record(3)]
    time.sleep(0.2)  # both are waiting for the running statement
    assert calls == [[1]]
    release_first.set()
    for thread in threads:
        thread.join(5)
    assert calls == [[1], [2, 3]]


def test_when_a_group_statement_fails_the_others_record_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[int]] = []
    first_running, release_first = threading.Event(), threading.Event()
    errors: dict[int, BaseException] = {}

    def fake_record(conn: Any, queue: str, outcomes: list[Outcome]) -> None:
        calls.append([outcome.job_id for outcome in outcomes])
        if len(calls) == 1:
            first_running.set()
            assert release_first.wait(5)
        if len(calls) == 2:
            raise psycopg.OperationalError("the group's connection broke")

    monkeypatch.setattr(messages, "record_outcomes", fake_record)
    recorder = OutcomeRecorder()

    def record(job_id: int) -> threading.Thread:
        def target() -> None:
            try:
                recorder.record(None, "q", Outcome(job_id, uuid.uuid4(), "sent", "console"))
            except BaseException as error:
                errors[job_id] = error

        thread = threading.Thread(target=target)
        thread.start()
        return thread

    threads = [record(1)]
    assert first_running.wait(5)
    threads += [record(2), record(3)]
    time.sleep(0.2)
    release_first.set()
    for thread in threads:
        thread.join(5)
    # The job that ran the failed statement has its error; the other one recorded alone.
    assert sorted(calls[1]) == [2, 3]
    [(leader, _)] = errors.items()
    assert sorted(calls[2:]) == [[2 if leader == 3 else 3]]


def read_jobs(conn: psycopg.Connection, queue: str, count: int) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cursor:
        return cursor.execute("select * from pgmq.read(%s, 30, %s)", [queue, count]).fetchall()


def test_shutdown_releases_the_claims_of_jobs_that_never_started(
    db_url: str,
    queue: str,
    autocommit_conn: psycopg.Connection,
    place: MessagingWorkspace,
) -> None:
    ids = queue_messages(autocommit_conn, place, queue, 3)
    jobs = read_jobs(autocommit_conn, queue, 3)
    batch = DeliveryBatch([(job["msg_id"], job["message"]["payload"]) for job in jobs])
    settings = settings_for(db_url, queue)
    with psycopg.connect(db_url, autocommit=True, row_factory=dict_row) as conn:
        first = jobs[0]
        row, owner = batch.claim(
            conn, settings, first["msg_id"], uuid.UUID(first["message"]["payload"]["message_id"])
        )
        assert row is not None
        assert row["claimed"]
        assert owner
        assert {s["status"] for s in message_states(autocommit_conn, ids).values()} == {"sending"}

        settled = batch.release(conn, [job["msg_id"] for job in jobs[1:]])

    assert sorted(settled) == sorted(job["msg_id"] for job in jobs[1:])
    states = message_states(autocommit_conn, ids)
    first_id = uuid.UUID(first["message"]["payload"]["message_id"])
    assert (states[first_id]["status"], states[first_id]["attempts"]) == ("sending", 1)  # it runs
    others = [m for m in ids if m != first_id]
    assert {(states[m]["status"], states[m]["attempts"]) for m in others} == {("queued", 0)}
    waits = queue_rows(autocommit_conn, queue)
    assert all(waits[job["msg_id"]][1] <= 0 for job in jobs[1:])  # visible again at once
    assert waits[first["msg_id"]][1] > 20
    assert archived_count(autocommit_conn, queue) == 0


def test_a_claim_too_old_to_start_a_send_is_released(
    db_url: str,
    queue: str,
    autocommit_conn: psycopg.Connection,
    place: MessagingWorkspace,
    providers: Providers,
    smtp_stub: SmtpStub,
) -> None:
    [message_id] = queue_messages(autocommit_conn, place, queue, 1)
    [job] = read_jobs(autocommit_conn, queue, 1)
    batch = DeliveryBatch([(job["msg_id"], job["message"]["payload"])])
    settings = settings_for(db_url, queue, worker_claim_timeout_seconds=30)
    with psycopg.connect(db_url, autocommit=True, row_factory=dict_row) as conn:
        batch.claim(conn, settings, -1, message_id)  # another job of the batch claimed 16 s ago
        batch._claimed_at -= 16
        handled = Job(
            conn, job["msg_id"], "deliver_message", job["message"]["payload"], 1, 5, providers, settings
        )
        handled.batch = batch
        deliver_message(handled)

    assert (handled.outcome, handled.deferred) == ("released", True)
    assert smtp_stub.received == []
    state = message_states(autocommit_conn, [message_id])[message_id]
    assert (state["status"], state["attempts"]) == ("queued", 0)
    assert queue_rows(autocommit_conn, queue)[job["msg_id"]][1] <= 0


def test_only_the_worker_may_call_the_batch_functions(autocommit_conn: psycopg.Connection) -> None:
    for signature in (
        "private.claim_message_deliveries(uuid[], interval)",
        "private.record_deliveries(text, jsonb)",
    ):
        executors = {
            role
            for role in ("anon", "authenticated", "service_role")
            if autocommit_conn.execute(
                "select has_function_privilege(%s, %s, 'execute')", [role, signature]
            ).fetchone()[0]
        }
        assert executors == {"service_role"}, signature


def test_when_the_claim_ahead_fails_the_jobs_claim_themselves(
    db_url: str,
    queue: str,
    autocommit_conn: psycopg.Connection,
    place: MessagingWorkspace,
    providers: Providers,
    smtp_stub: SmtpStub,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ids = queue_messages(autocommit_conn, place, queue, 3)
    calls: list[str] = []
    real = messages.claim_messages

    def failing_ahead(conn: psycopg.Connection, message_ids: list[uuid.UUID], timeout: timedelta) -> Any:
        thread = threading.current_thread().name
        calls.append(thread.split("_")[0])
        if thread.startswith("prepare"):
            raise psycopg.errors.QueryCanceled("the claim ahead was cancelled")
        return real(conn, message_ids, timeout)

    monkeypatch.setattr(messages, "claim_messages", failing_ahead)

    totals = burst(db_url, queue, providers, worker_batch_size=10)

    # The claim ahead failed (or a job got there first); one job claimed for the whole batch.
    assert calls.count("job") == 1
    assert set(calls) <= {"prepare", "job"}
    assert totals.done == 3
    states = message_states(autocommit_conn, ids)
    assert {(s["status"], s["attempts"]) for s in states.values()} == {("sent", 1)}
    assert len(smtp_stub.received) == 3
