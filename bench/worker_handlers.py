"""Handlers for bench/worker_throughput.py (imported by the worker via WORKER_IMPORTS)."""

from __future__ import annotations

from worker.jobs import Job
from worker.providers import EmailMessage
from worker.registry import job


@job("bench_noop")
def noop(job: Job) -> None:
    """Nothing: what the loop itself costs per job."""


@job("bench_email")
def email(job: Job) -> None:
    """One email through the configured email providers (console, or a stub behind resend)."""
    key = f"bench:{job.msg_id}"
    job.deliver(
        EmailMessage(to="bench@example.test", subject="Benchmark", text="A benchmark email."),
        idempotency_key=key,
        message_id=key,
    )
