"""deliver_message against real message rows, a real queue and stub providers: claim, send with the
message's key, record and archive; fallback, retries, failures with alerts, malformed jobs,
claims held by another worker, requeue by owners, and the metrics the rows feed."""

from __future__ import annotations

import json
import logging
import threading
import uuid
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from tests.edge_api_support import app_for
from tests.message_support import (
    MessagingWorkspace,
    create_messaging_workspace,
    message_states,
    queue_messages,
    send_delivery_jobs,
)
from tests.stubs import ResendStub, SmtpStub, TwilioStub
from tests.support import Actor, create_user, rpc, rpc_error
from tests.test_edge_api_metrics import scrape
from worker.handlers.messages import provider_key
from worker.loop import run
from worker.providers import ProviderChain, Providers, ResendProvider, SmtpProvider, TwilioProvider
from worker.settings import Settings

SENDER = "CareOps <no-reply@careops.test>"


@pytest.fixture
def place(autocommit_conn: psycopg.Connection) -> MessagingWorkspace:
    return create_messaging_workspace(autocommit_conn)


@pytest.fixture
def providers(resend_stub: ResendStub, smtp_stub: SmtpStub, twilio_stub: TwilioStub) -> Providers:
    email = ProviderChain(
        "email",
        [
            ResendProvider("re_test", resend_stub.url, SENDER, 0.5),
            SmtpProvider("127.0.0.1", smtp_stub.port, SENDER, 0.5, security="none"),
        ],
    )
    sms = ProviderChain("sms", [TwilioProvider("ACtest", "token", "+15005550001", 0.5, twilio_stub.url)])
    return Providers(email, sms)


def settings_for(db_url: str, queue: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": db_url,
        "queue_name": queue,
        "event_queue_name": queue,
        "worker_visibility_timeout_seconds": 30,
        "worker_claim_timeout_seconds": 30,
        "worker_poll_seconds": 1,
        "worker_concurrency": 4,
        "provider_timeout_seconds": 0.5,
        "email_from": SENDER,
        **overrides,
    }
    return Settings(**values)


def burst(db_url: str, queue: str, providers: Providers, **overrides: Any) -> Any:
    return run(settings_for(db_url, queue, **overrides), threading.Event(), burst=True, providers=providers)


def queue_rows(conn: psycopg.Connection, queue: str) -> dict[int, tuple[int, float]]:
    """Jobs still queued: msg_id -> (read_ct, seconds until visible)."""
    rows = conn.execute(f"select msg_id, read_ct, extract(epoch from vt - now())::float from pgmq.q_{queue}")
    return {msg_id: (read_ct, wait) for msg_id, read_ct, wait in rows.fetchall()}


def archived_count(conn: psycopg.Connection, queue: str) -> int:
    return conn.execute(f"select count(*) from pgmq.a_{queue}").fetchone()[0]


def make_visible(conn: psycopg.Connection, queue: str) -> None:
    conn.execute(f"update pgmq.q_{queue} set vt = now()")


def open_alerts(conn: psycopg.Connection, kind: str, subject_ids: list[uuid.UUID] | None = None) -> list[Any]:
    return conn.execute(
        "select subject_id, workspace_id, severity, text from public.alerts"
        " where kind = %s and resolved_at is null and (%s::uuid[] is null or subject_id = any(%s::uuid[]))",
        [kind, subject_ids, subject_ids],
    ).fetchall()


