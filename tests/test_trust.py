"""Messaging patients can trust (issue 17), tried as an attacker would: anonymous RPCs as
PostgREST calls them and signed webhooks over HTTP.

- anonymous input never rewrites an existing contact (a phone given with a booking is that
  booking's number); a text from a number no contact holds starts its own conversation;
- sender identities: a number or address is verified for one workspace by the platform before
  it is used; inbound goes only to the active workspace holding it verified, the rest is kept
  for operators; outbound uses only verified identities or the platform default;
- SMS STOP/START/HELP (and Twilio's OptOutType), email complaints suppressing like bounces,
  one-click List-Unsubscribe (RFC 8058) for automated email that is not transactional;
- abuse caps: anonymous churn per email, phone and client address; automated messages per
  recipient per workspace and platform; an alert and a metric;
- past the per-email limit an anonymous booking is held for the address holder to confirm, and
  the caller's answers are the same as below it;
- /metrics labels bounded and never public in production; a cancelled booking's form link.
"""

from __future__ import annotations

import json
import re
import secrets
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import psycopg
import pytest
from fastapi.testclient import TestClient

from tests.booking_support import (
    BookingWorkspace,
    book,
    create_booking_workspace,
    drop_booking_workspace,
    table_counts,
)
from tests.edge_api_support import app_for
from tests.message_support import create_messaging_workspace, queue_messages, send_delivery_jobs
from tests.stubs import ResendStub, SmtpStub, TwilioStub
from tests.support import Actor, error_of, race_behind_lock, rpc, rpc_error, run_as
from tests.test_automation import attach_form, form_token
from tests.test_message_delivery import SENDER, burst
from tests.test_webhooks import (
    SVIX_SECRET,
    TWILIO_TOKEN,
    TWILIO_URL,
    resend_event,
    svix_headers,
    twilio_signature,
)
from worker.providers import ProviderChain, Providers, ResendProvider, TwilioProvider


def next_slot(days: int = 1, hour: int = 10) -> datetime:
    day = datetime.now(UTC).date() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def random_number(prefix: str = "+336") -> str:
    return prefix + "".join(secrets.choice("0123456789") for _ in range(8))


@dataclass
class Clinic:
    place: BookingWorkspace
    sms_number: str
    email_address: str
    event_ids: list[str]

    @property
    def id(self) -> uuid.UUID:
        return self.place.workspace_id

    def sms(self, sender: str, body: str, **extra: str) -> dict[str, str]:
        sid = f"SM{uuid.uuid4().hex}"
        self.event_ids.append(sid)
        return {
            "MessageSid": sid,
            "AccountSid": "AC" + "0" * 32,
            "From": sender,
            "To": self.sms_number,
            "Body": body,
            "NumMedia": "0",
            **extra,
        }


def make_clinic(conn: psycopg.Connection) -> Clinic:
    """A committed active workspace with email and SMS on, receiving at a number it owns."""
    place = create_booking_workspace(conn)
    number = random_number()
    address = f"hello-{place.slug}@clinic.example.test"
    conn.execute(
        "update public.communication_settings set sms_enabled = true, sms_from_number = %s,"
        " sender_email = %s where workspace_id = %s",
        [number, address, place.workspace_id],
    )
    verify(conn, place.workspace_id, "sms_number", number)
    verify(conn, place.workspace_id, "email_address", address)
    return Clinic(place, number, address, [])


def verify(conn: psycopg.Connection, workspace_id: uuid.UUID, kind: str, value: str) -> None:
    """What the platform does once the workspace proved it controls the value (service_role)."""
    run_as(
        conn,
        Actor.service(),
        "insert into public.sender_identities (workspace_id, kind, value, status)"
        " values (%s, %s, %s, 'verified')",
        [workspace_id, kind, value],
    )


def drop_clinic(conn: psycopg.Connection, clinic: Clinic) -> None:
    conn.execute("delete from public.webhook_events where event_id = any(%s)", [clinic.event_ids])
    conn.execute(
        "delete from pgmq.q_jobs where message -> 'payload' ->> 'message_id' in"
        " (select id::text from public.messages where workspace_id = %s)",
        [clinic.id],
    )
    drop_booking_workspace(conn, clinic.place)


@pytest.fixture
def clinic(db_url: str) -> Iterator[Clinic]:
    with psycopg.connect(db_url, autocommit=True) as conn:
        made = make_clinic(conn)
        yield made
        drop_clinic(conn, made)


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    app = app_for(db_url, twilio_auth_token=TWILIO_TOKEN, resend_webhook_secret=SVIX_SECRET)
    with TestClient(app) as test_client:
        yield test_client


def post_sms(client: TestClient, params: dict[str, str]) -> Any:
    """A Twilio webhook call, signed with the account's auth token."""
    return client.post(
        "/webhooks/twilio/sms",
        content=urlencode(params),
        headers={
            "content-type": "application/x-www-form-urlencoded",
            "x-twilio-signature": twilio_signature(TWILIO_URL, params),
        },
    )


# --- 2. Anonymous input never rewrites someone else's contact ------------------------------------


