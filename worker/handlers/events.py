"""message_events: the outbox. Booking and contact changes enqueue events; this writes their
messages, a read batch at a time, through one SQL function (private.write_event_messages).

The loop hands the jobs of one read batch an EventBatch and, right after the read, has it
`settle` them: the batch's events are written and its jobs archived in one transaction, on the
loop's thread, and no job of the batch goes to a thread (a job costs no round trip of its own).
When that fails (one event cannot be rendered, say), each job writes its own events in its own
transaction, so one bad event holds up only itself: it is retried with backoff and, on its last
attempt, archived with a system alert instead of being lost silently.
A replayed batch writes nothing: every message has its idempotency key.
"""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from worker.jobs import Job, MalformedJob, job_log
from worker.registry import job
from worker.settings import Settings

log = logging.getLogger("worker.events")

EVENT_KINDS = frozenset({"booked", "pending", "cancelled", "rescheduled", "reminder", "contact_created"})
MAX_EVENTS_PER_JOB = 1000
WRITE_SQL = "select private.write_event_messages(%s) as written"


def parse_events(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """The job's events, checked for shape (the SQL trusts nothing either); MalformedJob if not."""
    events = payload.get("events")
    if not isinstance(events, list) or not 0 < len(events) <= MAX_EVENTS_PER_JOB:
        raise MalformedJob(f"message_events needs 1 to {MAX_EVENTS_PER_JOB} events, got {events!r:.200}")
    for event in events:
        if not isinstance(event, dict) or event.get("kind") not in EVENT_KINDS:
            raise MalformedJob(f"unknown event {event!r:.200}")
        id_field = "contact_id" if event["kind"] == "contact_created" else "booking_id"
        try:
            uuid.UUID(str(event.get(id_field)))
        except ValueError:
            raise MalformedJob(f"event {event['kind']} needs a {id_field} uuid, got {event!r:.200}") from None
        if id_field == "booking_id" and not isinstance(event.get("revision"), int):
            raise MalformedJob(f"event {event['kind']} needs an integer revision, got {event!r:.200}")
    return events


@dataclass
class EventBatch:
    """The message_events jobs of one read batch, written together (see the module)."""

    jobs: list[tuple[int, dict[str, Any]]]
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _tried: bool = False
    _written: bool = False
    _archived: list[int] = field(default_factory=list)

    def settle(self, conn: psycopg.Connection[Any], settings: Settings) -> set[int]:
        """Writes the batch and archives its jobs (once); the ids archived so."""
        with self._lock:
            self._write_once(conn, settings)
            return set(self._archived)

    def written(self, conn: psycopg.Connection[Any], settings: Settings) -> bool:
        """Whether the whole batch is written and archived (trying once if nobody did yet)."""
        with self._lock:
            self._write_once(conn, settings)
            return self._written

    def _write_once(self, conn: psycopg.Connection[Any], settings: Settings) -> None:
        if self._tried:
            return
        self._tried = True
        events: list[dict[str, Any]] = []
        msg_ids: list[int] = []
        for msg_id, payload in self.jobs:
            try:
                events.extend(parse_events(payload))
            except MalformedJob:
                return  # its own job reports it; the others write on their own
            msg_ids.append(msg_id)
        try:
            with conn.transaction():
                conn.execute(WRITE_SQL, [Jsonb(events)])
                conn.execute("select pgmq.archive(%s, %s::bigint[])", [settings.queue_name, msg_ids])
            self._written = True
            self._archived = msg_ids
        except psycopg.Error as error:
            if conn.broken:
                raise
            log.warning(
                "could not write a batch of %d event jobs together (%s); each job writes its own",
                len(msg_ids),
                error,
            )


@job("message_events", batch=EventBatch)
def write_event_messages(job: Job) -> None:
    events = parse_events(job.payload)
    if isinstance(job.batch, EventBatch) and job.batch.written(job.conn, job.settings):
        # The batch's transaction wrote this job's events and archived it. The handler's own
        # transaction (still open on job.conn) then holds nothing.
        job.archived = True
        return
    try:
        with job.conn.transaction():
            job.conn.execute(WRITE_SQL, [Jsonb(events)])
    except psycopg.Error as error:
        if job.conn.broken or not job.last_attempt:
            raise
        # The last attempt: archive with a system alert (staff see it), not a silent loss.
        job.conn.execute(
            "select private.raise_malformed_job_alert(%s, %s::bigint, %s, %s)",
            [job.settings.queue_name, job.msg_id, job.kind, f"messages not written: {error}"],
        )
        job_log(logging.ERROR, job.msg_id, job.kind, "failed", job.attempt, error=repr(error))
        job.outcome = "failed"