def test_messages_are_sent_recorded_and_archived(
    db_url: str,
    queue: str,
    autocommit_conn: psycopg.Connection,
    place: MessagingWorkspace,
    providers: Providers,
    resend_stub: ResendStub,
    twilio_stub: TwilioStub,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="worker")
    emails = queue_messages(autocommit_conn, place, queue, 5)
    texts = queue_messages(autocommit_conn, place, queue, 2, channel="sms")

    totals = burst(db_url, queue, providers)

    assert (totals.done, totals.retried, totals.failed) == (7, 0, 0)
    states = message_states(autocommit_conn, emails + texts)
    ids_by_key = resend_stub.ids_by_key
    for message_id in emails:
        assert states[message_id] | {"provider_message_id": None} == {
            "status": "sent",
            "provider": "resend",
            "provider_message_id": None,
            "attempts": 1,
            "last_error": None,
        }
        assert states[message_id]["provider_message_id"] == ids_by_key[provider_key(message_id)]
    for message_id in texts:
        assert (states[message_id]["status"], states[message_id]["provider"]) == ("sent", "twilio")
        assert str(states[message_id]["provider_message_id"]).startswith("SM")
    assert archived_count(autocommit_conn, queue) == 7
    assert queue_rows(autocommit_conn, queue) == {}
    # The workspace's name at the platform's address, replies to the workspace's sender.
    email = resend_stub.delivered[0]
    assert email["from"] == f"{place.name} <no-reply@careops.test>"
    assert email["reply_to"] == [
        autocommit_conn.execute(
            "select sender_email from public.communication_settings where workspace_id = %s",
            [place.workspace_id],
        ).fetchone()[0]
    ]
    assert email["subject"] == "Your visit"
    assert email["to"] == ["guest@example.test"]
    # The workspace's verified number.
    assert {sms["From"] for sms in twilio_stub.delivered} == {
        autocommit_conn.execute(
            "select sms_from_number from public.communication_settings where workspace_id = %s",
            [place.workspace_id],
        ).fetchone()[0]
    }
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "worker.delivery"]
    assert sorted(line["message_id"] for line in lines) == sorted(str(i) for i in emails + texts)
    assert {(line["kind"], line["outcome"], line["attempt"]) for line in lines} == {
        ("deliver_message", "sent", 1)
    }


def test_primary_500_and_time_out_fall_back_and_record_the_fallback(
    db_url: str,
    queue: str,
    autocommit_conn: psycopg.Connection,
    place: MessagingWorkspace,
    providers: Providers,
    resend_stub: ResendStub,
    smtp_stub: SmtpStub,
) -> None:
    resend_stub.mode = "fail"
    first = queue_messages(autocommit_conn, place, queue, 1)
    assert burst(db_url, queue, providers).done == 1
    resend_stub.mode = "hang"
    resend_stub.hang_seconds = 1
    second = queue_messages(autocommit_conn, place, queue, 1)
    assert burst(db_url, queue, providers).done == 1

    states = message_states(autocommit_conn, first + second)
    assert {(s["status"], s["provider"], s["attempts"]) for s in states.values()} == {("sent", "smtp", 1)}
    assert len(smtp_stub.received) == 2


def test_both_providers_down_then_recovering_retries_with_backoff(
    db_url: str,
    queue: str,
    autocommit_conn: psycopg.Connection,
    place: MessagingWorkspace,
    providers: Providers,
    resend_stub: ResendStub,
    smtp_stub: SmtpStub,
) -> None:
    [message_id] = queue_messages(autocommit_conn, place, queue, 1)
    resend_stub.mode = smtp_stub.mode = "fail"
    options = {"worker_retry_base_seconds": 100, "worker_retry_max_seconds": 1000}

    assert burst(db_url, queue, providers, **options).retried == 1
    state = message_states(autocommit_conn, [message_id])[message_id]
    assert (state["status"], state["attempts"], state["provider"]) == ("queued", 1, None)
    assert "resend: 500" in str(state["last_error"])
    assert "smtp" in str(state["last_error"])
    [(read_ct, wait)] = queue_rows(autocommit_conn, queue).values()
    assert read_ct == 1
    assert 45 < wait <= 100  # retry_delay(1, 100, 1000): 50 to 100 seconds

    resend_stub.mode = smtp_stub.mode = "ok"
    make_visible(autocommit_conn, queue)
    assert burst(db_url, queue, providers, **options).done == 1
    state = message_states(autocommit_conn, [message_id])[message_id]
    assert (state["status"], state["attempts"], state["provider"]) == ("sent", 2, "resend")
    assert archived_count(autocommit_conn, queue) == 1
    assert open_alerts(autocommit_conn, "message_failed", [message_id]) == []


def test_after_the_last_attempt_the_message_fails_with_an_alert(
    db_url: str,
    queue: str,
    autocommit_conn: psycopg.Connection,
    place: MessagingWorkspace,
    providers: Providers,
    resend_stub: ResendStub,
    smtp_stub: SmtpStub,
) -> None:
    [message_id] = queue_messages(autocommit_conn, place, queue, 1)
    resend_stub.mode = smtp_stub.mode = "fail"
    assert burst(db_url, queue, providers, worker_max_attempts=2).retried == 1
    make_visible(autocommit_conn, queue)
    assert burst(db_url, queue, providers, worker_max_attempts=2).failed == 1

    state = message_states(autocommit_conn, [message_id])[message_id]
    assert (state["status"], state["attempts"]) == ("failed", 2)
    assert "smtp" in str(state["last_error"])
    assert queue_rows(autocommit_conn, queue) == {}
    assert archived_count(autocommit_conn, queue) == 1
    [(_, workspace_id, severity, text)] = open_alerts(autocommit_conn, "message_failed", [message_id])
    assert (workspace_id, severity) == (place.workspace_id, "critical")
    assert "after 2 attempts" in text