def test_an_anonymous_booking_never_changes_an_existing_contact(conn: psycopg.Connection) -> None:
    place = create_booking_workspace(conn)
    conn.execute(
        "update public.communication_settings set sms_enabled = true where workspace_id = %s",
        [place.workspace_id],
    )
    patient, number_patient = "pat@example.test", "+33611111111"
    without_phone = "no-phone@example.test"
    conn.execute(
        "insert into public.contacts (workspace_id, name, email, phone) values"
        " (%s, 'Pat Patient', %s, %s), (%s, 'Nora Nophone', %s, null)",
        [place.workspace_id, patient, number_patient, place.workspace_id, without_phone],
    )
    before = conn.execute(
        "select id, name, email, phone, updated_at from public.contacts where workspace_id = %s"
        " order by email",
        [place.workspace_id],
    ).fetchall()

    stranger = "+33799999999"
    booked = [
        book(conn, place, next_slot(hour=10), email=" PAT@example.test ", p_name="Mallory", p_phone=stranger),
        book(conn, place, next_slot(hour=11), email=without_phone, p_name="Mallory", p_phone=stranger),
    ]

    after = conn.execute(
        "select id, name, email, phone, updated_at from public.contacts where workspace_id = %s"
        " order by email",
        [place.workspace_id],
    ).fetchall()
    assert after == before
    # The number given is the booking's, and only that booking's SMS go to it.
    rows = conn.execute(
        "select b.contact_phone, m.channel, m.recipient, m.status from public.bookings b"
        " join public.messages m on m.booking_id = b.id where b.id = any(%s) order by b.starts_at, m.channel",
        [[row["booking_id"] for row in booked]],
    ).fetchall()
    assert rows == [
        (stranger, "email", patient, "queued"),
        (stranger, "sms", stranger, "queued"),
        (stranger, "email", without_phone, "queued"),
        (stranger, "sms", stranger, "queued"),
    ]
    # The patient's own booking (no phone given) texts the patient's number, not the stranger's.
    own = book(conn, place, next_slot(hour=12), email=patient)
    assert conn.execute(
        "select b.contact_phone, m.recipient from public.bookings b"
        " join public.messages m on m.booking_id = b.id where b.id = %s and m.channel = 'sms'",
        [own["booking_id"]],
    ).fetchone() == (None, number_patient)

    # Staff adopt the booking's number when the patient confirms it is theirs.
    staff = place.users[0]
    run_as(
        conn,
        Actor.user(staff),
        "update public.contacts c set phone = b.contact_phone from public.bookings b"
        " where b.id = %s and c.id = b.contact_id",
        [booked[1]["booking_id"]],
    )
    assert conn.execute(
        "select phone from public.contacts where email = %s and workspace_id = %s",
        [without_phone, place.workspace_id],
    ).fetchone() == (stranger,)


def test_a_text_from_a_number_given_with_a_booking_never_joins_the_patients_conversation(
    client: TestClient, autocommit_conn: psycopg.Connection, clinic: Clinic
) -> None:
    patient = f"pat-{clinic.place.slug}@example.test"
    patient_id = autocommit_conn.execute(
        "insert into public.contacts (workspace_id, name, email) values (%s, 'Pat Patient', %s) returning id",
        [clinic.id, patient],
    ).fetchone()[0]
    stranger = random_number("+337")
    book(autocommit_conn, clinic.place, next_slot(), email=patient, p_name="Mallory", p_phone=stranger)

    answer = post_sms(client, clinic.sms(stranger, "What time is my appointment again?"))
    assert answer.status_code == 200
    sender = autocommit_conn.execute(
        "select c.id, c.source, v.id from public.contacts c"
        " join public.conversations v on v.contact_id = c.id where c.workspace_id = %s and c.phone = %s",
        [clinic.id, stranger],
    ).fetchall()
    assert len(sender) == 1
    assert sender[0][0] != patient_id
    assert sender[0][1] == "inbound"
    inbound_in_patients = autocommit_conn.execute(
        "select count(*) from public.messages m join public.conversations v on v.id = m.conversation_id"
        " where v.contact_id = %s and m.direction = 'inbound'",
        [patient_id],
    ).fetchone()[0]
    assert inbound_in_patients == 0


# --- 1. A number or address belongs to exactly one workspace ---------------------------------------


def inbound_counts(conn: psycopg.Connection, workspace_id: uuid.UUID) -> tuple[int, int]:
    return conn.execute(
        "select (select count(*) from public.messages where workspace_id = %(ws)s and direction = 'inbound'),"
        " (select count(*) from public.contacts where workspace_id = %(ws)s)",
        {"ws": workspace_id},
    ).fetchone()


def test_a_copied_number_or_address_never_receives_another_workspaces_patients(
    client: TestClient, autocommit_conn: psycopg.Connection, clinic: Clinic
) -> None:
    # An older workspace (never activated, and an active one) copies the victim's number and address.
    squatters = [make_clinic(autocommit_conn), make_clinic(autocommit_conn)]
    try:
        for squatter, status in zip(squatters, ("draft", "active"), strict=True):
            autocommit_conn.execute(
                "update public.workspaces set status = %s, created_at = now() - interval '1 year'"
                " where id = %s",
                [status, squatter.id],
            )
            owner = Actor.user(squatter.place.users[0])
            run_as(
                autocommit_conn,
                owner,
                "update public.communication_settings set sms_from_number = %s, sender_email = %s"
                " where workspace_id = %s",
                [clinic.sms_number, clinic.email_address, squatter.id],
            )
            # Asking for the victim's verified number is refused outright.
            assert (
                rpc_error_of(
                    autocommit_conn,
                    owner,
                    "insert into public.sender_identities (workspace_id, kind, value)"
                    " values (%s, 'sms_number', %s)",
                    [squatter.id, clinic.sms_number],
                )
                == "sender_identity_taken"
            )

        answer = post_sms(client, clinic.sms("+33712345678", "My results came back, call me"))
        assert answer.status_code == 200
        assert inbound_counts(autocommit_conn, clinic.id) == (1, 1)
        for squatter in squatters:
            assert inbound_counts(autocommit_conn, squatter.id) == (0, 0)
    finally:
        for squatter in squatters:
            drop_clinic(autocommit_conn, squatter)


def rpc_error_of(conn: psycopg.Connection, actor: Actor, query: str, params: list[Any]) -> str | None:
    error = error_of(conn, actor, query, params)
    return None if error is None else error.diag.message_primary


