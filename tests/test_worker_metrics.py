"""The worker's /metrics (WORKER_METRICS_PORT): jobs by kind and outcome, sends per provider and
result, fallbacks to a later provider; what the alert rules in ops/prometheus read."""

from __future__ import annotations

import signal
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.pooler import free_port
from tests.stubs import ResendStub
from tests.test_worker_process import eventually, send_jobs, start_worker


@pytest.fixture
def queue(autocommit_conn: psycopg.Connection) -> Iterator[str]:
    name = f"worker_metrics_{uuid.uuid4().hex[:8]}"
    autocommit_conn.execute("select pgmq.create(%s)", [name])
    yield name
    autocommit_conn.execute("select pgmq.drop_queue(%s)", [name])


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_a_failing_first_provider_shows_as_errors_and_fallbacks(
    db_url: str, queue: str, autocommit_conn: psycopg.Connection, tmp_path: Path
) -> None:
    port = free_port()
    log = tmp_path / "worker.log"
    with ResendStub() as resend, log.open("w") as out:
        resend.mode = "fail"  # 500: transient, the chain moves on to the console provider
        worker = start_worker(
            db_url,
            queue,
            stdout=out,
            WORKER_METRICS_PORT=str(port),
            EMAIL_PROVIDERS="resend,console",
            RESEND_API_KEY="re_test",
            RESEND_API_URL=resend.url,
        )
        try:
            eventually(lambda: "worker on queue" in log.read_text())
            send_jobs(autocommit_conn, queue, "test_email", [{"key": f"k-{n}"} for n in range(5)])
            send_jobs(autocommit_conn, queue, "no_such_kind", [{}])
            send_jobs(autocommit_conn, queue, "test_sleep", [{"seconds": 0}])
            done = ("careops_worker_jobs_total", (("kind", "test_email"), ("outcome", "done")))
            eventually(lambda: scrape(port).get(done) == 5)
            samples = scrape(port)
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=15)
        finally:
            worker.kill()
    assert (
        samples[
            (
                "careops_provider_sends_total",
                (("channel", "email"), ("provider", "resend"), ("result", "error")),
            )
        ]
        == 5
    )
    assert (
        samples[
            (
                "careops_provider_sends_total",
                (("channel", "email"), ("provider", "console"), ("result", "ok")),
            )
        ]
        == 5
    )
    assert samples[("careops_delivery_fallbacks_total", (("channel", "email"), ("provider", "console")))] == 5
    assert samples[("careops_worker_jobs_total", (("kind", "other"), ("outcome", "deferred")))] == 1
    assert samples[("careops_worker_jobs_total", (("kind", "test_sleep"), ("outcome", "done")))] == 1