def test_an_invalid_address_fails_at_once_with_an_alert(
    db_url: str,
    queue: str,
    autocommit_conn: psycopg.Connection,
    place: MessagingWorkspace,
    providers: Providers,
    resend_stub: ResendStub,
    smtp_stub: SmtpStub,
    twilio_stub: TwilioStub,
) -> None:
    resend_stub.mode = twilio_stub.mode = "reject"
    email = queue_messages(autocommit_conn, place, queue, 1, recipient="not-an-address")
    sms = queue_messages(autocommit_conn, place, queue, 1, channel="sms", recipient="+1")

    totals = burst(db_url, queue, providers)

    assert (totals.failed, totals.retried) == (2, 0)
    states = message_states(autocommit_conn, email + sms)
    assert {(s["status"], s["attempts"]) for s in states.values()} == {("failed", 1)}
    assert states[email[0]]["provider"] == "resend"
    assert "422" in str(states[email[0]]["last_error"])
    assert states[sms[0]]["provider"] == "twilio"
    assert "21211" in str(states[sms[0]]["last_error"])
    assert smtp_stub.received == []  # a permanent error does not fall back
    assert len(open_alerts(autocommit_conn, "message_failed", email + sms)) == 2
    assert queue_rows(autocommit_conn, queue) == {}


def test_malformed_jobs_are_archived_with_an_alert_and_the_loop_goes_on(
    db_url: str,
    queue: str,
    autocommit_conn: psycopg.Connection,
    place: MessagingWorkspace,
    providers: Providers,
) -> None:
    bad = [
        autocommit_conn.execute("select pgmq.send(%s, %s::jsonb)", [queue, json.dumps(body)]).fetchone()[0]
        for body in (
            {"kind": "deliver_message", "payload": {"message_id": "not-a-uuid"}},
            {"kind": "deliver_message", "payload": {}},
            "just a string",
            {"payload": {"message_id": str(uuid.uuid4())}},
        )
    ]
    good = queue_messages(autocommit_conn, place, queue, 1)

    totals = burst(db_url, queue, providers)

    assert (totals.malformed, totals.done) == (4, 1)
    assert message_states(autocommit_conn, good)[good[0]]["status"] == "sent"
    assert queue_rows(autocommit_conn, queue) == {}
    assert archived_count(autocommit_conn, queue) == 5
    subjects = [
        autocommit_conn.execute("select md5(%s)::uuid", [f"{queue}:{msg_id}"]).fetchone()[0] for msg_id in bad
    ]
    alerts = open_alerts(autocommit_conn, "malformed_job", subjects)
    assert len(alerts) == 4
    assert {(workspace_id, severity) for _, workspace_id, severity, _ in alerts} == {(None, "critical")}
    assert any("not-a-uuid" in text for *_, text in alerts)
    # Raising it again (a crash between alert and archive) keeps one alert.
    autocommit_conn.execute(
        "select private.raise_malformed_job_alert(%s, %s, 'deliver_message', 'again')", [queue, bad[0]]
    )
    assert len(open_alerts(autocommit_conn, "malformed_job", subjects)) == 4
    # Members never see system alerts.
    with autocommit_conn.transaction():
        autocommit_conn.execute(
            "select set_config('request.jwt.claims', %s, true)", [json.dumps(place.owner.claims())]
        )
        autocommit_conn.execute("set local role authenticated")
        seen = autocommit_conn.execute("select count(*) from public.alerts where kind = 'malformed_job'")
        assert seen.fetchone()[0] == 0


def test_a_message_gone_or_already_final_is_not_sent_again(
    db_url: str,
    queue: str,
    autocommit_conn: psycopg.Connection,
    place: MessagingWorkspace,
    providers: Providers,
    resend_stub: ResendStub,
) -> None:
    [message_id] = queue_messages(autocommit_conn, place, queue, 1)
    send_delivery_jobs(autocommit_conn, queue, [message_id, message_id, uuid.uuid4()])  # duplicates, gone

    totals = burst(db_url, queue, providers, worker_concurrency=1)

    assert totals.done == 4
    assert len(resend_stub.requests) == 1
    assert message_states(autocommit_conn, [message_id])[message_id]["attempts"] == 1
    assert archived_count(autocommit_conn, queue) == 4


