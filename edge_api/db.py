"""Database access as PostgREST does it: one transaction per request, as the request's role."""

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from edge_api.settings import Settings

SERVICE_ROLE_CLAIMS: dict[str, Any] = {"role": "service_role"}


def open_pool(settings: Settings) -> AsyncConnectionPool:
    return AsyncConnectionPool(
        str(settings.database_url),
        min_size=settings.db_pool_min_size,
        max_size=settings.db_pool_max_size,
        timeout=settings.db_pool_timeout_seconds,
        kwargs={"autocommit": True, "application_name": "careops-edge-api"},
        open=False,
    )


@asynccontextmanager
async def transaction_as(
    pool: AsyncConnectionPool, role: str, claims: dict[str, Any], statement_timeout_ms: int
) -> AsyncIterator[AsyncConnection]:
    """A pooled connection inside a transaction that runs as `role` with `claims`.

    PostgREST's preamble in one statement: `set_config('role', …, true)` (= `set local
    role`), `set_config('request.jwt.claims', …, true)`, and the statement timeout that
    PostgREST takes from the role's settings. All end with the transaction, so the
    connection goes back to the pool as the pool's own role; a failed request rolls back.
    """
    async with pool.connection() as conn, conn.transaction():
        await conn.execute(
            "select set_config('role', %s, true), set_config('request.jwt.claims', %s, true),"
            " set_config('statement_timeout', %s, true)",
            [role, json.dumps(claims), f"{statement_timeout_ms}ms"],
        )
        yield conn