def test_inbound_no_active_verified_workspace_holds_is_kept_for_operators_and_counted(
    client: TestClient, autocommit_conn: psycopg.Connection, clinic: Clinic
) -> None:
    def metric() -> float:
        families = autocommit_conn.execute("select private.metrics_snapshot()").fetchone()[0]
        (family,) = [f for f in families if f["name"] == "careops_unroutable_inbound_messages"]
        return sum(s["value"] for s in family["samples"] if s["labels"] == {"channel": "sms"})

    before = metric()
    # Requested, not verified: not routed.
    requested = random_number("+4420")
    run_as(
        autocommit_conn,
        Actor.user(clinic.place.users[0]),
        "insert into public.sender_identities (workspace_id, kind, value) values (%s, 'sms_number', %s)",
        [clinic.id, requested],
    )
    first = dict(clinic.sms("+33712345678", "Hello?"), To=requested)
    clinic.event_ids.append(first["MessageSid"])
    assert post_sms(client, first).status_code == 200
    # Verified, but the workspace is no longer active: not routed either.
    autocommit_conn.execute("update public.workspaces set status = 'draft' where id = %s", [clinic.id])
    second = clinic.sms("+33712345678", "Anyone there?")
    assert post_sms(client, second).status_code == 200

    assert inbound_counts(autocommit_conn, clinic.id) == (0, 0)
    kept = autocommit_conn.execute(
        "select u.recipients, u.body, e.outcome from public.unroutable_messages u"
        " join public.webhook_events e using (provider, event_id) where u.event_id = any(%s)"
        " order by u.received_at",
        [[first["MessageSid"], second["MessageSid"]]],
    ).fetchall()
    assert kept == [
        ([requested], "Hello?", "unroutable"),
        ([clinic.sms_number], "Anyone there?", "unroutable"),
    ]
    assert metric() == before + 2


def test_owners_request_identities_and_only_the_platform_verifies_them(conn: psycopg.Connection) -> None:
    place = create_booking_workspace(conn, practitioners=2)
    owner, staff = Actor.user(place.users[0]), Actor.user(place.users[1])
    ws = place.workspace_id
    insert = (
        "insert into public.sender_identities (workspace_id, kind, value) values (%s, %s, %s)"
        " returning id, value, status"
    )
    ((identity_id, value, status),) = run_as(conn, owner, insert, [ws, "sms_number", "+44 20 7946 0958"])
    assert (value, status) == ("+442079460958", "requested")
    run_as(conn, owner, insert, [ws, "email_domain", " Clinic.Example.TEST "])
    assert run_as(conn, staff, "select kind, value, status from public.sender_identities order by kind") == [
        ("email_domain", "clinic.example.test", "requested"),
        ("sms_number", "+442079460958", "requested"),
    ]
    # Bad values have a code and write nothing; members cannot verify, staff cannot request.
    count = "select count(*) from public.sender_identities where workspace_id = %s"
    before = conn.execute(count, [ws]).fetchone()
    for kind, bad, code in [
        ("sms_number", "07946 0958", "invalid_phone"),
        ("email_address", "not-an-address", "invalid_sender_identity"),
        ("email_domain", "-bad-.example", "invalid_sender_identity"),
        ("email_domain", "x" * 400, "invalid_sender_identity"),
    ]:
        assert rpc_error_of(conn, owner, insert, [ws, kind, bad]) == code
    assert "permission denied" in rpc_error_of(
        conn,
        owner,
        "insert into public.sender_identities (workspace_id, kind, value, status)"
        " values (%s, 'sms_number', '+447700900001', 'verified')",
        [ws],
    )
    assert "permission denied" in rpc_error_of(
        conn, owner, "update public.sender_identities set status = 'verified' where id = %s", [identity_id]
    )
    assert "row-level security" in rpc_error_of(conn, staff, insert, [ws, "sms_number", "+447700900002"])
    assert conn.execute(count, [ws]).fetchone() == before

    run_as(
        conn,
        Actor.service(),
        "update public.sender_identities set status = 'verified' where id = %s",
        [identity_id],
    )
    assert conn.execute(
        "select status, verified_at is not null from public.sender_identities where id = %s", [identity_id]
    ).fetchone() == ("verified", True)
    # Another workspace can neither request it nor be verified for it.
    other = create_booking_workspace(conn)
    assert (
        rpc_error_of(
            conn, Actor.user(other.users[0]), insert, [other.workspace_id, "sms_number", "+442079460958"]
        )
        == "sender_identity_taken"
    )
    assert (
        rpc_error_of(
            conn,
            Actor.service(),
            "insert into public.sender_identities (workspace_id, kind, value, status)"
            " values (%s, 'sms_number', '+442079460958', 'verified')",
            [other.workspace_id],
        )
        == "sender_identity_taken"
    )


def test_outbound_uses_only_verified_identities_or_the_platform_default(
    db_url: str,
    autocommit_conn: psycopg.Connection,
    resend_stub: ResendStub,
    smtp_stub: SmtpStub,
    twilio_stub: TwilioStub,
) -> None:
    queue = f"trust_test_{uuid.uuid4().hex[:8]}"
    autocommit_conn.execute("select pgmq.create(%s)", [queue])
    victim = create_messaging_workspace(autocommit_conn)
    attacker = create_messaging_workspace(autocommit_conn)
    try:
        victim_number, victim_address = autocommit_conn.execute(
            "select sms_from_number, sender_email from public.communication_settings where workspace_id = %s",
            [victim.workspace_id],
        ).fetchone()
        # The attacker's owner writes the victim's number and address into its own settings.
        run_as(
            autocommit_conn,
            Actor.user(attacker.owner),
            "update public.communication_settings set sms_from_number = %s, sender_email = %s,"
            " reply_to_email = null where workspace_id = %s",
            [victim_number, victim_address, attacker.workspace_id],
        )
        # The victim's domain is verified too: its mail goes from its own address.
        verify(autocommit_conn, victim.workspace_id, "email_domain", victim_address.split("@")[1])
        for place in (attacker, victim):
            queue_messages(autocommit_conn, place, queue, 1)
            queue_messages(autocommit_conn, place, queue, 1, channel="sms")
        providers = Providers(
            ProviderChain("email", [ResendProvider("re_test", resend_stub.url, SENDER, 0.5)]),
            ProviderChain("sms", [TwilioProvider("ACtest", "token", "+15005550001", 0.5, twilio_stub.url)]),
        )
        totals = burst(db_url, queue, providers)
        assert (totals.done, totals.failed) == (4, 0)
        senders = {(m["from"], tuple(m.get("reply_to") or ())) for m in resend_stub.delivered}
        assert senders == {
            (f"{attacker.name} <no-reply@careops.test>", ()),
            (f"{victim.name} <{victim_address}>", (victim_address,)),
        }
        assert sorted(m["From"] for m in twilio_stub.delivered) == sorted(["+15005550001", victim_number])
    finally:
        autocommit_conn.execute("select pgmq.drop_queue(%s)", [queue])
        for place in (victim, attacker):
            autocommit_conn.execute("delete from public.workspaces where id = %s", [place.workspace_id])


