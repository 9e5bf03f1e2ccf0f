"""Database access as PostgREST does it: one transaction per request, as the request's role."""

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

import psycopg
from psycopg import AsyncConnection, sql
from psycopg.types.string import TextLoader
from psycopg_pool import AsyncConnectionPool

from edge_api.settings import Settings

SERVICE_ROLE_CLAIMS: dict[str, Any] = {"role": "service_role"}


def open_pool(settings: Settings) -> AsyncConnectionPool:
    return AsyncConnectionPool(
        str(settings.database_url),
        min_size=settings.db_pool_min_size,
        max_size=settings.db_pool_max_size,
        timeout=settings.db_pool_timeout_seconds,
        kwargs={
            "autocommit": True,
            "application_name": "careops-edge-api",
            "prepare_threshold": settings.prepare_threshold,
        },
        open=False,
    )


def preamble(role: str, claims: dict[str, Any], statement_timeout_ms: int) -> sql.Composed:
    """`begin` and PostgREST's preamble, as one simple-protocol text (values as quoted literals).

    `set_config('role', …, true)` is `set local role`; the claims go to
    `request.jwt.claims`; the statement timeout is the one PostgREST takes from the role's
    settings. All end with the transaction, so the connection goes back to the pool as the
    pool's own role.
    """
    return sql.SQL(
        "begin; select set_config('role', {}, true), set_config('request.jwt.claims', {}, true),"
        " set_config('statement_timeout', {}, true)"
    ).format(sql.Literal(role), sql.Literal(json.dumps(claims)), sql.Literal(f"{statement_timeout_ms}ms"))


async def _roll_back(conn: AsyncConnection) -> None:
    # A broken connection cannot roll back; the pool then discards it.
    with suppress(psycopg.Error):
        await conn.execute("rollback")


@asynccontextmanager
async def transaction_as(
    pool: AsyncConnectionPool, role: str, claims: dict[str, Any], statement_timeout_ms: int
) -> AsyncIterator[AsyncConnection]:
    """A pooled connection inside a transaction that runs as `role` with `claims`.

    For requests of several statements: three round trips at least (the preamble, the
    queries, commit); a failed request rolls back.
    """
    async with pool.connection() as conn:
        await conn.execute(preamble(role, claims, statement_timeout_ms))
        try:
            yield conn
        except BaseException:
            await _roll_back(conn)
            raise
        await conn.execute("commit")


async def row_as(
    pool: AsyncConnectionPool,
    role: str,
    claims: dict[str, Any],
    statement_timeout_ms: int,
    query: sql.Composable,
) -> tuple[Any, ...]:
    """One single-statement request in one round trip: `begin`, the preamble, `query` and
    `commit` travel as one simple-protocol message (so `query` carries its values as
    literals). `query` returns one row; json and jsonb columns come back as the text the
    server wrote, never parsed. An error rolls back and propagates.
    """
    async with pool.connection() as conn:
        cur = conn.cursor()
        cur.adapters.register_loader("jsonb", TextLoader)
        cur.adapters.register_loader("json", TextLoader)
        try:
            await cur.execute(
                sql.SQL("{}; {}; commit").format(preamble(role, claims, statement_timeout_ms), query)
            )
        except BaseException:
            await _roll_back(conn)
            raise
        # The results of begin, the preamble, the query and commit, in order.
        cur.nextset()
        cur.nextset()
        row = await cur.fetchone()
        assert row is not None, "the query returned no row"
        return row


async def json_text_as(
    pool: AsyncConnectionPool,
    role: str,
    claims: dict[str, Any],
    statement_timeout_ms: int,
    query: sql.Composable,
) -> str:
    """`row_as` for a query whose one column is json or jsonb: its text."""
    return (await row_as(pool, role, claims, statement_timeout_ms, query))[0]
