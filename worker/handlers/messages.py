"""deliver_message: send one message row (automated or manual) through its channel's providers.

Exactly-once effects over an at-least-once queue, with set-based database work per read batch:

1. claim (autocommit), once for the whole read batch: right after the read, the loop calls
   private.claim_message_deliveries with every message id of the batch (DeliveryBatch.prepare;
   if that fails, the first of the batch's jobs to run does it): queued -> sending,
   attempts + 1, claimed_at = now(), in one statement that commits before any send. Only one
   worker wins a row's update, so two workers never both send it. A `sending` row whose claim
   is older than WORKER_CLAIM_TIMEOUT_SECONDS (its worker died) is taken over. Nothing to
   claim: the row is final or gone (the job is archived) or another worker holds a live claim
   (the job comes back when that claim times out).
2. each job sends its own message, on its own thread (as many in flight as before), with the
   key `message:<id>` (Resend's Idempotency-Key, SMTP's Message-ID): a resend after a crash is
   dropped by the provider.
3. record the outcome and settle the job in one transaction, grouped (OutcomeRecorder, a group
   commit): a job whose send finished joins the next private.record_deliveries call of its
   worker process, which records every outcome ready by then and archives their jobs (sent;
   failed at once on a permanent error or after the last attempt, with a message_failed
   alert) or sets their visibility (queued again with the error, retried after
   retry_delay(attempts)). A slow send delays only its own record: the others are recorded by
   the calls made meanwhile.

A crash between 1 and 3 leaves the rows `sending` and their jobs invisible until the visibility
timeout; the next reader takes the rows over once their claims time out and sends again with
the same key. See docs/worker.md ("Message delivery") for the window that remains.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from email.utils import formataddr, parseaddr
from typing import Any

import psycopg

from worker import unsubscribe
from worker.invites import add_to_calendar_links, invite
from worker.jobs import Job, MalformedJob, job_log
from worker.providers import DeliveryError, EmailMessage, Message, SmsMessage
from worker.registry import job
from worker.retry import retry_delay
from worker.settings import Settings

log = logging.getLogger("worker")

CLAIM_SQL = "select * from private.claim_message_deliveries(%s::uuid[], %s)"
# Outcomes recorded and their jobs archived or delayed in one statement (one implicit transaction).
RECORD_SQL = "select * from private.record_deliveries(%s, %s::jsonb)"


def provider_key(message_id: uuid.UUID) -> str:
    """The provider idempotency key of a message row: its id, which is one-to-one with the row's
    (workspace, idempotency_key) and globally unique (the row key is unique per workspace only)."""
    return f"message:{message_id}"


@functools.lru_cache(maxsize=4)
def parsed_sender(default_sender: str) -> tuple[str, str]:
    """(name, address) of EMAIL_FROM, parsed once per process rather than twice per message."""
    return parseaddr(default_sender)


def outgoing(row: dict[str, Any], settings: Settings) -> Message:
    """The email or SMS a claimed row describes. The claim returns only identities the platform
    verified for the workspace (private.workspace_senders): emails go from the workspace's sender
    name at its address on a verified domain, else at the platform's EMAIL_FROM address, and reply
    to the workspace; SMS go from its verified number, else TWILIO_FROM_NUMBER. Email that is not
    transactional carries a signed one-click List-Unsubscribe (RFC 8058) when it is configured."""
    if row["channel"] == "sms":
        return SmsMessage(to=row["recipient"], body=row["body"], sender=row["sms_from_number"])
    default_name, default_address = parsed_sender(settings.email_from)
    name = row["sender_name"] or default_name
    address = row["sender_email"] or default_address
    headers: dict[str, str] = {}
    if row.get("list_unsubscribe") and settings.unsubscribe_base_url and settings.unsubscribe_signing_secret:
        headers = unsubscribe.headers(
            settings.unsubscribe_base_url, settings.unsubscribe_signing_secret, row["message_id"]
        )
    text, attachments = row["body"], ()
    event = row.get("calendar_event")
    if event is not None:
        # A booking email: the invite (organizer: the address it comes from) and, unless it
        # cancels, add-to-calendar links.
        attachments = (invite(event, (name, address), row["recipient"]),)
        if event["method"] != "CANCEL":
            text = f"{text}\n\n{add_to_calendar_links(event)}"
    return EmailMessage(
        to=row["recipient"],
        subject=row["subject"] or "",
        text=text,
        sender=formataddr((name, address)) if address else None,
        reply_to=row["reply_to_email"],
        headers=headers,
        attachments=attachments,
    )


def parse_message_id(payload: dict[str, Any]) -> uuid.UUID:
    raw = payload.get("message_id")
    try:
        return uuid.UUID(str(raw))
    except ValueError:
        raise MalformedJob(f"deliver_message needs a message_id uuid, got {raw!r}"[:300]) from None


@dataclass
class Outcome:
    """One message's delivery outcome, as private.record_deliveries takes it."""

    job_id: int
    message_id: uuid.UUID
    status: str  # sent | failed | queued (retry after retry_in_seconds) | released
    provider: str | None = None
    provider_message_id: str | None = None
    error: str | None = None
    retry_in_seconds: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "job_id": self.job_id,
            "message_id": str(self.message_id),
            "status": self.status,
            "provider": self.provider,
            "provider_message_id": self.provider_message_id,
            "error": self.error,
            "retry_in_seconds": self.retry_in_seconds,
        }