# --- 5. SMS opt-out --------------------------------------------------------------------------------


def sms_state(conn: psycopg.Connection, clinic: Clinic, phone: str) -> Any:
    return conn.execute(
        "select keyword, opt_out_type from public.sms_opt_outs where workspace_id = %s and phone = %s",
        [clinic.id, phone],
    ).fetchone()


def test_stop_start_and_help_by_sms(
    client: TestClient, autocommit_conn: psycopg.Connection, clinic: Clinic
) -> None:
    conn = autocommit_conn
    phone = random_number("+337")
    email = f"pat-{clinic.place.slug}@example.test"
    contact_id = conn.execute(
        "insert into public.contacts (workspace_id, name, email, phone) values (%s, 'Pat', %s, %s)"
        " returning id",
        [clinic.id, email, phone],
    ).fetchone()[0]
    first = book(conn, clinic.place, next_slot(hour=9), email=email)
    queued_before = conn.execute(
        "select id from public.messages where booking_id = %s and channel = 'sms'", [first["booking_id"]]
    ).fetchone()[0]

    # Not the whole message: an ordinary message.
    assert post_sms(client, clinic.sms(phone, "stop sending me reminders at night")).status_code == 200
    assert sms_state(conn, clinic, phone) is None
    assert post_sms(client, clinic.sms(phone, "  Stop \n")).status_code == 200
    assert sms_state(conn, clinic, phone) == ("STOP", None)

    # What was queued before the STOP is not sent; what is queued after is skipped with the reason.
    claimed = conn.execute(
        "select claimed from private.claim_message_deliveries(%s, interval '1 minute')", [[queued_before]]
    ).fetchall()
    assert claimed == [(False,)]
    second = book(conn, clinic.place, next_slot(hour=10), email=email)
    assert (
        conn.execute(
            "select m.status, m.skip_reason from public.messages m where m.id = %s or (m.booking_id = %s and"
            " m.channel = 'sms')",
            [queued_before, second["booking_id"]],
        ).fetchall()
        == [("skipped", "sms_opted_out")] * 2
    )
    # Staff see it on the contact and cannot text the number.
    staff = Actor.user(clinic.place.users[0])
    assert run_as(
        conn, staff, "select c.sms_opted_out from public.contacts c where c.id = %s", [contact_id]
    ) == [(True,)]
    conversation_id = conn.execute(
        "select id from public.conversations where contact_id = %s", [contact_id]
    ).fetchone()[0]
    count = "select count(*) from public.messages where workspace_id = %s"
    before = conn.execute(count, [clinic.id]).fetchone()
    assert (
        rpc_error_of(
            conn,
            staff,
            "select public.send_message(p_conversation_id => %s, p_body => 'Hi', p_channel => 'sms')",
            [conversation_id],
        )
        == "sms_opted_out"
    )
    assert conn.execute(count, [clinic.id]).fetchone() == before

    # HELP is answered even now, with the business name and how to reach it.
    assert post_sms(client, clinic.sms(phone, "help")).status_code == 200
    help_reply = conn.execute(
        "select status, body from public.messages where workspace_id = %s"
        " and idempotency_key like 'sms\\_help:%%'",
        [clinic.id],
    ).fetchone()
    assert help_reply[0] == "queued"
    assert help_reply[1].startswith(f"Clinic {clinic.place.slug.removeprefix('book-')}: for help, write to ")
    assert clinic.email_address in help_reply[1]
    assert "Reply STOP" in help_reply[1]

    # START opts back in.
    assert post_sms(client, clinic.sms(phone, "Start")).status_code == 200
    assert sms_state(conn, clinic, phone) is None
    third = book(conn, clinic.place, next_slot(hour=11), email=email)
    assert conn.execute(
        "select status from public.messages where booking_id = %s and channel = 'sms'", [third["booking_id"]]
    ).fetchone() == ("queued",)

    # Twilio's Advanced Opt-Out names the keyword (a custom one, here) and is recorded.
    assert post_sms(client, clinic.sms(phone, "ARRET", OptOutType="STOP")).status_code == 200
    assert sms_state(conn, clinic, phone) == ("ARRET", "STOP")


def test_a_spam_complaint_over_the_signed_webhook_suppresses_email_like_a_bounce(
    client: TestClient, autocommit_conn: psycopg.Connection, clinic: Clinic
) -> None:
    conn = autocommit_conn
    email = f"cal-{clinic.place.slug}@example.test"
    contact_id = conn.execute(
        "insert into public.contacts (workspace_id, name, email) values (%s, 'Cal', %s) returning id",
        [clinic.id, email],
    ).fetchone()[0]
    resend_id = str(uuid.uuid4())
    message_id = conn.execute(
        "insert into public.messages (workspace_id, conversation_id, direction, channel, kind, subject, body,"
        " recipient, status, provider, provider_message_id, idempotency_key)"
        " select %s, private.conversation_for_contact(%s, %s), 'outbound', 'email', 'manual', 'Hi', 'Hello',"
        " %s, 'sent', 'resend', %s, 'test:complaint' returning id",
        [clinic.id, clinic.id, contact_id, email, resend_id],
    ).fetchone()[0]
    body = resend_event("email.complained", {"email_id": resend_id, "to": [email]})
    event_id = f"msg_{uuid.uuid4().hex}"
    clinic.event_ids.append(event_id)
    answer = client.post("/webhooks/resend", content=body, headers=svix_headers(body, event_id))
    assert (answer.status_code, answer.json()) == (200, {"outcome": "status_updated"})
    assert conn.execute("select status from public.messages where id = %s", [message_id]).fetchone() == (
        "complained",
    )
    booked = book(conn, clinic.place, next_slot(), email=email)
    assert conn.execute(
        "select status, skip_reason from public.messages where booking_id = %s and channel = 'email'",
        [booked["booking_id"]],
    ).fetchone() == ("skipped", "email_bounced")


