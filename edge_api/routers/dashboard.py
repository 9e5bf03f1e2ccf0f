import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from edge_api.deps import UserConnection
from edge_api.errors import ERROR_RESPONSES
from edge_api.models import DashboardStats

router = APIRouter(prefix="/dashboard", tags=["dashboard"])


@router.get("/stats", responses=ERROR_RESPONSES)
async def dashboard_stats(
    workspace_id: Annotated[uuid.UUID, Query(description="The workspace whose dashboard to show.")],
    conn: UserConnection,
    response: Response,
) -> DashboardStats:
    """The workspace's dashboard in one database round trip: `public.dashboard_stats`, under the caller's RLS.

    A workspace the caller is not a member of is `not_found` (404), as in the RPCs.
    """
    cur = await conn.execute("select public.dashboard_stats(p_workspace_id => %s)", [workspace_id])
    row = await cur.fetchone()
    assert row is not None  # a scalar function returns exactly one row
    response.headers["Cache-Control"] = "private, no-store"  # one user's view of live data
    return DashboardStats.model_validate(row[0])
