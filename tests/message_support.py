"""Message rows to deliver, for the delivery tests and the benchmark: a workspace with a contact
and its conversation, and queued outbound messages with a deliver_message job each."""

from __future__ import annotations

import json
import secrets
import uuid
from dataclasses import dataclass

import psycopg

from tests.support import User, create_user


@dataclass(frozen=True)
class MessagingWorkspace:
    workspace_id: uuid.UUID
    name: str
    owner: User
    staff: User
    contact_id: uuid.UUID
    conversation_id: uuid.UUID


def create_messaging_workspace(conn: psycopg.Connection, *, sms: bool = True) -> MessagingWorkspace:
    """A workspace (owner, staff), email and SMS on with senders, one contact with a conversation."""
    tag = secrets.token_hex(5)
    owner = create_user(conn, full_name=f"Owner {tag}")
    staff = create_user(conn, full_name=f"Staff {tag}")
    name = f"Clinic {tag}"
    workspace_id = conn.execute(
        "insert into public.workspaces (name, slug, timezone, created_by)"
        " values (%s, %s, 'UTC', %s) returning id",
        [name, f"msg-{tag}", owner.id],
    ).fetchone()[0]
    conn.execute(
        "insert into public.workspace_members (workspace_id, user_id, role)"
        " values (%s, %s, 'owner'), (%s, %s, 'staff')",
        [workspace_id, owner.id, workspace_id, staff.id],
    )
    # Each workspace its own number: a number is verified for one workspace only.
    number = "+1500" + "".join(secrets.choice("0123456789") for _ in range(7)) if sms else None
    conn.execute(
        "update public.communication_settings set sender_email = %s, sms_enabled = %s, sms_from_number = %s"
        " where workspace_id = %s",
        [f"front-desk@{tag}.example.test", sms, number, workspace_id],
    )
    # The platform verified the address and the number: replies go to it, SMS come from it.
    conn.execute(
        "insert into public.sender_identities (workspace_id, kind, value, status)"
        " select %s, kind, value, 'verified'"
        " from (values ('email_address', %s), ('sms_number', %s)) as v (kind, value)"
        " where value is not null",
        [workspace_id, f"front-desk@{tag}.example.test", number],
    )
    contact_id = conn.execute(
        "insert into public.contacts (workspace_id, name, email, phone)"
        " values (%s, 'Ann Lee', %s, '+447700900123') returning id",
        [workspace_id, f"ann-{tag}@example.test"],
    ).fetchone()[0]
    conn.execute(
        "insert into public.conversations (workspace_id, contact_id) values (%s, %s) on conflict do nothing",
        [workspace_id, contact_id],
    )
    conversation_id = conn.execute(
        "select id from public.conversations where workspace_id = %s and contact_id = %s",
        [workspace_id, contact_id],
    ).fetchone()[0]
    return MessagingWorkspace(workspace_id, name, owner, staff, contact_id, conversation_id)


def queue_messages(
    conn: psycopg.Connection,
    place: MessagingWorkspace,
    queue: str,
    count: int,
    *,
    channel: str = "email",
    recipient: str | None = None,
) -> list[uuid.UUID]:
    """`count` queued outbound messages and one deliver_message job each on `queue`."""
    to = recipient or ("guest@example.test" if channel == "email" else "+447700900123")
    rows = conn.execute(
        """
        insert into public.messages (
            workspace_id, conversation_id, direction, channel, kind, subject, body, recipient, status,
            idempotency_key
        )
        select %s, %s, 'outbound', %s, 'manual', case when %s = 'email' then 'Your visit' end,
            'See you soon ' || n, %s, 'queued', %s || n
        from generate_series(1, %s) as n
        returning id
        """,
        [place.workspace_id, place.conversation_id, channel, channel, to, f"test:{uuid.uuid4()}:", count],
    ).fetchall()
    ids = [row[0] for row in rows]
    send_delivery_jobs(conn, queue, ids)
    return ids


def send_delivery_jobs(conn: psycopg.Connection, queue: str, message_ids: list[uuid.UUID]) -> None:
    conn.execute(
        "select pgmq.send_batch(%s, %s::jsonb[])",
        [
            queue,
            [json.dumps({"kind": "deliver_message", "payload": {"message_id": str(i)}}) for i in message_ids],
        ],
    )


def message_states(conn: psycopg.Connection, ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, object]]:
    rows = conn.execute(
        "select id, status, provider, provider_message_id, attempts, last_error"
        " from public.messages where id = any(%s)",
        [ids],
    ).fetchall()
    return {
        row[0]: dict(
            zip(("status", "provider", "provider_message_id", "attempts", "last_error"), row[1:], strict=True)
        )
        for row in rows
    }
