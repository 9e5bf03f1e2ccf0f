"""invitation_created jobs: the worker reads private.invitation_delivery and emails the accept link."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from tests.stubs import ResendStub
from tests.support import Actor, create_user, rpc
from tests.test_invitations import Committed, invite, new_workspace
from worker.handlers.invitations import accept_link, deliver_invitation
from worker.jobs import Job, MalformedJob
from worker.loop import run
from worker.providers import ConsoleProvider, ProviderChain, Providers, ResendProvider
from worker.settings import Settings

APP = "https://app.careops.test"


def settings(db_url: str, queue: str = "jobs") -> Settings:
    return Settings(
        database_url=db_url, queue_name=queue, event_queue_name=queue, app_base_url=APP, worker_poll_seconds=1
    )  # type: ignore[arg-type]


def providers_for(resend_stub: ResendStub) -> Providers:
    resend = ResendProvider("re_test", resend_stub.url, "CareOps <no-reply@careops.test>", 0.5)
    return Providers(ProviderChain("email", [resend]), ProviderChain("sms", [ConsoleProvider("sms")]))


def invitation_job(conn: psycopg.Connection, invitation_id: uuid.UUID) -> tuple[int, dict[str, Any]]:
    return conn.execute(
        "select msg_id, message from pgmq.q_jobs where message #>> '{payload,invitation_id}' = %s",
        [str(invitation_id)],
    ).fetchone()


def invitation_id_of(conn: psycopg.Connection, workspace_id: uuid.UUID, email: str) -> uuid.UUID:
    return conn.execute(
        "select id from public.invitations where workspace_id = %s and email = %s and revoked_at is null",
        [workspace_id, email],
    ).fetchone()[0]


def handle(conn: psycopg.Connection, db_url: str, providers: Providers, payload: dict[str, Any]) -> None:
    deliver_invitation(Job(conn, 1, "invitation_created", payload, 1, 5, providers, settings(db_url)))


def test_the_invitee_gets_the_accept_link_with_the_token_the_owner_got(
    conn: psycopg.Connection, db_url: str, resend_stub: ResendStub
) -> None:
    owner = create_user(conn, full_name="Olive Owner")
    workspace_id = new_workspace(conn, owner)
    token = invite(conn, owner, workspace_id, "Guest@Example.test")
    invitation_id = invitation_id_of(conn, workspace_id, "guest@example.test")
    _, message = invitation_job(conn, invitation_id)
    assert message == {"kind": "invitation_created", "payload": {"invitation_id": str(invitation_id)}}

    handle(conn, db_url, providers_for(resend_stub), message["payload"])

    (request,) = resend_stub.requests
    assert request.headers["Idempotency-Key"] == f"invitation:{invitation_id}"
    body = request.body
    assert body["to"] == ["guest@example.test"]
    assert body["subject"] == "Olive Owner invited you to Clinic on CareOps"
    link = accept_link(APP, token)
    assert link.startswith(f"{APP}/invitations/accept?token=")
    assert link in body["text"]
    assert f'href="{link}"' in body["html"]
    assert "staff" in body["text"]


def test_a_closed_or_missing_invitation_is_skipped(
    conn: psycopg.Connection, db_url: str, resend_stub: ResendStub
) -> None:
    owner = create_user(conn)
    workspace_id = new_workspace(conn, owner)
    invite(conn, owner, workspace_id, "gone@example.test")
    revoked = invitation_id_of(conn, workspace_id, "gone@example.test")
    rpc(conn, Actor.user(owner), "revoke_invitation", p_invitation_id=revoked)

    handle(conn, db_url, providers_for(resend_stub), {"invitation_id": str(revoked)})
    handle(conn, db_url, providers_for(resend_stub), {"invitation_id": str(uuid.uuid4())})

    assert resend_stub.requests == []


@pytest.mark.parametrize("payload", [{}, {"invitation_id": "not-a-uuid"}, {"invitation_id": None}])
def test_a_payload_without_an_invitation_id_is_malformed(
    conn: psycopg.Connection, db_url: str, resend_stub: ResendStub, payload: dict[str, Any]
) -> None:
    with pytest.raises(MalformedJob):
        handle(conn, db_url, providers_for(resend_stub), payload)
    assert resend_stub.requests == []


@pytest.fixture
def committed(autocommit_conn: psycopg.Connection) -> Iterator[Committed]:
    data = Committed(autocommit_conn)
    yield data
    data.cleanup()


def test_the_worker_delivers_a_real_invitation_job_once(
    autocommit_conn: psycopg.Connection,
    committed: Committed,
    queue: str,
    db_url: str,
    resend_stub: ResendStub,
) -> None:
    owner = committed.user()
    workspace_id = committed.workspace(owner)
    token = invite(autocommit_conn, owner, workspace_id, "late@example.test")
    invitation_id = invitation_id_of(autocommit_conn, workspace_id, "late@example.test")
    # Move the job invite_member queued onto this test's own queue (the shared one stays untouched),
    # twice: at-least-once delivery handing the same job out again.
    msg_id, message = invitation_job(autocommit_conn, invitation_id)
    autocommit_conn.execute("select pgmq.delete('jobs', %s::bigint)", [msg_id])
    for _ in range(2):
        autocommit_conn.execute("select pgmq.send(%s, %s::jsonb)", [queue, json.dumps(message)])

    totals = run(settings(db_url, queue), threading.Event(), burst=True, providers=providers_for(resend_stub))

    assert totals.done == 2
    assert resend_stub.deliveries == {f"invitation:{invitation_id}": 1}
    assert accept_link(APP, token) in resend_stub.delivered[0]["text"]
    assert autocommit_conn.execute(f"select count(*) from pgmq.a_{queue}").fetchone()[0] == 2
