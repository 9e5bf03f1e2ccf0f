import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response
from psycopg import sql

from edge_api.deps import AsUser
from edge_api.errors import ERROR_RESPONSES
from edge_api.models import DashboardStats

router = APIRouter(prefix="/dashboard", tags=["dashboard"])


@router.get("/stats", responses=ERROR_RESPONSES, response_model=DashboardStats)
async def dashboard_stats(
    workspace_id: Annotated[uuid.UUID, Query(description="The workspace whose dashboard to show.")],
    database: AsUser,
) -> Response:
    """The workspace's dashboard in one database round trip: `public.dashboard_stats`, for its members.

    A workspace the caller is not a member of is `not_found` (404), as in the RPCs.
    """
    # The database builds the JSON and edge_api passes its text through: parsing it into
    # Python, validating it into the model and serialising it again would cost more CPU than
    # the query. DashboardStats documents it in OpenAPI; the tests validate answers against it.
    stats = await database.json_text(
        sql.SQL("select public.dashboard_stats(p_workspace_id => {})").format(sql.Literal(workspace_id))
    )
    return Response(
        content=stats,
        media_type="application/json",
        headers={"Cache-Control": "private, no-store"},  # one user's view of live data
    )
