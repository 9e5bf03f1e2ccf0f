"""Job handlers for tests and benchmarks that run `python -m worker` as a subprocess
(WORKER_IMPORTS=tests.worker_handlers)."""

from __future__ import annotations

import time

from worker.jobs import Job
from worker.providers import EmailMessage
from worker.registry import job


@job("test_sleep")
def sleep(job: Job) -> None:
    """Takes payload.seconds, so a test can catch it in flight."""
    time.sleep(float(job.payload.get("seconds", 1)))


@job("test_email")
def email(job: Job) -> None:
    """One email through the configured email providers, keyed by payload.key."""
    job.deliver(
        EmailMessage(to=job.payload.get("to", "guest@example.test"), subject="test", text="test body"),
        idempotency_key=str(job.payload["key"]),
        message_id=str(job.payload["key"]),
    )