# --- 5. Email: one-click unsubscribe (RFC 8058) for what is not transactional -----------------------

UNSUBSCRIBE_SECRET = "unsubscribe-secret-for-tests"


def test_one_click_unsubscribe_stops_non_transactional_email_only(
    db_url: str, autocommit_conn: psycopg.Connection, resend_stub: ResendStub, twilio_stub: TwilioStub
) -> None:
    conn = autocommit_conn
    queue = f"trust_test_{uuid.uuid4().hex[:8]}"
    conn.execute("select pgmq.create(%s)", [queue])
    place = create_messaging_workspace(conn)

    def queue_email(kind: str, key: str) -> Any:
        message_id = conn.execute(
            "select private.queue_message(%s, %s, 'email',"
            " jsonb_build_object('workspace_name', %s::text), %s)",
            [place.contact_id, kind, place.name, key],
        ).fetchone()[0]
        return message_id, conn.execute(
            "select status, skip_reason from public.messages where id = %s", [message_id]
        ).fetchone()

    try:
        welcome, _ = queue_email("welcome", "test:welcome:1")
        reminder, _ = queue_email("reminder", "test:reminder:1")
        send_delivery_jobs(conn, queue, [welcome, reminder])
        providers = Providers(
            ProviderChain("email", [ResendProvider("re_test", resend_stub.url, SENDER, 0.5)]),
            ProviderChain("sms", [TwilioProvider("ACtest", "token", "+15005550001", 0.5, twilio_stub.url)]),
        )
        totals = burst(
            db_url,
            queue,
            providers,
            unsubscribe_base_url="https://api.example.test/",
            unsubscribe_signing_secret=UNSUBSCRIBE_SECRET,
        )
        assert (totals.done, totals.failed) == (2, 0)
        by_subject = {m["subject"]: m.get("headers") for m in resend_stub.delivered}
        headers = by_subject[f"Welcome to {place.name}"]
        assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        link = headers["List-Unsubscribe"].strip("<>")
        assert link.startswith(f"https://api.example.test/email/unsubscribe?m={welcome}&s=")
        # A reminder is transactional: no unsubscribe.
        assert [h for s, h in by_subject.items() if s != f"Welcome to {place.name}"] == [None]

        path = link.removeprefix("https://api.example.test")
        app = app_for(db_url, unsubscribe_signing_secret=UNSUBSCRIBE_SECRET)
        unsubscribed = "select email_unsubscribed_at is not null from public.contacts where id = %s"
        with TestClient(app) as client:
            forged = client.post(path[:-3] + "AAA", content="List-Unsubscribe=One-Click")
            assert (forged.status_code, forged.json()["message"]) == (401, "invalid_signature")
            other = client.post(
                path.replace(str(welcome), str(reminder)), content="List-Unsubscribe=One-Click"
            )
            assert other.status_code == 401
            assert client.get(path).status_code == 405  # link scanners GET; only the POST unsubscribes
            assert conn.execute(unsubscribed, [place.contact_id]).fetchone() == (False,)
            answer = client.post(path, content="List-Unsubscribe=One-Click")
            assert (answer.status_code, answer.json()) == (200, {"outcome": "unsubscribed"})
            assert client.post(path, content="List-Unsubscribe=One-Click").json() == {
                "outcome": "unsubscribed"
            }
        assert conn.execute(unsubscribed, [place.contact_id]).fetchone() == (True,)

        assert queue_email("welcome", "test:welcome:2")[1] == ("skipped", "email_unsubscribed")
        assert queue_email("reminder", "test:reminder:2")[1] == ("queued", None)
    finally:
        conn.execute("select pgmq.drop_queue(%s)", [queue])
        conn.execute(
            "delete from pgmq.q_jobs where message -> 'payload' ->> 'message_id' in"
            " (select id::text from public.messages where workspace_id = %s)",
            [place.workspace_id],
        )
        conn.execute("delete from public.workspaces where id = %s", [place.workspace_id])


def test_without_a_signing_secret_the_unsubscribe_endpoint_is_not_served(db_url: str) -> None:
    with TestClient(app_for(db_url)) as client:
        assert client.post(f"/email/unsubscribe?m={uuid.uuid4()}&s=x").status_code == 404


# --- 6. Smaller findings ------------------------------------------------------------------------------


def test_invented_http_methods_add_no_metric_series(db_url: str) -> None:
    with TestClient(app_for(db_url)) as client:
        for n in range(50):
            client.request(f"X-INVENTED-{n}", "/health")
        client.request("BREW", "/no/such/path")
        response = client.get("/metrics")
    methods = {
        line.split('method="')[1].split('"')[0]
        for line in response.text.splitlines()
        if line.startswith("careops_http_requests_total{")
    }
    assert methods <= {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "OTHER"}
    assert 'careops_http_requests_total{method="OTHER",route="/health",status="405"} 50.0' in response.text
    assert 'careops_http_requests_total{method="OTHER",route="unmatched",status="404"} 1.0' in response.text


def test_production_refuses_to_start_with_public_metrics(db_url: str) -> None:
    origins = "https://app.example.test"
    with pytest.raises(ValueError, match="METRICS_BEARER_TOKEN"):
        app_for(db_url, environment="production", cors_allowed_origins=origins)
    production = app_for(
        db_url, environment="production", metrics_bearer_token="scrape-me", cors_allowed_origins=origins
    )
    with TestClient(production) as client:
        assert client.get("/metrics").status_code == 401


