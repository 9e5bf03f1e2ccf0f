"""deliver_message: send one message row (automated or manual) through its channel's providers.

Exactly-once effects over an at-least-once queue:

1. claim (autocommit): queued -> sending, attempts + 1, claimed_at = now(). Only one worker
   wins the update, so two workers never both send it. A `sending` row whose claim is older
   than WORKER_CLAIM_TIMEOUT_SECONDS (its worker died) is taken over. Nothing to claim: the
   row is final or gone (the job is archived) or another worker holds a live claim (the job
   comes back when that claim times out).
2. send through the providers with the key `message:<id>` (Resend's Idempotency-Key, SMTP's
   Message-ID): a resend after a crash is dropped by the provider.
3. record the outcome and archive the job (or set its visibility for a retry) in one
   statement, so one transaction: sent; failed at once on a permanent error or after the last attempt (a
   message_failed alert); otherwise back to queued with the error, retried after
   retry_delay(attempts).

A crash between 1 and 3 leaves the row `sending` and the job invisible until its visibility
timeout; the next reader takes the row over once the claim times out and sends again with the
same key. See the README ("Message delivery") for the window that remains.
"""

from __future__ import annotations

import functools
import logging
import uuid
from datetime import timedelta
from email.utils import formataddr, parseaddr
from typing import Any

from worker.jobs import Job, MalformedJob, job_log
from worker.providers import DeliveryError, EmailMessage, Message, SmsMessage
from worker.registry import job
from worker.retry import retry_delay

CLAIM_SQL = "select * from private.claim_message_delivery(%s, %s)"
# The outcome and the job's fate in one statement, so one implicit transaction (one round-trip).
RECORD_AND_ARCHIVE_SQL = (
    "select m.status, pgmq.archive(%s, %s::bigint) from private.record_delivery(%s, %s, %s, %s, %s) as m"
)
RECORD_AND_RETRY_SQL = (
    "select m.status, pgmq.set_vt(%s, %s::bigint, %s)"
    " from private.record_delivery(%s, 'queued', null, null, %s) as m"
)


def provider_key(message_id: uuid.UUID) -> str:
    """The provider idempotency key of a message row: its id, which is one-to-one with the row's
    (workspace, idempotency_key) and globally unique (the row key is unique per workspace only)."""
    return f"message:{message_id}"


@functools.lru_cache(maxsize=4)
def parsed_sender(default_sender: str) -> tuple[str, str]:
    """(name, address) of EMAIL_FROM, parsed once per process rather than twice per message."""
    return parseaddr(default_sender)


def outgoing(row: dict[str, Any], default_sender: str) -> Message:
    """The email or SMS a claimed row describes. Emails go from the workspace's sender name at the
    platform's EMAIL_FROM address (a verified sending domain) and reply to the workspace."""
    if row["channel"] == "sms":
        return SmsMessage(to=row["recipient"], body=row["body"], sender=row["sms_from_number"])
    default_name, address = parsed_sender(default_sender)
    name = row["sender_name"] or default_name
    return EmailMessage(
        to=row["recipient"],
        subject=row["subject"] or "",
        text=row["body"],
        sender=formataddr((name, address)) if address else None,
        reply_to=row["reply_to_email"],
    )


def parse_message_id(payload: dict[str, Any]) -> uuid.UUID:
    raw = payload.get("message_id")
    try:
        return uuid.UUID(str(raw))
    except ValueError:
        raise MalformedJob(f"deliver_message needs a message_id uuid, got {raw!r}"[:300]) from None


@job("deliver_message", own_transactions=True)
def deliver_message(job: Job) -> None:
    message_id = parse_message_id(job.payload)
    settings = job.settings
    row = job.conn.execute(
        CLAIM_SQL, [message_id, timedelta(seconds=settings.worker_claim_timeout_seconds)]
    ).fetchone()
    if row is None or not row["claimed"]:
        _not_claimed(job, message_id, row)
        return

    attempt = row["attempts"]
    try:
        if not row["recipient"]:
            raise DeliveryError("none", "the message has no recipient", permanent=True)
        result = job.deliver(
            outgoing(row, settings.email_from),
            idempotency_key=provider_key(message_id),
            message_id=str(message_id),
            attempt=attempt,
        )
    except DeliveryError as error:
        if error.permanent or attempt >= job.max_attempts:
            record_and_archive(job, message_id, "failed", error.provider, None, str(error))
            job.outcome = "failed"
        else:
            delay = retry_delay(
                attempt, settings.worker_retry_base_seconds, settings.worker_retry_max_seconds
            )
            job.conn.execute(
                RECORD_AND_RETRY_SQL, [settings.queue_name, job.msg_id, delay, message_id, str(error)]
            )
            job.deferred = True
            job.outcome = "retried"
        return
    record_and_archive(job, message_id, "sent", result.provider, result.provider_message_id, None)


def record_and_archive(
    job: Job, message_id: uuid.UUID, status: str, provider: str, provider_id: str | None, error: str | None
) -> None:
    job.conn.execute(
        RECORD_AND_ARCHIVE_SQL,
        [job.settings.queue_name, job.msg_id, message_id, status, provider, provider_id, error],
    )
    job.archived = True


def _not_claimed(job: Job, message_id: uuid.UUID, row: dict[str, Any] | None) -> None:
    if row is not None and row["status"] == "sending":
        # Another worker's claim is live (its job's visibility ran out while it sends, or it died
        # moments ago): look again when that claim can be taken over.
        job.retry_in(row["retry_in_seconds"], outcome="deferred")
        job_log(
            logging.INFO,
            job.msg_id,
            job.kind,
            "deferred",
            job.attempt,
            message_id=message_id,
            reason="claimed by another worker",
            retry_in_s=row["retry_in_seconds"],
        )
        return
    # Gone (its workspace was deleted) or final (sent, failed, skipped; a duplicate job): done.
    job_log(
        logging.INFO,
        job.msg_id,
        job.kind,
        "skipped",
        job.attempt,
        message_id=message_id,
        reason="message gone" if row is None else f"message is {row['status']}",
    )
