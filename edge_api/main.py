"""The edge_api application: `create_app()` (uvicorn: `edge_api.main:app`, built on first access)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from prometheus_client import CollectorRegistry, disable_created_metrics

from edge_api.auth import TokenVerifier
from edge_api.dashboard_cache import DashboardCache
from edge_api.db import open_pool
from edge_api.errors import ErrorBody, install_error_handlers
from edge_api.metrics import DatabaseMetrics, HttpMetrics, HttpMetricsMiddleware, PoolMetrics
from edge_api.routers import calendar, dashboard, health, metrics, unsubscribe, webhooks
from edge_api.settings import Settings, get_settings


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    pool = open_pool(app.state.settings)
    # Not waiting: the app starts when the database is down and /health reports it.
    await pool.open(wait=False)
    app.state.pool = pool
    try:
        yield
    finally:
        app.state.pool = None
        await pool.close()


def create_app(settings: Settings | None = None) -> FastAPI:
    """A new application with its own pool (opened by the lifespan), token verifier and metrics registry.

    Everything lives on `app.state` of this one process; no state is shared between
    processes, so any number of instances can serve one database.
    """
    settings = settings or get_settings()
    app = FastAPI(
        title="CareOps edge_api",
        summary="Composite endpoints SQL alone cannot serve: dashboard stats, health, metrics.",
        version="1.0.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.pool = None
    app.state.token_verifier = TokenVerifier(settings)

    disable_created_metrics()  # no `_created` series: they double the output and nothing reads them
    registry = CollectorRegistry()
    app.state.metrics_registry = registry
    app.state.database_metrics = DatabaseMetrics(
        settings.metrics_cache_seconds, settings.metrics_statement_timeout_ms
    )
    registry.register(app.state.database_metrics)
    registry.register(PoolMetrics(lambda: app.state.pool))
    app.state.dashboard_cache = DashboardCache(
        settings.dashboard_cache_seconds, settings.dashboard_cache_entries, registry
    )

    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(dashboard.router)
    app.include_router(calendar.router)
    # Inbound webhooks only where their secrets are configured.
    if settings.twilio_auth_token is not None:
        app.include_router(webhooks.twilio_router)
    if settings.resend_webhook_secret is not None:
        app.include_router(webhooks.resend_router)
    if settings.unsubscribe_signing_secret is not None:
        app.include_router(unsubscribe.router)
    # The scrape token (and its OpenAPI security scheme) only when one is configured.
    app.include_router(
        metrics.router,
        dependencies=[Depends(metrics.require_scrape_token)] if settings.metrics_bearer_token else [],
        responses={401: {"model": ErrorBody, "description": "The metrics bearer token was not sent"}}
        if settings.metrics_bearer_token
        else {},
    )

    if settings.cors_allowed_origins or settings.cors_origin_pattern:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_allowed_origins,
            allow_origin_regex=settings.cors_origin_pattern,
            allow_methods=["GET"],
            allow_headers=["authorization", "apikey", "content-type", "x-client-info"],
            max_age=600,
        )
    # Outermost, so every answer is counted, CORS preflights and errors included.
    app.add_middleware(HttpMetricsMiddleware, metrics=HttpMetrics(registry))
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's schema, with its 422 replaced by the 400 `invalid_parameter` edge_api really sends."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, summary=app.summary, routes=app.routes)
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            operation.get("responses", {}).pop("422", None)
    for name in ("HTTPValidationError", "ValidationError"):
        schema.get("components", {}).get("schemas", {}).pop(name, None)
    app.openapi_schema = schema
    return schema


def __getattr__(name: str) -> Any:
    # `uvicorn edge_api.main:app` and `from edge_api.main import app` build the app when asked,
    # so importing this module needs no configuration.
    if name == "app":
        return create_app()
    raise AttributeError(name)
