"""Database access as PostgREST does it: one transaction per request, as the request's role."""

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

import psycopg
from psycopg import AsyncConnection, sql
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

    PostgREST's preamble: `set_config('role', …, true)` (= `set local role`),
    `set_config('request.jwt.claims', …, true)`, and the statement timeout that PostgREST
    takes from the role's settings. All end with the transaction, so the connection goes
    back to the pool as the pool's own role; a failed request rolls back.

    `begin` and the preamble travel as one simple-protocol message (values as quoted
    literals, no parameters), so a request costs three round trips: that, its query, commit.
    """
    preamble = sql.SQL(
        "begin; select set_config('role', {}, true), set_config('request.jwt.claims', {}, true),"
        " set_config('statement_timeout', {}, true)"
    ).format(sql.Literal(role), sql.Literal(json.dumps(claims)), sql.Literal(f"{statement_timeout_ms}ms"))
    async with pool.connection() as conn:
        await conn.execute(preamble)
        try:
            yield conn
        except BaseException:
            # A broken connection cannot roll back; the pool then discards it.
            with suppress(psycopg.Error):
                await conn.execute("rollback")
            raise
        await conn.execute("commit")
