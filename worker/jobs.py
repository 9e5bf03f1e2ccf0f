"""What a handler gets: the job, its connection (inside the job's transaction) and delivery."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import Any

import psycopg

from worker.providers import DeliveryError, Message, ProviderResult, Providers
from worker.settings import Settings

delivery_log = logging.getLogger("worker.delivery")
job_logger = logging.getLogger("worker.job")


def job_log(level: int, msg_id: int, kind: str, outcome: str, attempt: int, **extra: Any) -> None:
    """One structured line about a job's outcome (malformed, deferred, retrying, failed, skipped)."""
    line = {"event": "job", "job_id": msg_id, "kind": kind, "outcome": outcome, "attempt": attempt, **extra}
    job_logger.log(level, json.dumps(line, default=str))


class MalformedJob(Exception):  # noqa: N818 (a kind of job, not an error of the worker)
    """The job can never be processed (wrong shape, bad ids): archived and logged, never retried."""


@dataclass
class Job:
    """One job being handled: its payload, attempt (pgmq read_ct, from 1) and connection.

    By default `conn` is inside the job's transaction, which also archives the job; handlers
    registered with own_transactions=True get it in autocommit mode (see worker.registry.job).
    """

    conn: psycopg.Connection[dict[str, Any]]
    msg_id: int
    kind: str
    payload: dict[str, Any]
    attempt: int
    max_attempts: int
    providers: Providers
    settings: Settings
    archived: bool = False
    # Set by retry_in: the job stays on the queue, invisible for a while; the loop leaves it.
    deferred: bool = False
    # What the loop counts this job as (a BatchResult field) when the handler returns normally.
    outcome: str = "done"
    # What the jobs of this kind in the same read batch share (registry.job's `batch`), or None.
    batch: Any = None

    def archive(self) -> None:
        """Archive the job now, on `conn` (inside the handler's transaction when there is one)."""
        self.conn.execute("select pgmq.archive(%s, %s::bigint)", [self.settings.queue_name, self.msg_id])
        self.archived = True

    def retry_in(self, seconds: int, outcome: str = "retried") -> None:
        """Leave the job queued and make it visible again after `seconds` (pgmq.set_vt), on
        `conn`; for handlers that decide their own retries (own_transactions=True)."""
        self.conn.execute(
            "select pgmq.set_vt(%s, %s::bigint, %s)", [self.settings.queue_name, self.msg_id, max(0, seconds)]
        )
        self.deferred = True
        self.outcome = outcome

    @property
    def last_attempt(self) -> bool:
        return self.attempt >= self.max_attempts

    def deliver(
        self,
        message: Message,
        idempotency_key: str,
        message_id: str | None = None,
        attempt: int | None = None,
    ) -> ProviderResult:
        """Send through the channel's providers in order; one structured log line either way.

        `attempt` overrides the job's (pgmq read_ct) when the attempts are counted elsewhere
        (on a message row). Raises DeliveryError (permanent, or AllProvidersFailed).
        """
        attempt = self.attempt if attempt is None else attempt
        started = time.monotonic()
        chain = self.providers.chain(message.channel)
        try:
            result = chain.send(message, idempotency_key)
        except DeliveryError as error:
            outcome = "failed" if error.permanent or attempt >= self.max_attempts else "retrying"
            self._log(message, message_id, error.provider, outcome, started, attempt, error=error.detail)
            raise
        self._log(
            message,
            message_id,
            result.provider,
            "sent",
            started,
            attempt,
            provider_message_id=result.provider_message_id,
        )
        return result

    def _log(
        self,
        message: Message,
        message_id: str | None,
        provider: str,
        outcome: str,
        started: float,
        attempt: int,
        **extra: Any,
    ) -> None:
        line = {
            "event": "delivery",
            "job_id": self.msg_id,
            "message_id": message_id,
            "kind": self.kind,
            "channel": message.channel,
            "provider": provider,
            "outcome": outcome,
            "attempt": attempt,
            "latency_ms": round((time.monotonic() - started) * 1000, 1),
            **extra,
        }
        level = logging.INFO if outcome == "sent" else logging.WARNING
        delivery_log.log(level, json.dumps(line, default=str))
