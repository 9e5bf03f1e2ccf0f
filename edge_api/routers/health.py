from fastapi import APIRouter
from fastapi.responses import JSONResponse

from edge_api.deps import Connection

router = APIRouter(tags=["health"])


@router.get("/health")
async def health(conn: Connection) -> JSONResponse:
    """200 when the database answers and the jobs queue exists, 503 otherwise."""
    try:
        cur = await conn.execute("select exists (select 1 from pgmq.meta where queue_name = 'jobs')")
        row = await cur.fetchone()
    except Exception as exc:  # the point is to report any failure, not raise it
        return JSONResponse({"status": "error", "detail": str(exc)}, status_code=503)
    queue_ok = bool(row and row[0])
    return JSONResponse(
        {"status": "ok" if queue_ok else "degraded", "database": "ok", "queue": queue_ok},
        status_code=200 if queue_ok else 503,
    )
