"""Two edge_api processes on one database: both serve, each keeps its own metrics, nothing is shared."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.edge_api_support import World, bearer, committed_world, user_token
from tests.support import DEFAULT_JWT_SECRET

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def world(db_url: str) -> Iterator[World]:
    with committed_world(db_url) as committed:
        yield committed


@pytest.fixture(scope="module")
def instances(db_url: str) -> Iterator[list[str]]:
    """Two uvicorn processes, as two instances behind a load balancer would run."""
    env = os.environ | {
        "DATABASE_URL": db_url,
        "SUPABASE_JWT_SECRET": DEFAULT_JWT_SECRET,
        "DB_POOL_MAX_SIZE": "2",
    }
    ports = [free_port(), free_port()]
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "edge_api.main:app",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
        )
        for port in ports
    ]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        deadline = time.monotonic() + 30
        for url in urls:
            while True:
                try:
                    if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, f"{url} never became healthy"
                time.sleep(0.2)
        yield urls
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=10)


def stats_requests(url: str) -> float:
    text = httpx.get(f"{url}/metrics").text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "careops_http_requests_total" and sample.labels["route"] == "/dashboard/stats"
    )


def test_both_instances_serve_the_same_dashboard_and_count_their_own_requests(
    instances: list[str], world: World
) -> None:
    first, second = instances
    headers = bearer(user_token(world.owner))
    params = {"workspace_id": str(world.workspace_a)}
    answers = [httpx.get(f"{first}/dashboard/stats", params=params, headers=headers) for _ in range(3)]
    answers.append(httpx.get(f"{second}/dashboard/stats", params=params, headers=headers))
    assert [answer.status_code for answer in answers] == [200] * 4
    assert answers[0].json() == answers[-1].json()
    assert (stats_requests(first), stats_requests(second)) == (3, 1)


def test_queue_depth_reads_the_same_from_every_instance(instances: list[str]) -> None:
    def depth(url: str) -> float:
        families = text_string_to_metric_families(httpx.get(f"{url}/metrics").text)
        return next(s.value for f in families for s in f.samples if s.name == "careops_queue_depth")

    assert depth(instances[0]) == depth(instances[1])