def test_the_intake_form_link_of_a_cancelled_booking_is_refused(conn: psycopg.Connection) -> None:
    place = create_booking_workspace(conn)
    attach_form(conn, place)
    booked = book(conn, place, next_slot(), email="ann@example.test", p_name="Ann Lee")
    token = form_token(conn, place)
    anon = Actor.anon()
    assert rpc(conn, anon, "get_form", p_token=token)[0][0] == "pending"
    rpc(conn, anon, "cancel_booking", p_token=booked["manage_token"])
    before = conn.execute(
        "select status, answers from public.form_submissions where workspace_id = %s", [place.workspace_id]
    ).fetchall()
    assert rpc_error(conn, anon, "get_form", p_token=token) == "form_booking_cancelled"
    assert (
        rpc_error(conn, anon, "submit_form", p_token=token, p_answers='{"allergies": "Pollen"}')
        == "form_booking_cancelled"
    )
    assert (
        conn.execute(
            "select status, answers from public.form_submissions where workspace_id = %s",
            [place.workspace_id],
        ).fetchall()
        == before
    )


# --- 4. Abuse caps ------------------------------------------------------------------------------------


def anon_from(conn: psycopg.Connection, address: str, function: str, **params: Any) -> str | None:
    """An anonymous RPC from a client address, with the request headers PostgREST passes
    (request.headers; X-Forwarded-For is whatever the client wrote). Kept when it succeeds; the
    error code when it fails (rolled back)."""
    headers = {"cf-connecting-ip": address, "x-forwarded-for": f"10.0.0.{secrets.randbelow(250)}"}
    try:
        with conn.transaction():
            conn.execute("select set_config('request.headers', %s, true)", [json.dumps(headers)])
            rpc(conn, Actor.anon(), function, **params)
            conn.execute("select set_config('request.headers', '', true)")
    except psycopg.Error as exc:
        return exc.diag.message_primary
    return None


def abuse_metric(conn: psycopg.Connection, cap: str) -> float:
    families = conn.execute("select private.metrics_snapshot()").fetchone()[0]
    (family,) = [f for f in families if f["name"] == "careops_abuse_caps_hit_last_day"]
    return sum(s["value"] for s in family["samples"] if s["labels"] == {"cap": cap})


def abuse_alerts(conn: psycopg.Connection, workspace_id: uuid.UUID) -> list[Any]:
    return conn.execute(
        "select subject_type, subject_id from public.alerts"
        " where workspace_id = %s and kind = 'abuse_suspected'"
        " and resolved_at is null",
        [workspace_id],
    ).fetchall()


def test_book_then_cancel_churn_is_capped_per_email_phone_and_client_address(
    conn: psycopg.Connection,
) -> None:
    place = create_booking_workspace(conn)
    conn.execute(
        "update public.communication_settings set sms_enabled = true where workspace_id = %s",
        [place.workspace_id],
    )
    email, phone = "victim@example.test", "+33612000000"
    params = {"p_workspace_slug": place.slug, "p_booking_type_id": place.booking_type_id, "p_name": "Mallory"}
    for round_ in range(4):  # 4 x (book + cancel) = the 8 actions an email may take in an hour
        token = book(conn, place, next_slot(hour=8 + round_), email=email, p_phone=phone)["manage_token"]
        rpc(conn, Actor.anon(), "cancel_booking", p_token=token)
    sent = conn.execute(
        "select count(*) from public.messages where workspace_id = %s and recipient in (%s, %s)",
        [place.workspace_id, email, phone],
    ).fetchone()[0]
    assert abuse_alerts(conn, place.workspace_id) == [("workspace", place.workspace_id)]
    assert abuse_metric(conn, "email") >= 1

    # Over the cap: a stable code and nothing written (cancelling gave nothing back).
    before = table_counts(conn)
    again = dict(params, p_starts_at=next_slot(hour=14), p_email=email, p_phone=phone)
    assert rpc_error(conn, Actor.anon(), "book_appointment", **again) == "too_many_requests"
    # The same number under another address is capped too, and so is the same address without it.
    assert rpc_error(conn, Actor.anon(), "book_appointment", **dict(again, p_email="other@example.test")) == (
        "too_many_requests"
    )
    assert (
        rpc_error(conn, Actor.anon(), "book_appointment", **dict(again, p_phone=None)) == "too_many_requests"
    )
    assert table_counts(conn) == before
    assert (
        sent
        == conn.execute(
            "select count(*) from public.messages where workspace_id = %s and recipient in (%s, %s)",
            [place.workspace_id, email, phone],
        ).fetchone()[0]
    )
    # Staff booking for a customer are not capped.
    assert rpc_error(conn, Actor.user(place.users[0]), "book_appointment", **again) is None

    # One client address across workspaces (lowered here to keep the test short), whatever
    # X-Forwarded-For says.
    conn.execute(
        "update private.app_settings set value = '3' where key = 'anonymous_actions_per_address_hour'"
    )
    other = create_booking_workspace(conn)
    for n in range(3):
        answer = anon_from(
            conn,
            "203.0.113.7",
            "book_appointment",
            p_workspace_slug=(place if n % 2 else other).slug,
            p_booking_type_id=(place if n % 2 else other).booking_type_id,
            p_starts_at=next_slot(days=2, hour=8 + n),
            p_name="Walk In",
            p_email=f"walk-in-{n}@example.test",
        )
        assert answer is None
    assert (
        anon_from(
            conn,
            "203.0.113.7",
            "book_appointment",
            p_workspace_slug=other.slug,
            p_booking_type_id=other.booking_type_id,
            p_starts_at=next_slot(days=3),
            p_name="Walk In",
            p_email="walk-in-9@example.test",
        )
        == "too_many_requests"
    )
    assert (
        anon_from(
            conn,
            "198.51.100.1",
            "book_appointment",
            p_workspace_slug=other.slug,
            p_booking_type_id=other.booking_type_id,
            p_starts_at=next_slot(days=3),
            p_name="Walk In",
            p_email="walk-in-9@example.test",
        )
        is None
    )
    assert abuse_metric(conn, "client_address") >= 1


