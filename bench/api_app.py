"""edge_api as bench/api_load.py serves it: the real application plus two bench-only routes.

`GET /bench/noop?workspace_id=…` is the comparator of GET /dashboard/stats: the same
dependency chain (bearer token verified by the app's TokenVerifier, the pooled connection, one
round trip of `begin`, PostgREST's preamble as `authenticated` with the caller's claims, the
query, `commit`, the JSON text passed through) around one trivial query under RLS: whether the
caller can see the workspace (the workspaces policy evaluates the membership helper once).
`GET /bench/stats-live?workspace_id=…` is GET /dashboard/stats without its cache
(DASHBOARD_CACHE_SECONDS=0): the dashboard computed on every request. They live here, not in
edge_api, because no client needs them: they exist to be measured next to the stats.
`uvicorn bench.api_app:app` (from the repository root).
"""

import uuid
from typing import Annotated

from fastapi import APIRouter, FastAPI, Query, Response
from prometheus_client import CollectorRegistry
from psycopg import sql

from edge_api.dashboard_cache import DashboardCache
from edge_api.deps import AsUser
from edge_api.main import create_app
from edge_api.routers.dashboard import dashboard_text

router = APIRouter()


@router.get("/bench/noop")
async def noop(
    workspace_id: Annotated[uuid.UUID, Query(description="A workspace of the caller's.")], database: AsUser
) -> Response:
    text = await database.json_text(
        sql.SQL(
            "select json_build_object('member', exists (select from public.workspaces as w where w.id = {}))"
        ).format(sql.Literal(workspace_id))
    )
    return Response(
        content=text, media_type="application/json", headers={"Cache-Control": "private, no-store"}
    )


# The dashboard as GET /dashboard/stats computes it when it holds no fresh copy (the caller
# checked, then public.dashboard_stats), on every request: DASHBOARD_CACHE_SECONDS=0.
LIVE = DashboardCache(0, 1, CollectorRegistry())


@router.get("/bench/stats-live")
async def stats_live(
    workspace_id: Annotated[uuid.UUID, Query(description="A workspace of the caller's.")], database: AsUser
) -> Response:
    text = await dashboard_text(workspace_id, database, LIVE)
    return Response(
        content=text, media_type="application/json", headers={"Cache-Control": "private, no-store"}
    )


def build() -> FastAPI:
    app = create_app()
    app.include_router(router)
    return app


app = build()