def record_outcomes(conn: psycopg.Connection[Any], queue: str, outcomes: list[Outcome]) -> None:
    """Record outcomes and archive (sent, failed) or delay (queued, released) their jobs: one
    statement, so one transaction."""
    conn.execute(RECORD_SQL, [queue, json.dumps([outcome.as_json() for outcome in outcomes])])


def claim_messages(
    conn: psycopg.Connection[Any], message_ids: list[uuid.UUID], claim_timeout: timedelta
) -> dict[uuid.UUID, dict[str, Any]]:
    """One statement (committed before any send) claims every claimable message of the ids;
    message id -> its claim row (claimed or why not); gone messages have none."""
    rows = conn.execute(CLAIM_SQL, [sorted(set(message_ids)), claim_timeout]).fetchall()
    return {row["message_id"]: row for row in rows}


@dataclass
class _Pending:
    outcome: Outcome
    finished: bool = False
    error: BaseException | None = None
    # Set once: the outcome was recorded (finished) or this job runs the next statement.
    woken: threading.Event = field(default_factory=threading.Event)


class OutcomeRecorder:
    """Group commit of outcomes: a job whose send is done calls `record` and returns once its
    outcome is committed. If no record statement is running, it runs one with every outcome
    waiting at that moment (its own included, on its own connection); otherwise it waits. The
    job that ran a statement wakes the jobs of its group and hands the next statement to the
    first job that came meanwhile, which records everything gathered by then. So outcomes that
    finish together share one statement, a slow send holds back nobody, nothing waits longer
    than one statement beyond its own, and each job is woken once. When the statement fails,
    the job that ran it raises its error and each other job of the group records its outcome
    alone on its own connection."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[_Pending] = []
        self._recording = False

    def record(self, conn: psycopg.Connection[Any], queue: str, outcome: Outcome) -> None:
        entry = _Pending(outcome)
        with self._lock:
            self._pending.append(entry)
            leads = not self._recording
            self._recording = True
        if not leads:
            entry.woken.wait()
            if entry.finished:
                self._settle(entry, conn, queue)
                return
        with self._lock:  # this job runs the next statement
            group, self._pending = self._pending, []
        error: BaseException | None = None
        try:
            record_outcomes(conn, queue, [pending.outcome for pending in group])
        except BaseException as raised:
            error = raised
        with self._lock:
            for pending in group:
                pending.finished, pending.error = True, error
            successor = self._pending[0] if self._pending else None
            self._recording = successor is not None
        for pending in group:
            if pending is not entry:
                pending.woken.set()
        if successor is not None:
            successor.woken.set()
        if error is not None:
            raise error

    @staticmethod
    def _settle(entry: _Pending, conn: psycopg.Connection[Any], queue: str) -> None:
        if entry.error is not None:
            # Another job's statement failed: record this outcome alone on this job's connection,
            # so what happens next (a retry, or `interrupted` on a broken connection) is this
            # job's own. Recording twice is harmless (only a message being sent moves; archive
            # and set_vt of a settled job do nothing).
            record_outcomes(conn, queue, [entry.outcome])


_recorders: dict[str, OutcomeRecorder] = {}
_recorders_lock = threading.Lock()


def recorder_for(queue: str) -> OutcomeRecorder:
    """One recorder per queue and process: every job in flight shares its statements."""
    with _recorders_lock:
        return _recorders.setdefault(queue, OutcomeRecorder())


@dataclass
class DeliveryBatch:
    """The deliver_message jobs of one pgmq.read batch: one claim for all of their messages.

    The loop claims every message of the batch (private.claim_message_deliveries) right after
    the read (`prepare`); if a job of the batch runs first, or that failed, the first job of the
    batch to run claims on its own connection. The jobs use that one result. When two
    jobs of the batch name the same message, the first (in read order) owns its claim and the
    other is skipped as a duplicate. A job that starts more than half the claim time-out after
    the claim (it waited for a thread) does not send: it releases its claim (the message goes
    back to queued, its job visible at once), so no send starts on a claim about to expire.
    """

    jobs: list[tuple[int, dict[str, Any]]]
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _claimed: bool = False
    _rows: dict[uuid.UUID, dict[str, Any]] = field(default_factory=dict)
    _owners: dict[uuid.UUID, int] = field(default_factory=dict)
    _taken: set[int] = field(default_factory=set)
    _claimed_at: float = 0.0
    _settings: Settings | None = None

    def __post_init__(self) -> None:
        for msg_id, payload in self.jobs:
            try:
                self._owners.setdefault(parse_message_id(payload), msg_id)
            except MalformedJob:
                continue  # its handler raises MalformedJob before it claims

    def claim(
        self, conn: psycopg.Connection[Any], settings: Settings, msg_id: int, message_id: uuid.UUID
    ) -> tuple[dict[str, Any] | None, bool]:
        """(the message's claim row or None when gone, whether this job owns a claim)."""
        with self._lock:
            if not self._claimed:
                # Not claimed yet (or the claim failed): this job claims for the whole batch. An
                # error is not shared: the next job of the batch tries again on its own
                # connection, so each job's error (and `interrupted` on a broken one) is its own.
                self._claim(conn, settings)
            row = self._rows.get(message_id)
            owner = self._owners.get(message_id) == msg_id
            if owner:
                self._taken.add(msg_id)
            return row, owner

    def prepare(self, conn: psycopg.Connection[Any], settings: Settings) -> None:
        """Called by the loop right after the read (on its preparer thread, with a connection
        taken before this lock): the claim is made before the jobs start, so they need not
        wait for it. A job that gets the lock first claims itself, and this does nothing; if
        this fails, the jobs claim when they run, as above."""
        with self._lock:
            if not self._claimed and self._owners:
                try:
                    self._claim(conn, settings)
                except psycopg.Error as error:
                    log.warning("could not claim the batch's messages ahead (%s); its jobs will", error)

    def _claim(self, conn: psycopg.Connection[Any], settings: Settings) -> None:
        self._rows = claim_messages(
            conn, list(self._owners), timedelta(seconds=settings.worker_claim_timeout_seconds)
        )
        self._settings = settings
        self._claimed = True
        self._claimed_at = time.monotonic()

    def claim_age(self) -> float:
        return time.monotonic() - self._claimed_at

    def release(self, conn: psycopg.Connection[Any], msg_ids: list[int]) -> list[int]:
        """Shutdown, for jobs of the batch that never started: undo the claims made for them
        (back to queued, attempts - 1) and make their jobs visible at once, in one statement.
        Returns the job ids settled so."""
        with self._lock:
            if not self._claimed or self._settings is None:
                return []
            outcomes = [
                Outcome(msg_id, message_id, "released", retry_in_seconds=0)
                for message_id, msg_id in self._owners.items()
                if msg_id in msg_ids
                and msg_id not in self._taken
                and (row := self._rows.get(message_id)) is not None
                and row["claimed"]
            ]
            for outcome in outcomes:
                self._taken.add(outcome.job_id)
        if outcomes:
            record_outcomes(conn, self._settings.queue_name, outcomes)
        return [outcome.job_id for outcome in outcomes]


def delivery_batch(jobs: list[tuple[int, dict[str, Any]]]) -> DeliveryBatch:
    return DeliveryBatch(jobs)


@job("deliver_message", own_transactions=True, batch=delivery_batch)
def deliver_message(job: Job) -> None:
    message_id = parse_message_id(job.payload)
    settings = job.settings
    batch = job.batch if isinstance(job.batch, DeliveryBatch) else DeliveryBatch([(job.msg_id, job.payload)])
    row, owner = batch.claim(job.conn, settings, job.msg_id, message_id)
    if row is not None and row["claimed"] and not owner:
        job_log(
            logging.INFO,
            job.msg_id,
            job.kind,
            "skipped",
            job.attempt,
            message_id=message_id,
            reason="another job of the same batch delivers this message",
        )
        return
    if row is None or not row["claimed"]:
        _not_claimed(job, message_id, row)
        return
    recorder = recorder_for(settings.queue_name)
    if batch.claim_age() > settings.worker_claim_timeout_seconds / 2:
        # Waited for a thread for half the claim's life: another worker may take it over soon.
        recorder.record(
            job.conn, settings.queue_name, Outcome(job.msg_id, message_id, "released", retry_in_seconds=0)
        )
        job.deferred = True
        job.outcome = "released"
        job_log(
            logging.WARNING,
            job.msg_id,
            job.kind,
            "released",
            job.attempt,
            message_id=message_id,
            reason="the claim is too old to start a send",
        )
        return

    attempt = row["attempts"]
    try:
        if not row["recipient"]:
            raise DeliveryError("none", "the message has no recipient", permanent=True)
        result = job.deliver(
            outgoing(row, settings),
            idempotency_key=provider_key(message_id),
            message_id=str(message_id),
            attempt=attempt,
        )
    except DeliveryError as error:
        if error.permanent or attempt >= job.max_attempts:
            outcome = Outcome(job.msg_id, message_id, "failed", error.provider, None, str(error))
            job.archived = True
            job.outcome = "failed"
        else:
            delay = retry_delay(
                attempt, settings.worker_retry_base_seconds, settings.worker_retry_max_seconds
            )
            outcome = Outcome(job.msg_id, message_id, "queued", None, None, str(error), delay)
            job.deferred = True
            job.outcome = "retried"
        recorder.record(job.conn, settings.queue_name, outcome)
        return
    recorder.record(
        job.conn,
        settings.queue_name,
        Outcome(job.msg_id, message_id, "sent", result.provider, result.provider_message_id),
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