@pytest.mark.parametrize("key", ["phone", "client_address"])
def test_the_phone_and_client_address_caps_hold_under_a_race(
    db_url: str,
    autocommit_conn: psycopg.Connection,
    committed_place: Callable[..., BookingWorkspace],
    key: str,
) -> None:
    """Two anonymous bookings under different emails share a phone (or a client address) with
    one action left: the second waits for the first's lock on that key, then is refused. Without
    the lock both would count the same history and both pass."""
    place = committed_place()
    setting = f"anonymous_actions_per_{'phone' if key == 'phone' else 'address'}_hour"
    [old] = autocommit_conn.execute(
        "select value from private.app_settings where key = %s", [setting]
    ).fetchone()
    autocommit_conn.execute("update private.app_settings set value = '1' where key = %s", [setting])
    headers = json.dumps({"cf-connecting-ip": f"203.0.113.{secrets.randbelow(250)}"})

    def booking(email: str, hour: int) -> Callable[[psycopg.Connection], Any]:
        # Only the key under test is shared: the other racer has its own email (and phone).
        phone = "+33612000077" if key == "phone" else f"+336120000{hour:02d}"

        def call(conn: psycopg.Connection) -> Any:
            conn.execute("select set_config('request.headers', %s, true)", [headers])
            return conn.execute(
                "select booking_id from public.book_appointment(p_workspace_slug => %s,"
                " p_booking_type_id => %s, p_starts_at => %s, p_name => 'Racer', p_email => %s,"
                " p_phone => %s)",
                [place.slug, place.booking_type_id, next_slot(hour=hour), email, phone],
            ).fetchone()

        return call

    try:
        first, second = race_behind_lock(
            db_url,
            autocommit_conn,
            (Actor.anon(), booking("racer-1@example.test", 9)),
            (Actor.anon(), booking("racer-2@example.test", 10)),
        )
    finally:
        autocommit_conn.execute("update private.app_settings set value = %s where key = %s", [old, setting])
    assert first is not None
    assert second == "too_many_requests"


def test_automated_messages_per_recipient_are_capped_on_what_was_sent(conn: psycopg.Connection) -> None:
    place = create_booking_workspace(conn)
    conn.execute(
        "update public.communication_settings set sms_enabled = true where workspace_id = %s",
        [place.workspace_id],
    )
    phone = "+33612000001"
    staff = Actor.user(place.users[0])  # not capped as a caller: the recipient cap still holds
    for n in range(8):
        booked = book(
            conn, place, next_slot(hour=8 + n), email=f"kid-{n}@example.test", actor=staff, p_phone=phone
        )
        rpc(conn, staff, "cancel_workspace_booking", p_booking_id=booked["booking_id"])
    statuses = dict(
        conn.execute(
            "select coalesce(skip_reason, status), count(*) from public.messages"
            " where recipient = %s and kind = 'automated' group by 1",
            [phone],
        ).fetchall()
    )
    # welcome, confirmation and cancellation per round (a confirmation still queued when its
    # booking is cancelled is skipped as booking_cancelled): 12 go, the cap skips the rest.
    assert statuses["queued"] == 12
    assert statuses["recipient_cap"] > 0
    assert sum(statuses.values()) == 8 * 3
    assert set(statuses) <= {"queued", "recipient_cap", "booking_cancelled"}
    assert abuse_alerts(conn, place.workspace_id) == [("workspace", place.workspace_id)]
    assert abuse_metric(conn, "recipient") >= statuses["recipient_cap"]
    # Email to the same people goes on: the cap is per recipient (each confirmation is skipped
    # only because its booking was cancelled).
    emails = dict(
        conn.execute(
            "select coalesce(skip_reason, status), count(*) from public.messages"
            " where workspace_id = %s and channel = 'email' group by 1",
            [place.workspace_id],
        ).fetchall()
    )
    assert emails == {"queued": 8 * 2, "booking_cancelled": 8}

    # Across workspaces (lowered here): the platform cap counts every workspace's messages.
    conn.execute(
        "update private.app_settings set value = '14' where key = 'messages_per_recipient_platform_hour'"
    )
    other = create_booking_workspace(conn)
    conn.execute(
        "update public.communication_settings set sms_enabled = true where workspace_id = %s",
        [other.workspace_id],
    )
    for n in range(2):
        book(conn, other, next_slot(hour=8 + n), email=f"other-{n}@example.test", actor=staff, p_phone=phone)
    assert conn.execute(
        "select status, count(*) from public.messages where workspace_id = %s and recipient = %s"
        " group by 1 order by 1",
        [other.workspace_id, phone],
    ).fetchall() == [("queued", 2), ("skipped", 2)]


# --- 3. Nothing about another person can be learned anonymously -------------------------------------


