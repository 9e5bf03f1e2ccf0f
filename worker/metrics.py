"""The worker's Prometheus metrics, per process (WORKER_METRICS_PORT; 0: not served).

Scrape every worker process as its own target; `sum()` adds them up. Labels take bounded values:
job kinds with a registered handler (others count as `other`), the outcomes of
worker.loop.BatchResult, the configured providers, two channels.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, disable_created_metrics, start_http_server

REGISTRY = CollectorRegistry()
disable_created_metrics()  # no `_created` series: nothing reads them

JOBS = Counter(
    "careops_worker_jobs",
    "Jobs this process finished handling, by kind and outcome (done, failed: archived for good"
    " after a permanent error or the last attempt, malformed, retried, deferred, interrupted).",
    ["kind", "outcome"],
    registry=REGISTRY,
)
PROVIDER_SENDS = Counter(
    "careops_provider_sends",
    "Sends tried at a provider, by channel, provider and result (ok; error: transient, the next"
    " provider or a later attempt may succeed; rejected: permanent for this message).",
    ["channel", "provider", "result"],
    registry=REGISTRY,
)
FALLBACKS = Counter(
    "careops_delivery_fallbacks",
    "Sends delivered by a provider other than the first of the channel's chain, by the provider"
    " that delivered.",
    ["channel", "provider"],
    registry=REGISTRY,
)


def serve(port: int, address: str) -> None:
    """GET /metrics on `address:port` from a daemon thread (nothing when port is 0)."""
    if port:
        start_http_server(port, addr=address, registry=REGISTRY)
