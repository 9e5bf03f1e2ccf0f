import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from edge_api.deps import AppSettings, Pool
from edge_api.errors import ApiError

router = APIRouter(tags=["operations"])

scrape_token = HTTPBearer(auto_error=False, scheme_name="MetricsToken", description="METRICS_BEARER_TOKEN")


def require_scrape_token(  # added to the router by create_app when METRICS_BEARER_TOKEN is set
    settings: AppSettings,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(scrape_token)],
) -> None:
    expected = settings.metrics_bearer_token
    if expected is None:
        return
    given = credentials.credentials if credentials else ""
    if not secrets.compare_digest(given.encode(), expected.get_secret_value().encode()):
        raise ApiError(401, "not_authenticated", "GET /metrics needs the metrics bearer token.")


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {
            "content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}},
            "description": "Prometheus text",
        },
    },
)
async def metrics(request: Request, pool: Pool) -> Response:
    """Prometheus text format: HTTP requests and latency per route, queue and cron state, pool usage.

    Database figures come from one call to private.metrics_snapshot(), cached per process
    (METRICS_CACHE_SECONDS), so scraping never loads the database.
    """
    await request.app.state.database_metrics.refresh(pool)
    return Response(generate_latest(request.app.state.metrics_registry), media_type=CONTENT_TYPE_LATEST)
