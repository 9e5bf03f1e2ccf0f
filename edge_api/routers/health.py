from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from psycopg_pool import AsyncConnectionPool

from edge_api.deps import get_pool

router = APIRouter(tags=["health"])

HEALTH_TIMEOUT_SECONDS = 2.0


@router.get("/health")
async def health(pool: Annotated[AsyncConnectionPool, Depends(get_pool)]) -> JSONResponse:
    """200 when the database answers and the jobs queue exists, 503 otherwise."""
    try:
        async with pool.connection(timeout=HEALTH_TIMEOUT_SECONDS) as conn:
            cur = await conn.execute("select exists (select 1 from pgmq.meta where queue_name = 'jobs')")
            row = await cur.fetchone()
    except Exception as exc:  # the point is to report any failure, not raise it
        return JSONResponse({"status": "error", "detail": str(exc)}, status_code=503)
    queue_ok = bool(row and row[0])
    return JSONResponse(
        {"status": "ok" if queue_ok else "degraded", "database": "ok", "queue": queue_ok},
        status_code=200 if queue_ok else 503,
    )
