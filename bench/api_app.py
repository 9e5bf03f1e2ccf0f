"""edge_api as bench/api_load.py serves it: the real application plus one bench-only route.

`GET /bench/noop?workspace_id=…` is the comparator of GET /dashboard/stats: the same
dependency chain (bearer token verified by the app's TokenVerifier, the pooled connection, one
round trip of `begin`, PostgREST's preamble as `authenticated` with the caller's claims, the
query, `commit`, the JSON text passed through) around one trivial query under RLS: whether the
caller can see the workspace (the workspaces policy evaluates the membership helper once). It
lives here, not in edge_api, because no client needs it: it exists to be measured next to
the stats. `uvicorn bench.api_app:app` (from the repository root).
"""

import uuid
from typing import Annotated

from fastapi import APIRouter, FastAPI, Query, Response
from psycopg import sql

from edge_api.deps import AsUser
from edge_api.main import create_app

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


def build() -> FastAPI:
    app = create_app()
    app.include_router(router)
    return app


app = build()
