"""Inbound webhooks through edge_api, signed the way Twilio and Svix (Resend) sign them:
inbound SMS and email reach the contact's conversation, delivery events update messages, and
replayed, tampered, stale or wrongly signed requests write nothing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import psycopg
import pytest
from fastapi.testclient import TestClient

from tests.booking_support import BookingWorkspace, create_booking_workspace, drop_booking_workspace
from tests.edge_api_support import app_for
from tests.support import Actor, race_behind_lock, rpc_error, write_events

TWILIO_TOKEN = "twilio-auth-token-for-tests"
SVIX_SECRET = "whsec_" + base64.b64encode(b"resend-webhook-secret-for-tests!").decode()
TWILIO_URL = "http://testserver/webhooks/twilio/sms"


def twilio_signature(url: str, params: dict[str, str], token: str = TWILIO_TOKEN) -> str:
    """Twilio's scheme: HMAC-SHA1 over the full URL followed by each POST parameter's name and
    value, sorted by name, base64-encoded."""
    payload = url + "".join(f"{key}{params[key]}" for key in sorted(params))
    return base64.b64encode(hmac.new(token.encode(), payload.encode(), hashlib.sha1).digest()).decode()


def svix_headers(
    body: bytes, event_id: str, timestamp: int | None = None, secret: str = SVIX_SECRET
) -> dict[str, str]:
    """Svix's scheme: HMAC-SHA256, keyed with the base64 secret after `whsec_`, over
    `{id}.{timestamp}.{body}`, sent as `v1,<base64>`."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = hmac.new(key, f"{event_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
    return {
        "svix-id": event_id,
        "svix-timestamp": stamp,
        "svix-signature": "v1," + base64.b64encode(signed).decode(),
        "content-type": "application/json",
    }


@dataclass
class Inbox:
    place: BookingWorkspace
    sms_number: str
    email_address: str
    event_ids: list[str]

    def event_id(self, prefix: str) -> str:
        value = f"{prefix}-{uuid.uuid4().hex}"
        self.event_ids.append(value)
        return value


@pytest.fixture
def inbox(db_url: str) -> Iterator[Inbox]:
    """A committed workspace receiving SMS at its own number and email at its own address."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        place = create_booking_workspace(conn)
        number = "+336" + "".join(secrets.choice("0123456789") for _ in range(8))
        address = f"hello-{place.slug}@clinic.example.test"
        conn.execute(
            "update public.communication_settings set sms_enabled = true, sms_from_number = %s,"
            " sender_email = %s where workspace_id = %s",
            [number, address, place.workspace_id],
        )
        conn.execute(
            "insert into public.sender_identities (workspace_id, kind, value, status)"
            " values (%s, 'sms_number', %s, 'verified'), (%s, 'email_address', %s, 'verified')",
            [place.workspace_id, number, place.workspace_id, address],
        )
        made = Inbox(place, number, address, [])
        yield made
        conn.execute("delete from public.webhook_events where event_id = any(%s)", [made.event_ids])
        conn.execute(
            "delete from pgmq.q_jobs where message -> 'payload' ->> 'message_id' in"
            " (select id::text from public.messages where workspace_id = %s)",
            [place.workspace_id],
        )
        drop_booking_workspace(conn, place)


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    app = app_for(db_url, twilio_auth_token=TWILIO_TOKEN, resend_webhook_secret=SVIX_SECRET)
    with TestClient(app) as test_client:
        yield test_client


def written(conn: psycopg.Connection, inbox: Inbox) -> tuple[Any, ...]:
    """Everything a webhook could write for this workspace and its events."""
    return conn.execute(
        "select"
        " (select count(*) from public.webhook_events where event_id = any(%(events)s)),"
        " (select count(*) from public.contacts where workspace_id = %(ws)s),"
        " (select count(*) from public.messages where workspace_id = %(ws)s),"
        " (select array_agg((status, delivered_at) order by id) from public.messages where"
        " workspace_id = %(ws)s),"
        " (select coalesce(sum(unread_count), 0) from public.conversations where workspace_id = %(ws)s),"
        " (select count(*) from public.alerts where workspace_id = %(ws)s)",
        {"events": inbox.event_ids, "ws": inbox.place.workspace_id},
    ).fetchone()


def post_sms(client: TestClient, params: dict[str, str], signature: str) -> Any:
    return client.post(
        "/webhooks/twilio/sms",
        content=urlencode(params),
        headers={"content-type": "application/x-www-form-urlencoded", "x-twilio-signature": signature},
    )


def sms_params(inbox: Inbox, sender: str, body: str = "Can I come at 3?") -> dict[str, str]:
    return {
        "MessageSid": inbox.event_id("SM"),
        "AccountSid": "AC" + "0" * 32,
        "From": sender,
        "To": inbox.sms_number,
        "Body": body,
        "NumMedia": "0",
    }


def test_an_sms_from_a_stranger_becomes_an_inbound_contact_without_welcome(
    client: TestClient, autocommit_conn: psycopg.Connection, inbox: Inbox
) -> None:
    params = sms_params(inbox, "+33 7 11 22 33 44")
    answer = post_sms(client, params, twilio_signature(TWILIO_URL, params))
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/xml")
    contact = autocommit_conn.execute(
        "select id, name, phone, email, source from public.contacts where workspace_id = %s and phone = %s",
        [inbox.place.workspace_id, "+33711223344"],
    ).fetchone()
    assert contact[1:] == ("+33711223344", "+33711223344", None, "inbound")
    conversation = autocommit_conn.execute(
        "select unread_count, last_message_at is not null from public.conversations where contact_id = %s",
        [contact[0]],
    ).fetchone()
    assert conversation == (1, True)
    messages = autocommit_conn.execute(
        "select m.direction, m.channel, m.status, m.body, m.recipient, m.provider_message_id from"
        " public.messages m"
        " join public.conversations c on c.id = m.conversation_id where c.contact_id = %s",
        [contact[0]],
    ).fetchall()
    # Only the message they wrote: no welcome to someone who wrote first.
    assert messages == [
        ("inbound", "sms", "received", "Can I come at 3?", "+33711223344", params["MessageSid"])
    ]
    event = autocommit_conn.execute(
        "select event_type, outcome, workspace_id from public.webhook_events where provider = 'twilio'"
        " and event_id = %s",
        [params["MessageSid"]],
    ).fetchone()
    assert event == ("sms.received", "received", inbox.place.workspace_id)


def test_an_sms_from_a_known_contact_joins_their_conversation(
    client: TestClient, autocommit_conn: psycopg.Connection, inbox: Inbox
) -> None:
    contact_id = autocommit_conn.execute(
        "insert into public.contacts (workspace_id, name, email, phone) values (%s, 'Ann Lee', %s,"
        " '+33611111111')"
        " returning id",
        [inbox.place.workspace_id, f"ann-{inbox.place.slug}@example.test"],
    ).fetchone()[0]
    params = sms_params(inbox, "+33611111111")
    assert post_sms(client, params, twilio_signature(TWILIO_URL, params)).status_code == 200
    contacts, inbound, unread = autocommit_conn.execute(
        "select (select count(*) from public.contacts where workspace_id = %(ws)s),"
        " (select count(*) from public.messages m join public.conversations c on c.id = m.conversation_id"
        "  where c.contact_id = %(contact)s and m.direction = 'inbound'),"
        " (select unread_count from public.conversations where contact_id = %(contact)s)",
        {"ws": inbox.place.workspace_id, "contact": contact_id},
    ).fetchone()
    assert (contacts, inbound, unread) == (1, 1, 1)


def test_twilio_replay_tamper_and_wrong_token_write_nothing(
    client: TestClient, autocommit_conn: psycopg.Connection, inbox: Inbox
) -> None:
    params = sms_params(inbox, "+33722222222")
    signature = twilio_signature(TWILIO_URL, params)
    assert post_sms(client, params, signature).status_code == 200
    before = written(autocommit_conn, inbox)

    replay = post_sms(client, params, signature)
    assert replay.status_code == 200  # acknowledged, so Twilio stops retrying
    assert written(autocommit_conn, inbox) == before

    tampered = dict(params, Body="Please cancel everything")
    answer = post_sms(client, tampered, signature)
    assert (answer.status_code, answer.json()["message"]) == (401, "invalid_signature")
    assert written(autocommit_conn, inbox) == before

    forged = sms_params(inbox, "+33733333333")
    answer = post_sms(client, forged, twilio_signature(TWILIO_URL, forged, token="not-the-auth-token"))
    assert (answer.status_code, answer.json()["message"]) == (401, "invalid_signature")
    answer = post_sms(client, forged, "")
    assert (answer.status_code, answer.json()["message"]) == (401, "invalid_signature")
    assert written(autocommit_conn, inbox) == before


def test_an_sms_to_a_number_no_workspace_uses_is_recorded_as_unroutable(
    client: TestClient, autocommit_conn: psycopg.Connection, inbox: Inbox
) -> None:
    params = sms_params(inbox, "+33744444444")
    # A number no workspace uses (other tests' workspaces receive at Twilio's test numbers).
    params["To"] = f"+4420{secrets.randbelow(10**8):08d}"
    assert post_sms(client, params, twilio_signature(TWILIO_URL, params)).status_code == 200
    outcome = autocommit_conn.execute(
        "select outcome from public.webhook_events where event_id = %s", [params["MessageSid"]]
    ).fetchone()
    assert outcome == ("unroutable",)
    assert written(autocommit_conn, inbox)[1:3] == (0, 0)


def sent_email(conn: psycopg.Connection, inbox: Inbox, email: str) -> tuple[Any, Any, str]:
    """A contact with an email the worker has handed to Resend (status sent, Resend's id)."""
    contact_id = conn.execute(
        "insert into public.contacts (workspace_id, name, email) values (%s, 'Bo Ng', %s) returning id",
        [inbox.place.workspace_id, email],
    ).fetchone()[0]
    write_events(conn)  # the worker wrote the welcome (and the conversation)
    resend_id = str(uuid.uuid4())
    message_id = conn.execute(
        "insert into public.messages (workspace_id, conversation_id, direction, channel, kind, subject, body,"
        " recipient, status, provider, provider_message_id, idempotency_key, sent_at)"
        " select c.workspace_id, c.id, 'outbound', 'email', 'manual', 'Hi', 'Hello', %s, 'sent',"
        " 'resend', %s,"
        " %s, now() from public.conversations c where c.contact_id = %s returning id",
        [email, resend_id, f"test:{resend_id}", contact_id],
    ).fetchone()[0]
    return contact_id, message_id, resend_id


def resend_event(event_type: str, data: dict[str, Any]) -> bytes:
    return json.dumps({"type": event_type, "created_at": "2026-11-25T21:00:00.000Z", "data": data}).encode()


def test_resend_delivery_events_update_the_message(
    client: TestClient, autocommit_conn: psycopg.Connection, inbox: Inbox
) -> None:
    _, message_id, resend_id = sent_email(autocommit_conn, inbox, f"bo-{inbox.place.slug}@example.test")
    body = resend_event("email.delivered", {"email_id": resend_id, "to": ["bo@example.test"]})
    answer = client.post("/webhooks/resend", content=body, headers=svix_headers(body, inbox.event_id("msg")))
    assert (answer.status_code, answer.json()) == (200, {"outcome": "status_updated"})
    status = autocommit_conn.execute(
        "select status, delivered_at is not null from public.messages where id = %s", [message_id]
    ).fetchone()
    assert status == ("delivered", True)

    opened = resend_event("email.opened", {"email_id": resend_id})
    answer = client.post(
        "/webhooks/resend", content=opened, headers=svix_headers(opened, inbox.event_id("msg"))
    )
    assert answer.json() == {"outcome": "ignored"}

    unknown = resend_event("email.delivered", {"email_id": str(uuid.uuid4())})
    event_id = inbox.event_id("msg")
    answer = client.post("/webhooks/resend", content=unknown, headers=svix_headers(unknown, event_id))
    assert (answer.status_code, answer.json()) == (200, {"outcome": "unknown_message"})
    assert autocommit_conn.execute(
        "select outcome from public.webhook_events where event_id = %s", [event_id]
    ).fetchone() == ("unknown_message",)


def test_a_bounce_stops_email_to_the_address_until_it_is_corrected(
    client: TestClient, db_url: str, autocommit_conn: psycopg.Connection, inbox: Inbox
) -> None:
    email = f"bo-{inbox.place.slug}@example.test"
    contact_id, message_id, resend_id = sent_email(autocommit_conn, inbox, email)
    body = resend_event("email.bounced", {"email_id": resend_id, "bounce": {"type": "Permanent"}})
    answer = client.post("/webhooks/resend", content=body, headers=svix_headers(body, inbox.event_id("msg")))
    assert answer.status_code == 200
    assert autocommit_conn.execute(
        "select status from public.messages where id = %s", [message_id]
    ).fetchone() == ("bounced",)
    alert = autocommit_conn.execute(
        "select kind, subject_type, subject_id, resolved_at from public.alerts where workspace_id = %s",
        [inbox.place.workspace_id],
    ).fetchall()
    assert alert == [("email_bounced", "contact", contact_id, None)]

    # Automated email to the address is recorded as skipped; staff get a code.
    with psycopg.connect(db_url) as conn:
        queued_id = conn.execute(
            "select private.queue_message(%s, 'welcome', 'email', '{}'::jsonb, 'after-bounce')", [contact_id]
        ).fetchone()[0]
        skipped = conn.execute(
            "select status, skip_reason from public.messages where id = %s", [queued_id]
        ).fetchone()
        assert skipped == ("skipped", "email_bounced")
        conversation_id = conn.execute(
            "select id from public.conversations where contact_id = %s", [contact_id]
        ).fetchone()[0]
        staff = Actor.user(inbox.place.users[0])
        code = rpc_error(
            conn, staff, "send_message", p_conversation_id=conversation_id, p_body="Hi", p_channel="email"
        )
        assert code == "email_bounced"
        # Corrected: email goes again.
        conn.execute(
            "update public.contacts set email = %s where id = %s",
            [f"bo2-{inbox.place.slug}@example.test", contact_id],
        )
        resolved = conn.execute(
            "select resolved_at is not null, resolved_by from public.alerts where subject_id = %s",
            [contact_id],
        ).fetchone()
        assert resolved == (True, None)  # the correction resolves the alert; it stays as history
        assert (
            rpc_error(
                conn, staff, "send_message", p_conversation_id=conversation_id, p_body="Hi", p_channel="email"
            )
            is None
        )
        conn.rollback()


def test_resend_replay_tamper_stale_and_wrong_secret_write_nothing(
    client: TestClient, autocommit_conn: psycopg.Connection, inbox: Inbox
) -> None:
    _, message_id, resend_id = sent_email(autocommit_conn, inbox, f"cy-{inbox.place.slug}@example.test")
    body = resend_event("email.delivered", {"email_id": resend_id})
    event_id = inbox.event_id("msg")
    headers = svix_headers(body, event_id)
    assert client.post("/webhooks/resend", content=body, headers=headers).status_code == 200
    before = written(autocommit_conn, inbox)

    replay = client.post("/webhooks/resend", content=body, headers=headers)
    assert (replay.status_code, replay.json()) == (200, {"outcome": "duplicate"})
    assert written(autocommit_conn, inbox) == before

    bounced = resend_event("email.bounced", {"email_id": resend_id})
    fresh_id = inbox.event_id("msg")
    refused = {
        "tampered body": (bounced, svix_headers(body, fresh_id)),
        "stale timestamp": (bounced, svix_headers(bounced, fresh_id, timestamp=int(time.time()) - 600)),
        "future timestamp": (bounced, svix_headers(bounced, fresh_id, timestamp=int(time.time()) + 600)),
        "wrong secret": (
            bounced,
            svix_headers(bounced, fresh_id, secret="whsec_" + base64.b64encode(b"someone-else").decode()),
        ),
        "no signature": (bounced, {"svix-id": fresh_id, "svix-timestamp": str(int(time.time()))}),
        "replayed signature, other id": (
            bounced,
            dict(svix_headers(bounced, fresh_id), **{"svix-id": event_id}),
        ),
    }
    for case, (content, case_headers) in refused.items():
        answer = client.post("/webhooks/resend", content=content, headers=case_headers)
        assert (answer.status_code, answer.json()["message"]) == (401, "invalid_signature"), case
        assert written(autocommit_conn, inbox) == before, case
    assert autocommit_conn.execute(
        "select status from public.messages where id = %s", [message_id]
    ).fetchone() == ("delivered",)


def test_an_inbound_email_reaches_the_contacts_conversation(
    client: TestClient, autocommit_conn: psycopg.Connection, inbox: Inbox
) -> None:
    email = f"dee-{inbox.place.slug}@example.test"
    body = resend_event(
        "email.received",
        {
            "email_id": str(uuid.uuid4()),
            "from": f"Dee Park <{email.upper()}>",
            "to": [f"Front Desk <{inbox.email_address}>"],
            "subject": "Parking?",
            "text": "Is there parking nearby?",
        },
    )
    answer = client.post("/webhooks/resend", content=body, headers=svix_headers(body, inbox.event_id("msg")))
    assert (answer.status_code, answer.json()) == (200, {"outcome": "received"})
    row = autocommit_conn.execute(
        "select c.name, c.source, m.channel, m.subject, m.body, v.unread_count from public.contacts c"
        " join public.conversations v on v.contact_id = c.id join public.messages m on"
        " m.conversation_id = v.id"
        " where c.workspace_id = %s and c.email = %s",
        [inbox.place.workspace_id, email],
    ).fetchall()
    assert row == [("Dee Park", "inbound", "email", "Parking?", "Is there parking nearby?", 1)]


def test_webhooks_without_secrets_are_not_served(db_url: str) -> None:
    with TestClient(app_for(db_url)) as bare:
        answer = bare.post("/webhooks/resend", content=b"{}")
        assert (answer.status_code, answer.json()["message"]) == (404, "not_found")
        answer = bare.post("/webhooks/twilio/sms", content=b"")
        assert (answer.status_code, answer.json()["message"]) == (404, "not_found")


def test_two_first_messages_from_one_new_number_at_once_make_one_contact(
    db_url: str, autocommit_conn: psycopg.Connection, inbox: Inbox
) -> None:
    """The second waits on the sender lock the first holds, then finds the contact it made."""

    def receive(event_id: str) -> Callable[[psycopg.Connection], Any]:
        def call(conn: psycopg.Connection) -> Any:
            return conn.execute(
                "select private.receive_inbound_message('twilio', %s, 'sms', '+33755555555',"
                " array[%s], null, 'Hi')",
                [event_id, inbox.sms_number],
            ).fetchone()[0]

        return call

    first, second = race_behind_lock(
        db_url,
        autocommit_conn,
        (Actor.service(), receive(inbox.event_id("SM"))),
        (Actor.service(), receive(inbox.event_id("SM"))),
    )
    assert first["outcome"] == second["outcome"] == "received"
    assert first["contact_id"] == second["contact_id"]
    contacts, unread = autocommit_conn.execute(
        "select count(*), max(v.unread_count) from public.contacts c join public.conversations v on"
        " v.contact_id = c.id"
        " where c.workspace_id = %s and c.phone = '+33755555555'",
        [inbox.place.workspace_id],
    ).fetchone()
    assert (contacts, unread) == (1, 2)
