"""FastAPI dependencies: settings, the pool, the verified user and a connection under the user's RLS."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from psycopg import AsyncConnection, sql
from psycopg_pool import AsyncConnectionPool

from edge_api.auth import TokenVerifier, VerifiedUser
from edge_api.db import json_text_as, row_as, transaction_as
from edge_api.errors import ApiError
from edge_api.settings import Settings


# The plain look-ups are `async def` on purpose: FastAPI runs a sync dependency in its
# threadpool, and a thread hop per dependency per request is most of a small request's cost.
async def app_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_pool(request: Request) -> AsyncConnectionPool:
    return request.app.state.pool


async def get_token_verifier(request: Request) -> TokenVerifier:
    return request.app.state.token_verifier


AppSettings = Annotated[Settings, Depends(app_settings)]
Pool = Annotated[AsyncConnectionPool, Depends(get_pool)]

bearer_token = HTTPBearer(
    auto_error=False,
    scheme_name="SupabaseAccessToken",
    description="The signed-in user's Supabase access token (session.access_token in supabase-js).",
)


async def verified_user(
    verifier: Annotated[TokenVerifier, Depends(get_token_verifier)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_token)],
) -> VerifiedUser:
    """The caller, from a verified token; 401 otherwise.

    A token the process can check with what it holds (the HS256 secret, or a signing key
    already in the JWKS cache) is checked on the event loop: microseconds of CPU. One that
    may need the JWKS fetched is checked in the threadpool, so a slow fetch blocks no one.
    """
    if credentials is None:
        raise ApiError(
            401,
            "not_authenticated",
            "Send the user's access token as `Authorization: Bearer <token>`.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    token = credentials.credentials
    if verifier.can_verify_offline(token):
        return verifier.verify(token)
    return await run_in_threadpool(verifier.verify, token)


CurrentUser = Annotated[VerifiedUser, Depends(verified_user)]


async def user_connection(
    pool: Pool, user: CurrentUser, settings: AppSettings
) -> AsyncIterator[AsyncConnection]:
    """A transaction as `authenticated` with the user's claims: every query runs under their RLS."""
    async with transaction_as(pool, "authenticated", user.claims, settings.db_statement_timeout_ms) as conn:
        yield conn


# scope="function": the transaction ends (and the connection returns to the pool)
# as soon as the endpoint returns, before the response is sent.
UserConnection = Annotated[AsyncConnection, Depends(user_connection, scope="function")]


@dataclass(frozen=True)
class UserQueries:
    """Single-statement requests as `authenticated` with the user's claims, one round trip each."""

    pool: AsyncConnectionPool
    claims: dict[str, Any]
    statement_timeout_ms: int

    async def json_text(self, query: sql.Composable) -> str:
        """The json that `query` (one row, one json or jsonb column) returns, as its text."""
        return await json_text_as(self.pool, "authenticated", self.claims, self.statement_timeout_ms, query)

    async def row(self, query: sql.Composable) -> tuple[Any, ...]:
        """The one row `query` returns (json and jsonb columns as their text)."""
        return await row_as(self.pool, "authenticated", self.claims, self.statement_timeout_ms, query)


async def user_queries(pool: Pool, user: CurrentUser, settings: AppSettings) -> UserQueries:
    return UserQueries(pool, user.claims, settings.db_statement_timeout_ms)


AsUser = Annotated[UserQueries, Depends(user_queries)]