def test_a_live_claim_defers_the_job_and_a_stale_one_is_taken_over(
    db_url: str,
    queue: str,
    autocommit_conn: psycopg.Connection,
    place: MessagingWorkspace,
    providers: Providers,
    resend_stub: ResendStub,
) -> None:
    [message_id] = queue_messages(autocommit_conn, place, queue, 1)
    # Another worker claimed it 5 seconds ago (and is sending, or died).
    autocommit_conn.execute(
        "update public.messages set status = 'sending', attempts = 1,"
        " claimed_at = now() - interval '5 seconds'"
        " where id = %s",
        [message_id],
    )
    assert burst(db_url, queue, providers, worker_claim_timeout_seconds=30).deferred == 1
    [(_, wait)] = queue_rows(autocommit_conn, queue).values()
    assert 20 < wait <= 26  # back when that claim times out
    assert resend_stub.requests == []
    assert message_states(autocommit_conn, [message_id])[message_id]["status"] == "sending"

    autocommit_conn.execute(
        "update public.messages set claimed_at = now() - interval '31 seconds' where id = %s", [message_id]
    )
    make_visible(autocommit_conn, queue)
    assert burst(db_url, queue, providers, worker_claim_timeout_seconds=30).done == 1
    state = message_states(autocommit_conn, [message_id])[message_id]
    assert (state["status"], state["attempts"]) == ("sent", 2)
    assert [r.headers["Idempotency-Key"] for r in resend_stub.requests] == [provider_key(message_id)]


def test_a_message_without_recipient_fails_at_once(
    db_url: str,
    queue: str,
    autocommit_conn: psycopg.Connection,
    place: MessagingWorkspace,
    providers: Providers,
) -> None:
    [message_id] = queue_messages(autocommit_conn, place, queue, 1)
    autocommit_conn.execute("update public.messages set recipient = null where id = %s", [message_id])
    assert burst(db_url, queue, providers).failed == 1
    state = message_states(autocommit_conn, [message_id])[message_id]
    assert (state["status"], state["provider"]) == ("failed", "none")
    assert "no recipient" in str(state["last_error"])


# --- retry_failed_messages --------------------------------------------------------------------


def fail_messages(conn: psycopg.Connection, ids: list[uuid.UUID]) -> None:
    for message_id in ids:
        conn.execute(
            "update public.messages set status = 'sending', attempts = 5, claimed_at = now() where id = %s",
            [message_id],
        )
        conn.execute(
            "select private.record_delivery(%s, 'failed', 'resend', null, 'resend: 500')", [message_id]
        )


def jobs_for(conn: psycopg.Connection, ids: list[uuid.UUID]) -> int:
    return conn.execute(
        "select count(*) from pgmq.q_jobs where message->>'kind' = 'deliver_message'"
        " and (message->'payload'->>'message_id')::uuid = any(%s)",
        [ids],
    ).fetchone()[0]


def test_owners_requeue_failed_messages(queue: str, conn: psycopg.Connection) -> None:
    place = create_messaging_workspace(conn)
    ids = queue_messages(conn, place, queue, 4)
    fail_messages(conn, ids[:3])  # the fourth stays queued
    owner = Actor.user(place.owner)

    assert rpc(
        conn, owner, "retry_failed_messages", p_workspace_id=place.workspace_id, p_message_ids=[ids[0]]
    ) == [(1,)]
    assert rpc(conn, owner, "retry_failed_messages", p_workspace_id=place.workspace_id) == [(2,)]
    assert rpc(conn, owner, "retry_failed_messages", p_workspace_id=place.workspace_id) == [(0,)]

    states = message_states(conn, ids)
    assert {(s["status"], s["attempts"]) for s in states.values()} == {("queued", 0)}
    assert all(states[i]["last_error"] == "resend: 500" for i in ids[:3])  # the history stays
    assert jobs_for(conn, ids) == 3
    resolved = conn.execute(
        "select count(*) from public.alerts where subject_id = any(%s) and resolved_by = %s",
        [ids, place.owner.id],
    ).fetchone()[0]
    assert resolved == 3
    assert open_alerts(conn, "message_failed", ids) == []