def test_past_the_per_email_limit_a_stranger_gets_the_same_answers_and_the_holder_confirms(
    conn: psycopg.Connection,
) -> None:
    place = create_booking_workspace(conn)
    conn.execute(
        "update public.workspaces set max_active_bookings_per_email = 1 where id = %s", [place.workspace_id]
    )
    conn.execute(
        "update public.communication_settings set sms_enabled = true where workspace_id = %s",
        [place.workspace_id],
    )
    patient = "patient@example.test"
    book(conn, place, next_slot(hour=8), email=patient, actor=Actor.user(place.users[0]))  # the patient's own

    # A stranger books under the patient's address (past the limit) and under a fresh one: the
    # answers, and what the manage token then does, are alike.
    held = book(conn, place, next_slot(hour=10), email=patient, p_phone="+33799000000")
    fresh = book(conn, place, next_slot(hour=11), email="fresh@example.test", p_phone="+33799000001")
    assert held.keys() == fresh.keys()
    assert all(value is not None for value in [*held.values(), *fresh.values()])
    assert [type(v) for v in held.values()] == [type(v) for v in fresh.values()]
    moved = [
        rpc(
            conn,
            Actor.anon(),
            "reschedule_booking",
            p_token=row["manage_token"],
            p_new_starts_at=next_slot(hour=h),
        )
        for row, h in ((held, 12), (fresh, 13))
    ]
    assert [len(m[0]) for m in moved] == [5, 5]
    statuses = conn.execute(
        "select id, status from public.bookings where id = any(%s)",
        [[held["booking_id"], fresh["booking_id"]]],
    ).fetchall()
    assert dict(statuses) == {held["booking_id"]: "pending", fresh["booking_id"]: "confirmed"}

    # The manage page shows both alike.
    pages = [
        rpc(conn, Actor.anon(), "get_booking_by_token", p_token=row["manage_token"])[0]
        for row in (held, fresh)
    ]
    assert [(page[1], page[-1]) for page in pages] == [("confirmed", True), ("confirmed", True)]

    # The number given with each gets the same texts (a confirmation, then the move's notice);
    # the address holder, not the caller, hears of the hold: one email with the confirm link.
    def texts(booking_id: Any) -> list[tuple[str | None, str]]:
        return conn.execute(
            "select template_kind, status from public.messages where booking_id = %s and channel = 'sms'"
            " order by booking_revision, template_kind",
            [booking_id],
        ).fetchall()

    assert texts(held["booking_id"]) == texts(fresh["booking_id"])
    # (The confirmation, not yet delivered when the booking moved, no longer holds: skipped.)
    expected = [("booking_confirmation", "skipped"), ("booking_rescheduled", "queued")]
    assert texts(held["booking_id"]) == expected
    sent = conn.execute(
        "select channel, recipient, template_kind, body from public.messages where booking_id = %s"
        " and channel = 'email'",
        [held["booking_id"]],
    ).fetchall()
    assert [(c, r, k) for c, r, k, _ in sent] == [("email", patient, None)]
    # The stored email holds no token; the worker's claim puts it in.
    assert "/confirm/…" in sent[0][3]
    claimed = conn.execute(
        "select c.body from public.messages as m,"
        " private.claim_message_deliveries(array[m.id], interval '10 minutes') as c"
        " where m.booking_id = %s and m.channel = 'email'",
        [held["booking_id"]],
    ).fetchone()[0]
    token = re.search(r"/confirm/([A-Za-z0-9_-]+)", claimed).group(1)
    assert rpc_error(conn, Actor.anon(), "confirm_booking", p_token=token + "x") == "not_found"
    confirmed = rpc(conn, Actor.anon(), "confirm_booking", p_token=token)
    assert confirmed[0][:2] == (held["booking_id"], "confirmed")
    assert conn.execute(
        "select count(*) from public.messages"
        " where booking_id = %s and template_kind = 'booking_confirmation'",
        [held["booking_id"]],
    ).fetchone() == (2,)  # email to the patient, SMS to the number given with it
    assert rpc_error(conn, Actor.anon(), "confirm_booking", p_token=token) == "not_found"

    # Cancelling answers alike; a pending booking goes without a notice.
    other = book(conn, place, next_slot(hour=15), email=patient)
    cancelled = [
        rpc(conn, Actor.anon(), "cancel_booking", p_token=row["manage_token"])[0][1] for row in (other, fresh)
    ]
    assert cancelled == ["cancelled", "cancelled"]
    assert conn.execute(
        "select count(*) from public.messages where booking_id = %s and template_kind = 'booking_cancelled'",
        [other["booking_id"]],
    ).fetchone() == (0,)

    # Unconfirmed, a pending booking frees its time after a day.
    late = book(conn, place, next_slot(hour=16), email=patient)
    conn.execute(
        "update public.bookings set created_at = now() - interval '25 hours' where id = %s",
        [late["booking_id"]],
    )
    assert conn.execute("select private.release_pending_bookings()").fetchone() == (1,)
    assert conn.execute("select private.release_pending_bookings()").fetchone() == (0,)  # safe twice
    assert conn.execute(
        "select status from public.bookings where id = %s", [late["booking_id"]]
    ).fetchone() == ("cancelled",)


def pending_booking(conn: psycopg.Connection, place: BookingWorkspace, token: str) -> uuid.UUID:
    """A booking held as pending for a day, its confirm link `token`, its start still ahead: what
    the hourly release takes and its holder may still confirm."""
    booking = book(conn, place, next_slot(hour=9))
    conn.execute(
        "update public.bookings set status = 'pending', confirm_token_hash = private.token_hash(%s),"
        " created_at = now() - interval '25 hours' where id = %s",
        [token, booking["booking_id"]],
    )
    return booking["booking_id"]


@pytest.mark.parametrize("first", ["release", "confirm"])
def test_a_pending_booking_is_either_confirmed_or_released_never_both(
    db_url: str,
    autocommit_conn: psycopg.Connection,
    committed_place: Callable[..., BookingWorkspace],
    first: str,
) -> None:
    """The hourly release and the holder's confirmation reach the same pending booking at once:
    the second waits for the first's row lock, then sees what it did. Released first, the
    confirmation is refused (without confirm_booking's lock it would read the booking as still
    pending and confirm a cancelled one); confirmed first, the release leaves it alone."""
    place = committed_place()
    token = secrets.token_urlsafe(24)
    booking_id = pending_booking(autocommit_conn, place, token)

    def release(conn: psycopg.Connection) -> int:
        return conn.execute("select private.release_pending_bookings()").fetchone()[0]

    def confirm(conn: psycopg.Connection) -> str:
        return conn.execute("select status from public.confirm_booking(%s)", [token]).fetchone()[0]

    calls = {"release": (Actor.service(), release), "confirm": (Actor.anon(), confirm)}
    second = "confirm" if first == "release" else "release"
    raced = race_behind_lock(db_url, autocommit_conn, calls[first], calls[second])
    results = dict(zip((first, second), raced, strict=True))
    status = autocommit_conn.execute(
        "select status from public.bookings where id = %s", [booking_id]
    ).fetchone()
    if first == "release":
        assert results == {"release": 1, "confirm": "not_found"}
        assert status == ("cancelled",)
    else:
        assert results == {"confirm": "confirmed", "release": 0}
        assert status == ("confirmed",)
