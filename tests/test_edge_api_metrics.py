"""GET /metrics: parsed with prometheus_client's parser; the queue depth follows the queue."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import psycopg
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from tests.booking_support import book, create_booking_workspace, drop_booking_workspace
from tests.edge_api_support import app_for, bearer
from tests.support import Actor, error_of, run_as

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(client: TestClient, headers: dict[str, str] | None = None) -> Samples:
    response = client.get("/metrics", headers=headers or {})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    with TestClient(app_for(db_url)) as test_client:
        yield test_client


@pytest.fixture
def queued_jobs(db_url: str) -> Iterator[list[int]]:
    """Message ids this test put on the jobs queue; deleted afterwards."""
    ids: list[int] = []
    yield ids
    with psycopg.connect(db_url, autocommit=True) as conn:
        for msg_id in ids:
            conn.execute("select pgmq.delete('jobs', %s::bigint)", [msg_id])


def enqueue(db_url: str, count: int, ids: list[int]) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        for n in range(count):
            ids.append(
                conn.execute(
                    "select private.enqueue_job('metrics_probe', %s)", [json.dumps({"n": n})]
                ).fetchone()[0]
            )


def test_queue_depth_moves_when_jobs_are_queued(
    client: TestClient, db_url: str, queued_jobs: list[int]
) -> None:
    before = value(scrape(client), "careops_queue_depth", queue="jobs")
    enqueue(db_url, 3, queued_jobs)
    samples = scrape(client)
    assert value(samples, "careops_queue_depth", queue="jobs") == before + 3
    assert value(samples, "careops_queue_oldest_message_age_seconds", queue="jobs") >= 0
    assert value(samples, "careops_database_metrics_up") == 1


def test_database_metrics_are_cached_per_process(db_url: str, queued_jobs: list[int]) -> None:
    with TestClient(app_for(db_url, metrics_cache_seconds=300)) as cached:
        before = value(scrape(cached), "careops_queue_depth", queue="jobs")
        enqueue(db_url, 2, queued_jobs)
        assert value(scrape(cached), "careops_queue_depth", queue="jobs") == before
    with TestClient(app_for(db_url, metrics_cache_seconds=300)) as another_process:
        assert value(scrape(another_process), "careops_queue_depth", queue="jobs") == before + 2


def test_requests_are_counted_per_route_template_and_status(client: TestClient) -> None:
    client.get("/health")
    client.get("/health")
    client.get("/dashboard/stats")  # 401
    client.get("/no/such/path/12345")
    samples = scrape(client)
    assert value(samples, "careops_http_requests_total", method="GET", route="/health", status="200") == 2
    assert (
        value(samples, "careops_http_requests_total", method="GET", route="/dashboard/stats", status="401")
        == 1
    )
    assert value(samples, "careops_http_requests_total", method="GET", route="unmatched", status="404") == 1
    labels = {dict(key[1]).get("route") for key in samples if key[0] == "careops_http_requests_total"}
    assert "/no/such/path/12345" not in labels
    count = value(
        samples, "careops_http_request_duration_seconds_count", method="GET", route="/health", status="200"
    )
    assert count == 2
    assert (
        value(
            samples,
            "careops_http_request_duration_seconds_bucket",
            method="GET",
            route="/health",
            status="200",
            le="+Inf",
        )
        == 2
    )


def test_cron_jobs_are_reported(client: TestClient, cron_probe: str) -> None:
    samples = scrape(client)
    assert value(samples, "careops_cron_job_active", job=cron_probe) == 1


def test_cron_last_run_status_and_age(client: TestClient, db_url: str) -> None:
    """A finished run of a job appears with its outcome; a failed one reads 0."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        job_id = conn.execute(
            "select cron.schedule('careops-metrics-probe', '0 0 1 1 *', 'select 1')"
        ).fetchone()[0]
        try:
            conn.execute(
                "insert into cron.job_run_details (jobid, runid, job_pid, database, username, command,"
                " status, return_message, start_time, end_time) values"
                " (%s, -3 - %s * 2, 1, 'postgres', current_user, 'select 1', 'succeeded', '',"
                "  now() - interval '70 seconds', now() - interval '60 seconds'),"
                " (%s, -2 - %s * 2, 2, 'postgres', current_user, 'select 1', 'failed', 'boom',"
                "  now() - interval '20 seconds', now() - interval '10 seconds')",
                # Run ids of our own: postgres may not use cron.runid_seq (as on hosted).
                [job_id, job_id, job_id, job_id],
            )
            samples = scrape(client)
        finally:
            conn.execute("delete from cron.job_run_details where jobid = %s", [job_id])
            conn.execute("select cron.unschedule(%s)", [job_id])
    assert value(samples, "careops_cron_job_last_run_success", job="careops-metrics-probe") == 0
    assert 10 <= value(samples, "careops_cron_job_last_run_age_seconds", job="careops-metrics-probe") < 60


def test_pool_usage_is_reported(client: TestClient) -> None:
    samples = scrape(client)
    assert value(samples, "careops_db_pool_max_connections") == 10
    assert value(samples, "careops_db_pool_connections") >= 1
    assert value(samples, "careops_db_pool_requests_total") >= 1


def test_an_unreachable_database_reads_as_down_not_as_an_error() -> None:
    with TestClient(
        app_for("postgresql://postgres:postgres@127.0.0.1:9/postgres", db_pool_timeout_seconds=0.5)
    ) as down:
        samples = scrape(down)
    assert value(samples, "careops_database_metrics_up") == 0
    assert not any(name == "careops_queue_depth" for name, _ in samples)


def test_the_scrape_token_when_configured(db_url: str) -> None:
    with TestClient(app_for(db_url, metrics_bearer_token="scrape-me")) as guarded:
        response = guarded.get("/metrics")
        assert response.status_code == 401
        assert response.json()["message"] == "not_authenticated"
        assert guarded.get("/metrics", headers=bearer("wrong")).status_code == 401
        assert "careops_queue_depth" in {name for name, _ in scrape(guarded, bearer("scrape-me"))}


def test_metrics_snapshot_is_for_service_role_only(conn: psycopg.Connection) -> None:
    for role in ("anon", "authenticated"):
        assert not conn.execute(
            "select has_function_privilege(%s, 'private.metrics_snapshot()', 'execute')", [role]
        ).fetchone()[0]
    families = run_as(conn, Actor.service(), "select private.metrics_snapshot()")[0][0]
    assert {family["name"] for family in families} >= {"careops_queue_depth", "careops_cron_job_active"}
    error = error_of(conn, Actor.anon(), "select private.metrics_snapshot()")
    assert isinstance(error, psycopg.errors.InsufficientPrivilege)


def test_bookings_created_today_moves_when_a_booking_is_made(client: TestClient, db_url: str) -> None:
    """careops_bookings_created_today (from private.business_metric_families) over HTTP."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        place = create_booking_workspace(conn)
        try:
            day_before = conn.execute("select (now() at time zone 'UTC')::date").fetchone()[0]
            before = value(scrape(client), "careops_bookings_created_today")
            for hours in (30, 31):
                book(
                    conn,
                    place,
                    dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
                    + dt.timedelta(hours=hours),
                )
            samples = scrape(client)
            if conn.execute("select (now() at time zone 'UTC')::date").fetchone()[0] != day_before:
                pytest.skip("midnight UTC passed during the test")
            assert value(samples, "careops_bookings_created_today") == before + 2
            assert value(samples, "careops_messages_sent_today", channel="email") >= 0
            assert value(samples, "careops_forms_completed_today") >= 0
        finally:
            drop_booking_workspace(conn, place)