def test_service_role_requeues_and_others_are_refused(queue: str, conn: psycopg.Connection) -> None:
    place = create_messaging_workspace(conn)
    other = create_messaging_workspace(conn)
    ids = queue_messages(conn, place, queue, 2)
    theirs = queue_messages(conn, other, queue, 1)
    fail_messages(conn, ids + theirs)
    params = {"p_workspace_id": place.workspace_id}

    assert rpc_error(conn, Actor.user(place.staff), "retry_failed_messages", **params) == "forbidden"
    outsider = create_user(conn)
    assert rpc_error(conn, Actor.user(outsider), "retry_failed_messages", **params) == "not_found"
    assert (
        rpc_error(conn, Actor.service(), "retry_failed_messages", p_workspace_id=uuid.uuid4()) == "not_found"
    )
    assert message_states(conn, ids)[ids[0]]["status"] == "failed"  # refused: nothing changed
    assert jobs_for(conn, ids) == 0

    # Another workspace's ids are ignored.
    assert rpc(conn, Actor.service(), "retry_failed_messages", **params, p_message_ids=ids + theirs) == [(2,)]
    assert message_states(conn, theirs)[theirs[0]]["status"] == "failed"
    assert jobs_for(conn, ids) == 2


def test_requeued_messages_are_delivered(
    db_url: str,
    queue: str,
    autocommit_conn: psycopg.Connection,
    place: MessagingWorkspace,
    providers: Providers,
    resend_stub: ResendStub,
    smtp_stub: SmtpStub,
) -> None:
    [message_id] = queue_messages(autocommit_conn, place, queue, 1)
    resend_stub.mode = smtp_stub.mode = "fail"
    assert burst(db_url, queue, providers, worker_max_attempts=1).failed == 1
    with autocommit_conn.transaction():
        rpc(
            autocommit_conn,
            Actor.user(place.owner),
            "retry_failed_messages",
            p_workspace_id=place.workspace_id,
        )
    # The requeue's job went to the jobs queue: move it onto this test's queue.
    autocommit_conn.execute(
        "delete from pgmq.q_jobs where (message->'payload'->>'message_id')::uuid = %s", [message_id]
    )
    send_delivery_jobs(autocommit_conn, queue, [message_id])
    resend_stub.mode = smtp_stub.mode = "ok"
    assert burst(db_url, queue, providers, worker_max_attempts=1).done == 1
    state = message_states(autocommit_conn, [message_id])[message_id]
    assert (state["status"], state["attempts"], state["provider"]) == ("sent", 1, "resend")


# --- metrics -------------------------------------------------------------------------------------


def test_metrics_count_messages_by_status_and_provider_and_retries(
    queue: str, conn: psycopg.Connection
) -> None:
    place = create_messaging_workspace(conn)
    before = metrics(conn)
    ids = queue_messages(conn, place, queue, 3)
    conn.execute(
        "update public.messages set status = 'sending', attempts = 3, claimed_at = now() where id = %s",
        [ids[0]],
    )
    conn.execute("select private.record_delivery(%s, 'sent', 'smtp', 'm-1')", [ids[0]])
    fail_messages(conn, [ids[1]])
    after = metrics(conn)

    def delta(name: str, **labels: str) -> float:
        return after.get((name, tuple(sorted(labels.items()))), 0) - before.get(
            (name, tuple(sorted(labels.items()))), 0
        )

    assert delta("careops_messages", status="sent", provider="smtp", channel="email") == 1
    assert delta("careops_messages", status="failed", provider="resend", channel="email") == 1
    assert delta("careops_messages", status="queued", provider="none", channel="email") == 1
    assert delta("careops_message_delivery_retries", status="sent", channel="email") == 2
    assert delta("careops_message_delivery_retries", status="failed", channel="email") == 4
    assert delta("careops_open_alerts", kind="message_failed") == 1


def metrics(conn: psycopg.Connection) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    [[families]] = conn.execute("select private.metrics_snapshot()").fetchall()
    return {
        (family["name"], tuple(sorted(sample["labels"].items()))): sample["value"]
        for family in families
        for sample in family["samples"]
    }


def test_metrics_endpoint_shows_deliveries(
    db_url: str,
    queue: str,
    autocommit_conn: psycopg.Connection,
    place: MessagingWorkspace,
    providers: Providers,
) -> None:
    def sent_by_resend() -> float:
        with TestClient(app_for(db_url)) as client:  # a new app: nothing cached
            samples = scrape(client)
        return samples.get(
            (
                "careops_messages",
                frozenset({"status": "sent", "provider": "resend", "channel": "email"}.items()),
            ),
            0,
        )

    before = sent_by_resend()
    queue_messages(autocommit_conn, place, queue, 3)
    assert burst(db_url, queue, providers).done == 3
    assert sent_by_resend() == before + 3
