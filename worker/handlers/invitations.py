"""invitation_created: email the invitee the accept link, through the email providers."""

from __future__ import annotations

import html
import logging
import uuid
from datetime import datetime
from typing import Any
from urllib.parse import quote

from psycopg.rows import dict_row

from worker.jobs import Job, MalformedJob, job_log
from worker.providers import EmailMessage
from worker.registry import job

# service_role only; one row (or none when the invitation is gone). Contract of issue #9 item 5.
INVITATION_DELIVERY_SQL = "select * from private.invitation_delivery(%s)"


def accept_link(app_base_url: str, token: str) -> str:
    return f"{app_base_url.rstrip('/')}/invitations/accept?token={quote(token, safe='')}"


def invitation_email(invitation: dict[str, Any], app_base_url: str) -> EmailMessage:
    link = accept_link(app_base_url, invitation["token"])
    inviter = invitation["inviter_name"] or "A colleague"
    workspace = invitation["workspace_name"]
    expires_at: datetime = invitation["expires_at"]
    expiry = expires_at.strftime("%Y-%m-%d %H:%M %Z").strip()
    text = (
        f"{inviter} invited you to join {workspace} on CareOps as {invitation['role']}.\n\n"
        f"Accept the invitation: {link}\n\n"
        f"The link works until {expiry}. If you did not expect this email, ignore it."
    )
    body = (
        f"<p>{html.escape(inviter)} invited you to join <strong>{html.escape(workspace)}</strong> "
        f"on CareOps as {html.escape(invitation['role'])}.</p>"
        f'<p><a href="{html.escape(link)}">Accept the invitation</a></p>'
        f"<p>The link works until {html.escape(expiry)}. If you did not expect this email, ignore it.</p>"
    )
    return EmailMessage(
        to=invitation["email"],
        subject=f"{inviter} invited you to {workspace} on CareOps",
        text=text,
        html=body,
    )


@job("invitation_created")
def deliver_invitation(job: Job) -> None:
    raw_id = job.payload.get("invitation_id")
    try:
        invitation_id = uuid.UUID(str(raw_id))
    except ValueError:
        raise MalformedJob(f"invitation_created needs an invitation_id uuid, got {raw_id!r}") from None

    with job.conn.cursor(row_factory=dict_row) as cursor:
        invitation = cursor.execute(INVITATION_DELIVERY_SQL, [invitation_id]).fetchone()
    reason = None
    if invitation is None:
        reason = "invitation or its workspace is gone"
    elif not invitation["is_open"]:
        reason = "invitation accepted, revoked or expired"
    elif not invitation["token"]:
        reason = "invitation made before derived tokens: its token cannot be rebuilt"
    if reason or invitation is None:
        job_log(
            logging.INFO,
            job.msg_id,
            job.kind,
            "skipped",
            job.attempt,
            invitation_id=invitation_id,
            reason=reason,
        )
        return
    job.deliver(
        invitation_email(invitation, job.settings.app_base_url),
        idempotency_key=f"invitation:{invitation_id}",
        message_id=f"invitation:{invitation_id}",
    )
