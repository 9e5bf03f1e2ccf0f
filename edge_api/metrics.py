"""Prometheus metrics: HTTP requests per route template, database gauges, the connection pool.

Per process, on purpose (not prometheus_client's multiprocess mode): run N edge_api
instances with one uvicorn worker each and scrape each as its own target; Prometheus
labels them by `instance` and `sum()` adds them up. Counters and histograms live in
this process's registry; the database gauges are the same from every instance (read
from the database) and the pool gauges describe this process's own pool. Nothing
needs a shared directory or a cleanup when a worker dies. (`uvicorn --workers N`
behind one port would answer each scrape from a random worker: do not scrape that.)
"""

import asyncio
import logging
import math
import re
import time
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any, ClassVar

import psycopg
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from edge_api.db import SERVICE_ROLE_CLAIMS, transaction_as

log = logging.getLogger("edge_api.metrics")

METRIC_NAME = re.compile(r"^careops_[a-z0-9_]+$")
UNMATCHED_ROUTE = "unmatched"
# Every label takes a bounded set of values: a method outside these is counted as OTHER (a
# client inventing methods must not add series that never go away).
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER_METHOD = "OTHER"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class HttpMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "careops_http_requests",
            "HTTP requests answered, by method, route template and status.",
            ["method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "careops_http_request_duration_seconds",
            "Time from request to the last byte of the response, by method, route template and status.",
            ["method", "route", "status"],
            buckets=(0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=registry,
        )


class HttpMetricsMiddleware:
    """Pure ASGI (no BaseHTTPMiddleware overhead). Labels by route template, never by raw path."""

    def __init__(self, app: ASGIApp, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # unless a response starts

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            route = scope.get("route")
            method = scope["method"] if scope["method"] in KNOWN_METHODS else OTHER_METHOD
            labels = (method, getattr(route, "path", UNMATCHED_ROUTE), str(status))
            self.metrics.requests.labels(*labels).inc()
            self.metrics.latency.labels(*labels).observe(time.perf_counter() - started)


class DatabaseMetrics(Collector):
    """Gauge families from private.metrics_snapshot(), read at most once per `cache_seconds`.

    The function returns [{name, help, samples: [{labels, value}]}]; each family becomes a
    gauge as it is, so database metrics are added in SQL alone. It runs as service_role
    (the only role granted it), never as the pool's own role.
    """

    def __init__(self, cache_seconds: float, statement_timeout_ms: int) -> None:
        self.cache_seconds = cache_seconds
        self.statement_timeout_ms = statement_timeout_ms
        self._families: list[dict[str, Any]] = []
        self._up = False
        self._read_at = -math.inf
        self._read_seconds = math.nan
        self._lock = asyncio.Lock()

    def _fresh(self) -> bool:
        return time.monotonic() - self._read_at < self.cache_seconds

    async def refresh(self, pool: AsyncConnectionPool) -> None:
        if self._fresh():
            return
        async with self._lock:  # concurrent scrapes share one read
            if self._fresh():
                return
            started = time.monotonic()
            try:
                async with transaction_as(
                    pool, "service_role", SERVICE_ROLE_CLAIMS, self.statement_timeout_ms
                ) as conn:
                    row = await (await conn.execute("select private.metrics_snapshot()")).fetchone()
                self._families = [family for family in (row[0] if row else []) if _valid_family(family)]
                self._up = True
            except (psycopg.Error, PoolTimeout) as exc:
                # Stale queue depths would look current: report the database as down instead.
                log.warning("database metrics unavailable: %s", exc)
                self._families = []
                self._up = False
            self._read_at = time.monotonic()
            self._read_seconds = self._read_at - started

    def collect(self) -> Iterable[Metric]:
        yield GaugeMetricFamily(
            "careops_database_metrics_up",
            "Whether the last read of the database metrics succeeded.",
            value=1 if self._up else 0,
        )
        yield GaugeMetricFamily(
            "careops_database_metrics_read_seconds",
            "How long the last read of private.metrics_snapshot() took (the database's share of a scrape).",
            value=self._read_seconds,
        )
        for family in self._families:
            label_names = sorted({name for sample in family["samples"] for name in sample.get("labels", {})})
            gauge = GaugeMetricFamily(family["name"], family.get("help", ""), labels=label_names)
            for sample in family["samples"]:
                labels = sample.get("labels", {})
                gauge.add_metric([str(labels.get(name, "")) for name in label_names], float(sample["value"]))
            yield gauge


def _valid_family(family: Any) -> bool:
    ok = (
        isinstance(family, dict)
        and isinstance(family.get("name"), str)
        and bool(METRIC_NAME.match(family["name"]))
        and isinstance(family.get("samples"), list)
    )
    if not ok:
        log.warning("ignoring a malformed metric family from the database: %r", family)
    return ok


class PoolMetrics(Collector):
    """This process's psycopg pool (psycopg_pool's get_stats())."""

    GAUGES: ClassVar[dict[str, tuple[str, str]]] = {
        "pool_max": ("careops_db_pool_max_connections", "Most connections the pool may open."),
        "pool_size": ("careops_db_pool_connections", "Connections the pool holds, busy or idle."),
        "pool_available": ("careops_db_pool_idle_connections", "Idle connections ready in the pool."),
        "requests_waiting": ("careops_db_pool_requests_waiting", "Requests waiting for a connection."),
    }
    COUNTERS: ClassVar[dict[str, tuple[str, str]]] = {
        "requests_num": ("careops_db_pool_requests", "Connections requested from the pool."),
        "requests_queued": ("careops_db_pool_requests_queued", "Requests that had to wait for a connection."),
        "requests_errors": ("careops_db_pool_requests_errors", "Requests that got no connection (time-out)."),
        "connections_errors": ("careops_db_pool_connection_errors", "Failed attempts to open a connection."),
        "connections_lost": ("careops_db_pool_connections_lost", "Connections found broken."),
    }

    def __init__(self, pool: Callable[[], AsyncConnectionPool | None]) -> None:
        self._pool = pool

    def collect(self) -> Iterable[Metric]:
        pool = self._pool()
        if pool is None:
            return
        stats = pool.get_stats()
        for key, (name, documentation) in self.GAUGES.items():
            yield GaugeMetricFamily(name, documentation, value=stats.get(key, 0))
        for key, (name, documentation) in self.COUNTERS.items():
            yield CounterMetricFamily(name, documentation, value=stats.get(key, 0))
        wait_ms = stats.get("requests_wait_ms", 0)
        yield CounterMetricFamily(
            "careops_db_pool_wait_seconds",
            "Time requests spent waiting for a connection.",
            value=wait_ms / 1000,
        )
