import time
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from psycopg import sql

from edge_api.dashboard_cache import DashboardCache
from edge_api.deps import AsUser, UserQueries
from edge_api.errors import ERROR_RESPONSES
from edge_api.models import DashboardStats

router = APIRouter(prefix="/dashboard", tags=["dashboard"])


async def get_dashboard_cache(request: Request) -> DashboardCache:
    return request.app.state.dashboard_cache


Cache = Annotated[DashboardCache, Depends(get_dashboard_cache)]

# Who asks (private.dashboard_viewer: not_authenticated or not_found unless a member, else the
# view they get) and, unless this process holds that view fresh, the dashboard itself: one
# round trip either way. Materialized, so the check runs once.
DASHBOARD_QUERY = sql.SQL(
    "with viewer as materialized (select private.dashboard_viewer(p_workspace_id => {workspace_id}) as view)"
    " select v.view, case when v.view <> all({fresh}::text[])"
    " then public.dashboard_stats(p_workspace_id => {workspace_id}) end"
    " from viewer as v"
)


async def dashboard_text(workspace_id: uuid.UUID, database: UserQueries, cache: DashboardCache) -> str:
    """The caller's view of the workspace's dashboard, as JSON text: from `cache` when it holds it fresh."""
    fresh = cache.fresh(workspace_id)
    sent_at = time.monotonic()
    view, computed = await database.row(
        DASHBOARD_QUERY.format(workspace_id=sql.Literal(workspace_id), fresh=sql.Literal(list(fresh)))
    )
    if computed is None:
        cache.answers.labels("cache").inc()
        return fresh[view]
    cache.answers.labels("database").inc()
    cache.store(workspace_id, view, computed, sent_at)
    return computed


@router.get("/stats", responses=ERROR_RESPONSES, response_model=DashboardStats)
async def dashboard_stats(
    workspace_id: Annotated[uuid.UUID, Query(description="The workspace whose dashboard to show.")],
    database: AsUser,
    cache: Cache,
) -> Response:
    """The workspace's dashboard (`public.dashboard_stats`), for its members, in one database round trip.

    The caller's membership is checked on every request; the figures may be up to
    `DASHBOARD_CACHE_SECONDS` (1 s by default) old: a dashboard that many staff poll is
    computed once per that interval, not once per request. A workspace the caller is not a
    member of is `not_found` (404), as in the RPCs.
    """
    # The database builds the JSON and edge_api passes its text through: parsing it into
    # Python, validating it into the model and serialising it again would cost more CPU than
    # the query. DashboardStats documents it in OpenAPI; the tests validate answers against it.
    if cache.enabled and not cache.fresh(workspace_id):
        # Requests for a dashboard nobody holds share one computation: the first computes, the
        # others then find it fresh.
        async with cache.lock(workspace_id):
            stats = await dashboard_text(workspace_id, database, cache)
    else:
        stats = await dashboard_text(workspace_id, database, cache)
    return Response(
        content=stats,
        media_type="application/json",
        headers={"Cache-Control": "private, no-store"},  # one user's view of the workspace
    )
